"""Steps shared by the AUTH, PSC and CGU scenarios: accounts with a TOTP the harness computes (its own
authenticator app), the harness as the browser of a Pro Santé Connect login, and the hospital record's contextual
call. Names are made unique per call: over HTTP every scenario of every run shares one DCC database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyotp

from harness.simulators.dpi.contextual import issue_token
from scenarios.context import ScenarioContext

PASSWORD = "Recette-DCC-2026!"  # 17 characters: the reference DCC asks for 12 at least
PRACTITIONER_RPPS = "10001234567"  # the PSC simulator's first test practitioner (MEDECIN Alice, e-CPS)
DMP_PATIENT_INS = ("279035121518989", "1.2.250.1.213.1.4.8")  # known to the DMP simulator


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_user(
    ctx: ScenarioContext, role: str = "medecin", user_kind: str = "etablissement", prefix: str = "user"
) -> dict[str, Any]:
    """An account created by an administrator, its TOTP enrolled; the answer keeps the password for the steps."""
    created = ctx.dcc.call(
        "auth_create_user",
        username=unique(prefix),
        role=role,
        password=PASSWORD,
        author="admin-recette",
        user_kind=user_kind,
    )
    return {**created, "password": PASSWORD}


def totp(user: dict[str, Any], at: datetime | None = None) -> str:
    """The code the user's authenticator app shows (from the enrolment URI, as a phone reads the QR code)."""
    generator = pyotp.parse_uri(user["otpauth_uri"])
    return generator.at(at or datetime.now(UTC))


def wrong_code(user: dict[str, Any]) -> str:
    """A 6-digit code that is none of the codes valid around now (no accidental success)."""
    generator = pyotp.parse_uri(user["otpauth_uri"])
    now = datetime.now(UTC)
    valid = {generator.at(now + timedelta(seconds=30 * k)) for k in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(100000, 1000000, 7919)) if c not in valid)


def login(
    ctx: ScenarioContext, user: dict[str, Any], otp: str | None = "now", at: datetime | None = None, **kw: Any
) -> dict[str, Any]:
    """A password (+ TOTP) login; ``otp="now"`` computes the current code, ``at`` moves the test clock."""
    code = totp(user, at) if otp == "now" else otp
    return ctx.dcc.call(
        "auth_password_login",
        username=user["user_id"],
        password=kw.get("password", user["password"]),
        otp=code,
        at=at.isoformat() if at else None,
    )


def psc_login(ctx: ScenarioContext, login_hint: str | None = PRACTITIONER_RPPS) -> dict[str, Any]:
    """A Pro Santé Connect login with the harness as the browser: the DCC's authorisation URL is opened at the
    provider, whose redirect (code and state, or an error) is brought back to the DCC's callback with the state
    cookie the DCC gave this browser."""
    begun = ctx.dcc.call("auth_psc_begin", login_hint=login_hint)
    try:
        response = httpx.get(begun["authorization_url"], follow_redirects=False, timeout=10)
    except httpx.HTTPError as error:
        return {"result": "failure", "reason": f"provider unreachable: {error}", "redirect": None}
    location = response.headers.get("location")
    if response.status_code not in (302, 303) or not location:
        return {
            "result": "failure",
            "reason": f"provider answered HTTP {response.status_code}",
            "redirect": None,
        }
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    answer = ctx.dcc.call(
        "auth_psc_callback",
        browser_state=begun["browser_state"],
        code=query.get("code"),
        state=query.get("state"),
        error=query.get("error"),
    )
    return {**answer, "redirect": {k: v for k, v in query.items() if k != "code"}}


class misbehaving:
    """The PSC simulator answers wrongly on purpose while in the block (``state``, ``nonce``, ``signature``,
    ``acr``); it is always put back, the simulators being shared by the scenarios of a run."""

    def __init__(self, ctx: ScenarioContext, *modes: str) -> None:
        self.sim = ctx.simulator("psc")
        self.modes = set(modes)

    def __enter__(self) -> None:
        self.saved = set(self.sim.misbehave)
        self.sim.misbehave = set(self.modes)

    def __exit__(self, *_exc: object) -> None:
        self.sim.misbehave = self.saved


def contextual_call(ctx: ScenarioContext, patient_ins: str, rpps: str = PRACTITIONER_RPPS) -> dict[str, Any]:
    """The hospital record's simulator issues a signed contextual call opening the DCC on a patient."""
    user = {"idnat": "8" + rpps, "rpps": rpps, "family": "MEDECIN", "given": "Alice"}
    return ctx.simulator("dpi").contextual_call(user, {"ins": patient_ins, "ipp": unique("IPP")}, mode="open")


def forged_call(ctx: ScenarioContext, patient_ins: str, rpps: str = PRACTITIONER_RPPS) -> str:
    """A contextual-call token like the DPI's but signed with another key: the DCC must refuse it. Made here, not
    by the DPI simulator, so that the trace's ``dpi.contextual_call`` events are only the genuine calls."""
    dpi = ctx.simulator("dpi")
    token, _claims = issue_token(
        secret="not-the-secret-shared-with-the-dcc-" + uuid.uuid4().hex,
        issuer=dpi.issuer,
        audience=dpi.audience,
        user={"idnat": "8" + rpps, "rpps": rpps},
        patient={"ins": patient_ins},
    )
    return token


def qualified_patient(
    ctx: ScenarioContext, traits: dict[str, Any], ins: tuple[str, str] = DMP_PATIENT_INS
) -> dict[str, Any]:
    """A patient whose INS is qualifiée (the DMP takes no other, a contextual call names the patient by it): typed
    with its INS, validated on an identity card, qualified."""
    matricule, oid = ins
    patient = ctx.dcc.create_patient(traits, ins_matricule=matricule, ins_oid=oid)
    ctx.dcc.change_identity_status(patient["patient_id"], "validee", justificatif="carte_identite")
    return ctx.dcc.change_identity_status(patient["patient_id"], "qualifiee")


def events_of(ctx: ScenarioContext, *prefixes: str) -> list[dict[str, Any]]:
    return [e for e in ctx.dcc.events() if e["type"].startswith(prefixes)]


def received(ctx: ScenarioContext, source: str) -> list[dict[str, Any]]:
    return [{"type": e.type, "time": e.time, "data": e.data} for e in ctx.received(source)]


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)
