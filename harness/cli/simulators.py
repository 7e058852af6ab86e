"""``dcc-recette simulators up | status``: the national-service simulators as real servers on loopback, for an
editor pointing their DCC at them (or a CI job), with the endpoints and a config snippet to paste.

``up`` starts every simulator that exists in this installation (never a placeholder endpoint), writes a state file
that ``status`` reads to check each endpoint answers, and stops them all cleanly on SIGINT/SIGTERM, writing the
trace (``trace.jsonl``) of everything they received into the evidence directory.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import smtplib
import threading
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.cli.errors import CliError
from harness.simulators.base import SimulatorError
from harness.simulators.stack import CONFIG_KEYS, SIMULATOR_KEYS, SIMULATORS, Stack, config_snippet

HEALTH_PATHS = {"annuaire_fhir": "/metadata", "peer_dcc": "/frcp", "dpi": "/documents"}  # by endpoint key


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("simulators", help="run the national-service simulators on loopback")
    commands = parser.add_subparsers(dest="simulators_command", metavar="SUBCOMMAND", required=True)
    up = commands.add_parser("up", help="start every simulator, print the endpoints, run until Ctrl-C")
    up.add_argument(
        "--config", type=Path, help="YAML: host, evidence_dir, simulators.<name>.{port,options,faults}"
    )
    up.add_argument("--json", action="store_true", help="print one JSON line of endpoints once all listen")
    up.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    up.add_argument("--state", type=Path, default=None, help="state file (default: under $XDG_RUNTIME_DIR)")
    up.set_defaults(handler=cmd_up)
    status = commands.add_parser("status", help="check that each endpoint of a running `up` answers")
    status.add_argument("--state", type=Path, default=None)
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)


def default_state_path() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or str(Path.cwd() / ".cache")
    return Path(base) / "dcc-recette" / "simulators.json"


def load_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CliError(f"{path}: cannot read ({error})") from None
    if not isinstance(data, dict):
        raise CliError(f"{path}: expected a mapping with {', '.join(sorted(CONFIG_KEYS))}")
    for key in data:
        if key not in CONFIG_KEYS:
            raise CliError(f"{path}: unknown key {key!r} (known: {', '.join(sorted(CONFIG_KEYS))})")
    for name, section in (data.get("simulators") or {}).items():
        if name not in SIMULATORS:
            raise CliError(f"{path}: simulators.{name}: unknown simulator (known: {', '.join(SIMULATORS)})")
        if not isinstance(section, dict):
            raise CliError(f"{path}: simulators.{name}: expected a mapping")
        for key in section:
            if key not in SIMULATOR_KEYS:
                raise CliError(
                    f"{path}: simulators.{name}.{key}: unknown key (known: {', '.join(sorted(SIMULATOR_KEYS))})"
                )
    return data


def cmd_up(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    host = args.host or config.get("host") or "127.0.0.1"
    state = args.state or default_state_path()
    stack = Stack(config, host)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            stack.start()
        except SimulatorError as error:
            raise CliError(str(error)) from None
        if not stack.running:
            raise CliError("no simulator could be started")
        endpoints = stack.endpoints()
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(
            json.dumps({"pid": os.getpid(), "endpoints": endpoints}, sort_keys=True, indent=2),
            encoding="utf-8",
        )
        if args.json:
            print(json.dumps(endpoints, sort_keys=True), flush=True)
        else:
            print("simulators listening:")
            for key, url in endpoints.items():
                print(f"  {key:16} {url}")
            print(f"\nconfig snippet for your DCC:\n{config_snippet(endpoints)}\n")
            print(f"state: {state}; evidence: {stack.evidence_dir}; Ctrl-C stops them", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        stack.stop()
        state.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not args.json:
        print("simulators stopped", flush=True)
    return 0


def check(key: str, url: str, timeout: float = 3.0) -> str | None:
    """None when the endpoint answers, else the reason (an SMTP greeting, or any HTTP response)."""
    try:
        if url.startswith("smtp://"):
            host, _, port = url.removeprefix("smtp://").rpartition(":")
            with smtplib.SMTP(host, int(port), timeout=timeout) as client:
                code, _ = client.noop()
            return None if code == 250 else f"NOOP answered {code}"
        if url.startswith("http"):
            httpx.get(url.rstrip("/") + HEALTH_PATHS.get(key, ""), timeout=timeout)
            return None
        return None  # mailbox addresses are not endpoints
    except (OSError, smtplib.SMTPException, httpx.HTTPError) as error:
        return f"{type(error).__name__}: {error}"


def cmd_status(args: argparse.Namespace) -> int:
    state = args.state or default_state_path()
    try:
        recorded = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise CliError(
            f"{state}: no running `dcc-recette simulators up` (state file missing or unreadable)"
        ) from None
    results = {key: check(key, url) for key, url in sorted(recorded["endpoints"].items()) if "://" in url}
    if args.json:
        print(
            json.dumps(
                {
                    k: {"url": recorded["endpoints"][k], "up": v is None, "error": v}
                    for k, v in results.items()
                },
                sort_keys=True,
            )
        )
    else:
        for key, error in results.items():
            print(
                f"{key:16} {'up  ' if error is None else 'DOWN'} {recorded['endpoints'][key]}"
                + ("" if error is None else f"  ({error})")
            )
    return 0 if all(v is None for v in results.values()) else 1
