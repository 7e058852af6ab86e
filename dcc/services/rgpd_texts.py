"""Setting the information texts of an establishment (cahier des charges 2.1.1.3, RGPD.02–03): text 1 may be
adapted by an establishment (FINESS) under its responsibility and is then used for the documents produced for it;
text 2, the Institut national du cancer's, is taken word for word from the cahier des charges and cannot be
changed — an attempt is refused before anything is written.

``settings.rgpd_text_changed`` (finess, text, text_sha256) is what the RGPD rules read; ``text_sha256`` is the
SHA-256 of the stored text, the same as ``document.rendered``'s ``rgpd_text1_sha256`` read back from the CDA."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcc import audit, events, faults, rgpd
from dcc.db.models_rgpd import RgpdText

FINESS = re.compile(r"^[0-9]{9}$")
MAX_LENGTH = 5000

FAULT_TEXT2_EDITABLE = faults.register(
    "rgpd_text2_editable",
    "the INCa's text 2 can be changed in the information texts' settings",
    breaks=["RGPD.02"],
)
FAULT_TEXT1_NOT_PER_ESTABLISHMENT = faults.register(
    "rgpd_text1_not_per_establishment",
    "the text 1 an establishment adapted is not looked up for its documents: they keep the cahier des charges' text",
    breaks=["RGPD.03"],
)


class RgpdTextError(ValueError):
    """A refused change of an information text; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def set_text(session: Session, finess: str, text: int, content: str, author: str) -> RgpdText:
    """Sets text ``text`` (1 or 2) of establishment ``finess``. Text 2 is refused (``text_2_fixed``)."""
    if text not in (1, 2):
        raise RgpdTextError("unknown_text", f"text {text!r}: 1 (adaptable) or 2 (INCa, fixed)")
    if text == 2 and not faults.active(FAULT_TEXT2_EDITABLE.name):
        raise RgpdTextError(
            "text_2_fixed", "text 2 is the Institut national du cancer's, word for word: it cannot be changed"
        )
    if not FINESS.match(finess or ""):
        raise RgpdTextError("invalid_finess", f"finess {finess!r}: 9 digits")
    content = (content or "").strip()
    if not content:
        raise RgpdTextError(
            "empty_text", f"text {text}: empty (delete the adaptation to use the default text)"
        )
    if len(content) > MAX_LENGTH:
        raise RgpdTextError("too_long", f"text {text}: longer than {MAX_LENGTH} characters")
    row = session.scalar(select(RgpdText).where(RgpdText.finess == finess, RgpdText.text == text))
    before = {"content": row.content} if row is not None else None
    if row is None:
        row = RgpdText(
            finess=finess, text=text, content=content, updated_at=datetime.now(UTC), updated_by=author
        )
        session.add(row)
    else:
        row.content, row.updated_at, row.updated_by = content, datetime.now(UTC), author
    session.flush()
    events.emit(
        session,
        "settings.rgpd_text_changed",
        finess=finess,
        text=text,
        text_sha256=sha256(content),
        author=author,
    )
    audit.record(
        session,
        author,
        "settings.rgpd_text_changed",
        "rgpd_text",
        f"{finess}/{text}",
        before,
        {"content": content},
    )
    return row


def _stored(session: Session, finess: str | None, text: int) -> str | None:
    if not finess:
        return None
    return session.scalar(select(RgpdText.content).where(RgpdText.finess == finess, RgpdText.text == text))


def text_1(session: Session, finess: str | None) -> str:
    """Text 1 of a document produced for ``finess``: the establishment's adapted text, else the default."""
    adapted = None if faults.active(FAULT_TEXT1_NOT_PER_ESTABLISHMENT.name) else _stored(session, finess, 1)
    return rgpd.texts(adapted)[0]


def text_2(session: Session, finess: str | None) -> str:
    """Text 2: always the INCa's (a stored one exists only if a change was wrongly accepted)."""
    return _stored(session, finess, 2) or rgpd.TEXT_2


def settings_view(session: Session, finess: str) -> dict[str, object]:
    """What the settings screen shows for an establishment: text 1 (adapted or not, editable), text 2 (fixed)."""
    adapted = _stored(session, finess, 1)
    return {
        "finess": finess,
        "text_1": text_1(session, finess),
        "text_1_adapted": adapted is not None,
        "text_1_editable": True,
        "text_2": text_2(session, finess),
        "text_2_editable": faults.active(FAULT_TEXT2_EDITABLE.name),
    }
