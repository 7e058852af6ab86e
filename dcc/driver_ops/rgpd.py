"""Test-driver operations of the information texts' settings (cahier des charges 2.1.1.3, RGPD.02–03): an
establishment adapts its text 1; a change of text 2 is refused (``text_2_fixed``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dcc.driver import operation
from dcc.services import rgpd_texts


@operation(
    "set_rgpd_text",
    "PUT",
    "/driver/settings/rgpd-texts/{finess}/{text}",
    refusal=lambda _s, a: ("settings.rgpd_text_refused", {"finess": a.get("finess"), "text": a.get("text")}),
)
def set_rgpd_text(session: Session, finess: str, text: int, content: str, author: str) -> dict[str, Any]:
    """Set text 1 of an establishment's information texts (text 2 is refused: it cannot be changed)."""
    row = rgpd_texts.set_text(session, finess, int(text), content, author)
    return {"finess": row.finess, "text": row.text, "text_sha256": rgpd_texts.sha256(row.content)}


@operation("get_rgpd_texts", "GET", "/driver/settings/rgpd-texts/{finess}")
def get_rgpd_texts(session: Session, finess: str) -> dict[str, Any]:
    """The information texts' settings of an establishment, as the settings screen shows them."""
    return rgpd_texts.settings_view(session, finess)
