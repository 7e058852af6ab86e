"""The running set of simulators sharing one evidence store: what ``simulators up`` serves to an editor, and what
a recette run starts so that every exchange lands in the run's trace and bundle."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

from harness.simulators.base import SimulatorError

# name → (package, mss-dependent). Start order: MSS first (the peer DCC and the DPI receive through it).
SIMULATORS: dict[str, tuple[str, bool]] = {
    "mss": ("harness.simulators.mss", False),
    "insi": ("harness.simulators.insi", False),
    "dmp": ("harness.simulators.dmp", False),
    "psc": ("harness.simulators.psc", False),
    "annuaire": ("harness.simulators.annuaire", False),
    "peer_dcc": ("harness.simulators.peer_dcc", True),
    "dpi": ("harness.simulators.dpi", True),
}
CONFIG_KEYS = {"host", "evidence_dir", "simulators"}
SIMULATOR_KEYS = {"enabled", "port", "options", "faults"}


def simulator_class(package: str) -> type | None:
    """The Simulator subclass a package provides, or None when that simulator is not in this installation."""
    from harness.simulators.base import Simulator

    for module_name in (package, f"{package}.server", f"{package}.simulator"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name is not None and (
                module_name == error.name or module_name.startswith(error.name + ".")
            ):
                continue  # that module does not exist here; a missing import *inside* it is a real error
            raise
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, Simulator)
                and not inspect.isabstract(value)
                and value.__module__.startswith(package)
            ):
                return value
    return None


class Stack:
    """The running simulators, in start order, sharing one evidence store (one trace for the session)."""

    def __init__(self, config: dict[str, Any], host: str, evidence: Any = None) -> None:
        from harness.simulators.evidence import EvidenceStore

        self.config, self.host = config, host
        self.evidence_dir = Path(config.get("evidence_dir") or Path.cwd() / "simulators-evidence")
        self.evidence = evidence if evidence is not None else EvidenceStore(self.evidence_dir)
        self._write_trace = evidence is None  # a run's own store is written into its bundle by the run
        self.running: dict[str, Any] = {}

    def start(self) -> None:
        from harness.simulators.faults import FaultPlan

        sections = self.config.get("simulators") or {}
        for name, (package, needs_mss) in SIMULATORS.items():
            section = sections.get(name) or {}
            if section.get("enabled", True) is False:
                continue
            cls = simulator_class(package)
            if cls is None:
                continue
            options = dict(section.get("options") or {})
            if needs_mss:
                if "mss" not in self.running:
                    continue
                options["mss"] = self.running["mss"]
            try:
                faults = FaultPlan.from_config(section.get("faults") or [])
                sim = cls(
                    evidence=self.evidence,
                    faults=faults,
                    host=self.host,
                    port=int(section.get("port", 0)),
                    **options,
                )
                sim.start()
            except (TypeError, ValueError, OSError, RuntimeError) as error:
                self.stop()
                raise SimulatorError(f"simulators.{name}: cannot start ({error})") from None
            self.running[name] = sim

    def stop(self) -> None:
        for sim in reversed(list(self.running.values())):
            try:
                sim.stop()
            except Exception as error:  # one simulator failing to stop must not keep the others up
                print(f"warning: {sim.name}: {error}", file=sys.stderr)
        if self.running and self._write_trace:
            self.evidence_dir.mkdir(parents=True, exist_ok=True)
            self.evidence.write_trace(self.evidence_dir / "trace.jsonl")
        self.running = {}

    def endpoints(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, sim in self.running.items():
            key = {"mss": "mss_smtp", "psc": "psc_issuer", "annuaire": "annuaire_fhir"}.get(name, name)
            url = sim.base_url
            if name == "annuaire":
                url += "/fhir/v2"
            for attribute in ("issuer",) if name == "psc" else ("endpoint_url", "soap_url"):
                value = getattr(sim, attribute, None)
                if isinstance(value, str) and value:
                    url = value
                    break
            out[key] = url
        if (
            "annuaire" in self.running
        ):  # the FHIR API wants an ESANTE-API-KEY header; any value unless configured
            out["annuaire_api_key"] = self.running["annuaire"].api_key or "recette-dcc"
        if (
            "dmp" in self.running
        ):  # the acting professional's PSC trust-space token the DCC presents to the DMP
            out["dmp_token"] = self._dmp_token()
        if self.running:
            # retries of the outbox a scenario can wait for (the default backoff is seconds)
            out["outbox_backoff_s"] = "0.05"
        if "peer_dcc" in self.running:
            out["peer_dcc_bal"] = self.running["peer_dcc"].address
        if "dpi" in self.running:
            dpi = self.running["dpi"]
            out["dpi_gateway_bal"] = dpi.address
            # the contextual call's shared secret and ids: the DCC verifies what the DPI signs (AUTH.05)
            out["dpi_contextual_secret"] = dpi.secret
            out["dpi_issuer"] = dpi.issuer
            out["dpi_audience"] = dpi.audience
        if (
            "psc" in self.running
        ):  # the DCC's client at the provider (its secret: a test value of the simulator)
            client_id, client = next(iter(self.running["psc"].clients.items()))
            out["psc_client_id"] = client_id
            out["psc_client_secret"] = str(client.get("secret", ""))
        return out

    def _dmp_token(self) -> str:
        """A token of the PSC simulator's first practitioner (signed by it when it runs; the DMP simulator of a
        stack reads it unverified otherwise), valid for the session."""
        import time

        import jwt

        claims = {
            "sub": "f:810001234567",
            "SubjectNameID": "810001234567",
            "token_use": "psc_trust_space",
            "exp": int(time.time()) + 12 * 3600,
        }
        if "psc" in self.running:
            return str(self.running["psc"].sign(claims))
        return jwt.encode(claims, "recette-dcc-dmp-token-unverified", algorithm="HS256")


# The environment variables a DCC reads to find each simulator: the reference DCC reads exactly these, and
# ``simulators up`` prints them for an editor to paste into their DCC's configuration.
ENVIRONMENT = {
    "insi": "DCC_INSI_URL",
    "dmp": "DCC_DMP_URL",
    "dmp_token": "DCC_DMP_TOKEN",
    "mss_smtp": "DCC_MSS_SMTP",
    "psc_issuer": "DCC_PSC_URL",
    "annuaire_fhir": "DCC_ANNUAIRE_URL",
    "annuaire_api_key": "DCC_ANNUAIRE_API_KEY",
    "peer_dcc_bal": "DCC_PEER_DCC_BAL",
    "outbox_backoff_s": "DCC_OUTBOX_BACKOFF_S",
    "dpi_gateway_bal": "DCC_DPI_GATEWAY_BAL",
    "psc_client_id": "DCC_PSC_CLIENT_ID",
    "psc_client_secret": "DCC_PSC_CLIENT_SECRET",
    "dpi_contextual_secret": "DCC_CONTEXTUAL_SECRET",
    "dpi_issuer": "DCC_CONTEXTUAL_ISSUERS",
    "dpi_audience": "DCC_CONTEXTUAL_AUDIENCE",
}


# Outbox timings for a recette run: a transmission that failed against a simulator (TRANS.04/05 inject the
# failure) is retried within the scenario's bounded wait, not after the production backoff of seconds to an hour.
RECETTE_OUTBOX = {
    "DCC_OUTBOX_BACKOFF_S": "0.05",
    "DCC_OUTBOX_BACKOFF_MAX_S": "0.2",
    "DCC_OUTBOX_IN_DOUBT_S": "0.2",
}


def environment(endpoints: dict[str, str]) -> dict[str, str]:
    found = {ENVIRONMENT[k]: v for k, v in endpoints.items() if k in ENVIRONMENT}
    if "mss_smtp" in endpoints or "dmp" in endpoints:
        found.update(RECETTE_OUTBOX)
    return found


def config_snippet(endpoints: dict[str, str]) -> str:
    """Environment lines an editor pastes into their DCC's configuration."""
    return "\n".join(f"{name}={value}" for name, value in environment(endpoints).items())
