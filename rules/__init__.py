"""Rules: REM requirements formalised as declarative DOIT / LORSQUE / SI rules, compiled and evaluated over a trace.

Imports: ``rules`` may import ``rem``; never ``harness``, ``scenarios``, ``proofs`` or ``dcc``.
"""
