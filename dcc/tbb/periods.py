"""Periods of the dashboard: a month (``2026-10``), a quarter (``2026-Q3``) or a year (``2026``).

Why months are the unit: every indicator is counted per calendar month once (the "cube", see ``dcc.tbb.extract``),
and any period the TBB asks for — the requested one, the current month, the current year, the previous year, the
INCa quarter — is a range of months summed from it. Months are UTC months (the DCC stores UTC timestamps on both
databases); docs/tbb.md says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """A period string that is not ``YYYY``, ``YYYY-MM`` or ``YYYY-Qn``."""

    reason = "bad_period"


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.match(text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise PeriodError(f"not a month YYYY-MM: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: date | datetime) -> Month:
        if isinstance(moment, datetime) and moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Period:
    """A closed range of months ``first..last`` with the label it was asked with."""

    label: str
    kind: str  # month, quarter, year, range
    first: Month
    last: Month

    @classmethod
    def parse(cls, text: str) -> Period:
        text = text.strip()
        if match := _QUARTER.match(text):
            year, quarter = int(match.group(1)), int(match.group(2))
            first = Month(year, 3 * quarter - 2)
            return cls(f"{year}-Q{quarter}", "quarter", first, first.plus(2))
        if match := _YEAR.match(text):
            year = int(match.group(1))
            return cls(str(year), "year", Month(year, 1), Month(year, 12))
        if _MONTH.match(text):
            try:
                month = Month.parse(text)
            except PeriodError:
                raise PeriodError(f"period {text!r}: the month must be 01 to 12") from None
            return cls(str(month), "month", month, month)
        raise PeriodError(f"period {text!r}: expected YYYY (year), YYYY-Qn (quarter) or YYYY-MM (month)")

    @classmethod
    def between(cls, label: str, first: Month, last: Month) -> Period:
        return cls(label, "range", first, last)

    def months(self) -> list[Month]:
        months, month = [], self.first
        while month <= self.last:
            months.append(month)
            month = month.plus(1)
        return months

    def start(self) -> datetime:
        return self.first.start()

    def end(self) -> datetime:
        """The exclusive upper bound: the first instant of the month after ``last``."""
        return self.last.plus(1).start()

    def contains(self, month: Month) -> bool:
        return self.first <= month <= self.last


def reference_month(period: Period, today: date | None = None) -> Month:
    """The "mois courant" of a dashboard for ``period``: its last month, or this month if the period is not over."""
    now = Month.of(today or datetime.now(UTC))
    return min(period.last, now)


def windows(period: Period, today: date | None = None) -> dict[str, Period]:
    """The windows every dashboard shows (TBB: "a minima mois courant, année courante, année précédente"), plus the
    requested period itself and the whole span they cover (previous year + current year to date)."""
    current = reference_month(period, today)
    year = current.year
    return {
        "period": period,
        "current_month": Period(str(current), "month", current, current),
        "current_year": Period.between(f"{year}-01..{current}", Month(year, 1), current),
        "previous_year": Period(str(year - 1), "year", Month(year - 1, 1), Month(year - 1, 12)),
        "span": Period.between(f"{year - 1}-01..{current}", Month(year - 1, 1), current),
    }
