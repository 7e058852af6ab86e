"""The REM (Référentiel d'Exigences Minimales): its model, the spreadsheet loader, the statement parser, the diff.

Imports flow one way: ``rem`` imports nothing from ``rules``, ``harness``, ``scenarios``, ``proofs`` or ``dcc``.
"""

from pathlib import Path

DEFAULT_REM_NAME = "REM_DCC_2025.01.xlsx"


def default_rem_path() -> Path:
    """Our REM DCC, shipped beside this package (``rem/REM_DCC_2025.01.xlsx``)."""
    return Path(__file__).resolve().parent / DEFAULT_REM_NAME
