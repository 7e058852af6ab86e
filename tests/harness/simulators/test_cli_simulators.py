"""``dcc-recette simulators up | status``: a real process, its JSON line of endpoints, each endpoint answering,
clean shutdown on SIGINT with the trace written; configuration errors name the key."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from harness.cli import main

REPO = Path(__file__).resolve().parents[3]


def read_line(stream, timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""


@pytest.fixture
def running(tmp_path):
    state = tmp_path / "state.json"
    config = tmp_path / "simulators.yaml"
    config.write_text(
        f"evidence_dir: {tmp_path / 'evidence'}\n"
        "simulators:\n"
        "  mss:\n"
        "    options: {mailboxes: {bal.dcc@dcc-region.mssante.fr: APP}}\n"
        "  annuaire:\n"
        "    options: {api_key: k}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "simulators",
            "up",
            "--json",
            "--config",
            str(config),
            "--state",
            str(state),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        line = read_line(process.stdout, 60)
        assert line, process.stderr.read() if process.poll() is not None else "no endpoints line"
        yield process, json.loads(line), state, tmp_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_up_prints_endpoints_that_answer_and_stops_on_sigint(running, capsys):
    process, endpoints, state, tmp_path = running
    assert {"mss_smtp", "annuaire_fhir", "peer_dcc", "dpi"} <= set(endpoints)
    assert endpoints["mss_smtp"].startswith("smtp://127.0.0.1:")
    assert endpoints["dpi"].startswith("http://127.0.0.1:") and endpoints["peer_dcc"].startswith(
        "http://127.0.0.1:"
    )
    assert endpoints["peer_dcc_bal"] == "rcp@dcc-pair.mssante.fr"
    host, _, port = endpoints["mss_smtp"].removeprefix("smtp://").rpartition(":")
    with smtplib.SMTP(host, int(port), timeout=10) as client:
        assert client.ehlo()[0] == 250
    fhir = httpx.get(
        endpoints["annuaire_fhir"] + "/Practitioner",
        params={"identifier": "10000000001"},
        headers={"ESANTE-API-KEY": "k"},
        timeout=10,
    )
    assert fhir.json()["total"] == 1
    assert main(["simulators", "status", "--state", str(state)]) == 0
    out = capsys.readouterr().out
    assert "mss_smtp" in out and "DOWN" not in out
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
    assert not state.exists()
    trace = (tmp_path / "evidence" / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    assert any(json.loads(line)["type"] == "annuaire.search" for line in trace)


def test_status_without_a_running_up_is_a_usage_error(tmp_path, capsys):
    assert main(["simulators", "status", "--state", str(tmp_path / "none.json")]) == 2
    assert "no running" in capsys.readouterr().err


def test_status_reports_a_dead_endpoint(tmp_path, capsys):
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"pid": 1, "endpoints": {"mss_smtp": "smtp://127.0.0.1:9"}}), encoding="utf-8"
    )
    assert main(["simulators", "status", "--state", str(state)]) == 1
    assert "DOWN" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("colour: blue\n", "'colour'"),
        ("simulators:\n  smtp: {}\n", "simulators.smtp"),
        ("simulators:\n  mss: {prot: 1}\n", "simulators.mss.prot"),
        ("simulators: [\n", "cannot read"),
    ],
)
def test_bad_config_names_the_key(tmp_path, capsys, text, named):
    config = tmp_path / "bad.yaml"
    config.write_text(text, encoding="utf-8")
    assert main(["simulators", "up", "--config", str(config), "--state", str(tmp_path / "s.json")]) == 2
    assert named in capsys.readouterr().err


def test_unknown_simulator_option_is_a_usage_error(tmp_path, capsys):
    config = tmp_path / "typo.yaml"
    config.write_text(
        f"evidence_dir: {tmp_path / 'ev'}\nsimulators:\n  mss: {{options: {{retrun_smtp: x}}}}\n",
        encoding="utf-8",
    )
    assert main(["simulators", "up", "--config", str(config), "--state", str(tmp_path / "s.json")]) == 2
    assert "retrun_smtp" in capsys.readouterr().err


def test_faults_from_the_config_are_injected(tmp_path):
    """The fault plan of the YAML reaches the simulator: the first mail is refused (554), the second goes through."""
    from harness.cli.simulators import Stack, load_config

    config_path = tmp_path / "faults.yaml"
    config_path.write_text(
        f"evidence_dir: {tmp_path / 'ev'}\nsimulators:\n  mss:\n    faults: [{{mode: refuse, operation: DATA}}]\n",
        encoding="utf-8",
    )
    stack = Stack(load_config(config_path), "127.0.0.1")
    stack.start()
    try:
        host, _, port = stack.endpoints()["mss_smtp"].removeprefix("smtp://").rpartition(":")
        body = b"From: a@x.mssante.fr\r\nTo: b@y.mssante.fr\r\nSubject: t\r\n\r\nhello\r\n"
        with smtplib.SMTP(host, int(port), timeout=10) as client:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("a@x.mssante.fr", ["b@y.mssante.fr"], body)
            assert refused.value.smtp_code == 554
            assert client.sendmail("a@x.mssante.fr", ["b@y.mssante.fr"], body) == {}
    finally:
        stack.stop()
    assert (tmp_path / "ev" / "trace.jsonl").exists()


@pytest.mark.parametrize(
    ("faults", "named"),
    [
        ("[{mode: explode}]", "faults[0].mode"),
        ("[{mode: refuse, times: 0}]", "faults[0].times"),
        ("[{mode: refuse, when: now}]", "faults[0]: unknown field"),
    ],
)
def test_bad_fault_config_names_the_entry(tmp_path, capsys, faults, named):
    config = tmp_path / "bad-faults.yaml"
    config.write_text(
        f"evidence_dir: {tmp_path / 'ev'}\nsimulators:\n  mss:\n    faults: {faults}\n", encoding="utf-8"
    )
    assert main(["simulators", "up", "--config", str(config), "--state", str(tmp_path / "s.json")]) == 2
    assert named in capsys.readouterr().err
