"""Every fault of the authentication area names requirements that exist in the REM source and belong to the
chapters it touches (AUTH, PSC, CGU), and each has its test in this package."""

from __future__ import annotations

from pathlib import Path

import yaml

import dcc.auth  # noqa: F401 - registers the faults
from dcc import faults

ROOT = Path(__file__).resolve().parents[3]
AUTH_FAULTS = {
    "cgu_not_required_at_login",
    "contextual_dmp_without_psc",
    "contextual_replay_accepted",
    "contextual_signature_not_checked",
    "no_lockout",
    "password_only_accepted",
    "psc_acr_not_checked",
    "psc_acr_values_not_sent",
    "psc_nonce_not_checked",
    "psc_signature_not_checked",
    "psc_state_not_checked",
    "psc_userinfo_not_called",
    "totp_replay_accepted",
}


def rem_ids() -> set[str]:
    ids = set()
    for chapter in ("AUTH", "PSC", "CGU"):
        source = yaml.safe_load((ROOT / "rem" / "source" / f"{chapter}.yaml").read_text(encoding="utf-8"))
        ids |= {r["id"] for r in source["requirements"]}
    return ids


def test_faults_are_registered_and_break_real_requirements():
    assert AUTH_FAULTS <= set(faults.CATALOGUE)
    known = rem_ids()
    for name in AUTH_FAULTS:
        fault = faults.CATALOGUE[name]
        assert fault.breaks and set(fault.breaks) <= known, (name, fault.breaks)


def test_each_fault_is_exercised_by_a_test():
    tests = "".join(
        p.read_text(encoding="utf-8")
        for p in Path(__file__).parent.glob("test_*.py")
        if p.name != Path(__file__).name
    )
    for name in AUTH_FAULTS:
        assert name.upper() in tests, f"no test switches {name} on"
