"""The information texts an establishment set (cahier des charges 2.1.1.3): text 1 adapted under its
responsibility; text 2 is the INCa's and is never stored (it cannot be changed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dcc.db.base import Base


class RgpdText(Base):
    """The text number ``text`` of the establishment ``finess`` (one row per establishment and text)."""

    __tablename__ = "rgpd_text"
    __table_args__ = (UniqueConstraint("finess", "text", name="uq_rgpd_text_finess_text"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finess: Mapped[str] = mapped_column(String(9))
    text: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(64))
