"""CGU and clause de confiance (cahier des charges 2.3.1, 2.3.2.3).

A professional accepts the CGU (which carry the clause de confiance) at first access, at least once a year from
then on, and whenever the CGU change. For a professional in an establishment, the establishment's convention with
the DSRC must also be in force. Without a clause, identity qualification steps are refused — but care goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import audit, events
from dcc.db.models import CguAcceptance, Convention
from dcc.db.models_auth import CguVersion

YEAR = timedelta(days=365)


@dataclass(frozen=True)
class CguRequirement:
    required: bool
    reason: str | None  # first_access, yearly, cgu_changed


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class CguError(ValueError):
    """A CGU or convention operation refused before writing; ``reason`` is stable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def in_force(session: Session, configured: str) -> str:
    """The CGU version in force: the latest published one, else the configured one (``DCC_CGU_VERSION``)."""
    latest = session.scalars(
        select(CguVersion).order_by(CguVersion.published_at.desc(), CguVersion.id.desc()).limit(1)
    ).first()
    return latest.version if latest is not None else configured


def publish(session: Session, version: str, author: str, now: datetime | None = None) -> CguVersion:
    """A new version of the CGU comes into force: every professional accepts it again at their next login."""
    version = version.strip()
    if not version or len(version) > 20:
        raise CguError("invalid_version", "cgu_version: 1 to 20 characters")
    if session.scalars(select(CguVersion).where(CguVersion.version == version)).first() is not None:
        raise CguError("version_exists", f"CGU version {version!r} was already published")
    row = CguVersion(version=version, published_at=now or datetime.now(UTC), published_by=author)
    session.add(row)
    session.flush()
    events.emit(session, "cgu.published", cgu_version=version, by=author)
    audit.record(session, author, "cgu.published", "cgu", version, None, {"cgu_version": version})
    return row


def record_convention(
    session: Session,
    finess: str,
    author: str,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> Convention:
    """The establishment's convention with the DSRC (clause de confiance, 2.3.1 cas 2) is recorded."""
    if not (len(finess) == 9 and finess.isdigit()):
        raise CguError("invalid_finess", f"finess {finess!r}: 9 digits")
    start = valid_from or datetime.now(UTC)
    if valid_until is not None and _aware(valid_until) <= _aware(start):
        raise CguError("invalid_period", "valid_until must follow valid_from")
    convention = Convention(finess=finess, valid_from=start, valid_until=valid_until)
    session.add(convention)
    session.flush()
    period = {
        "valid_from": start.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
    }
    events.emit(session, "convention.recorded", finess=finess, by=author, **period)
    audit.record(session, author, "convention.recorded", "convention", str(convention.id), None, period)
    return convention


def requirement(
    session: Session, user_id: str, current_version: str, now: datetime | None = None
) -> CguRequirement:
    now = now or datetime.now(UTC)
    last = session.scalars(
        select(CguAcceptance)
        .where(CguAcceptance.user_id == user_id)
        .order_by(CguAcceptance.at.desc(), CguAcceptance.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return CguRequirement(True, "first_access")
    if last.cgu_version != current_version:
        return CguRequirement(True, "cgu_changed")
    if now - _aware(last.at) > YEAR:
        return CguRequirement(True, "yearly")
    return CguRequirement(False, None)


def accept(
    session: Session, user_id: str, cgu_version: str, user_kind: str, now: datetime | None = None
) -> CguAcceptance:
    if user_kind not in ("liberal", "etablissement"):
        raise ValueError(f"user_kind {user_kind!r}: liberal or etablissement")
    acceptance = CguAcceptance(
        user_id=user_id, cgu_version=cgu_version, user_kind=user_kind, at=now or datetime.now(UTC)
    )
    session.add(acceptance)
    events.emit(session, "cgu.accepted", user_id=user_id, cgu_version=cgu_version, user_kind=user_kind)
    audit.record(
        session,
        user_id,
        "cgu.accepted",
        "user",
        user_id,
        None,
        {"cgu_version": cgu_version, "user_kind": user_kind},
    )
    session.flush()
    return acceptance


def convention_in_force(session: Session, finess: str, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    for convention in session.scalars(select(Convention).where(Convention.finess == finess)):
        if _aware(convention.valid_from) <= now and (
            convention.valid_until is None or now < _aware(convention.valid_until)
        ):
            return True
    return False


def trust_clause(
    session: Session,
    user_id: str,
    current_version: str,
    user_kind: str,
    finess: str | None = None,
    now: datetime | None = None,
) -> tuple[bool, str | None]:
    """(present, why not): CGU accepted and current for everyone; for an establishment user, the convention too."""
    pending = requirement(session, user_id, current_version, now)
    if pending.required:
        return False, f"cgu_{pending.reason}"
    if user_kind == "etablissement" and not (finess and convention_in_force(session, finess, now)):
        return False, "no_convention"
    return True, None
