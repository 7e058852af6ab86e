"""Fixtures of the authentication tests: the Pro Santé Connect simulator on a real loopback socket (the DCC's
client talks to it with httpx, never in-process), settings pointing at it, accounts, and the event journal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import select

from dcc.auth import accounts, local
from dcc.auth.config import AuthSettings
from dcc.auth.psc import PscClient
from dcc.db.models import DccEvent, Patient
from harness.simulators.evidence import EvidenceStore
from harness.simulators.psc import PscSimulator

REDIRECT = "http://127.0.0.1:9/auth/psc/callback"  # never dereferenced: the test carries the code back
SECRET = "a-secret-shared-with-the-dpi-simulator"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def start_psc() -> Iterator[Callable[..., PscSimulator]]:
    """Starts a PSC simulator with the given options (``misbehave``, ``token_ttl_s``…); stopped after the test."""
    started: list[PscSimulator] = []

    def start(**options) -> PscSimulator:
        sim = PscSimulator(evidence=EvidenceStore(), **options)
        sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def psc_sim(start_psc) -> PscSimulator:
    return start_psc()


def settings_for(sim: PscSimulator | None = None, **over) -> AuthSettings:
    values = dict(
        psc_url=sim.issuer if sim is not None else None,
        psc_client_secret="secret",
        psc_redirect_uri=REDIRECT,
        contextual_secret=SECRET,
        cookie_secure=False,
        lockout_threshold=3,
    )
    values.update(over)
    return AuthSettings(**values)


def psc_round_trip(client: PscClient, session, login_hint: str = "10001234567", now: datetime | None = None):
    """begin → the provider's authorize endpoint over the socket → complete, as a browser would carry it."""
    url, pending = client.begin(session, REDIRECT, login_hint, now=now)
    answer = httpx.get(url, follow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)
    params = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
    return client.complete(
        session, params.get("state"), pending.state, params.get("code"), params.get("error"), now=now
    )


def journal(session, type_: str) -> list[dict]:
    return [
        e.data for e in session.scalars(select(DccEvent).where(DccEvent.type == type_).order_by(DccEvent.id))
    ]


def local_account(session, username: str, role: str = "medecin", **kwargs):
    account = accounts.create_account(session, username, username.title(), role, "admin", **kwargs)
    uri = local.set_credentials(session, account, PASSWORD, "admin")
    return account, uri


def patient(session, nom: str = "DUPONT") -> Patient:
    row = Patient(
        nom_naissance=nom,
        prenoms="JEAN",
        sexe="M",
        date_naissance="1960-01-01",
        identity_status="provisoire",
        mode="saisie",
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row
