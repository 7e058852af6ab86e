"""The REM (Référentiel d'Exigences Minimales): its model, the spreadsheet loader, the statement parser, the diff.

Imports flow one way: ``rem`` imports nothing from ``rules``, ``harness``, ``scenarios``, ``proofs`` or ``dcc``.
"""
