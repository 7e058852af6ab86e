"""Schematron (ISO 19757-3, queryBinding xslt2) compiled to XSLT 3 and run on Saxon HE.

The ANS schematrons need XPath 2 (lxml's isoschematron is XSLT 1) and the ISO skeleton / SchXslt stylesheets are
third-party code we do not copy, so the three classic steps (include, abstract expansion, SVRL generation) are
written here: ``include.py``, ``abstract.py``, ``compile.py``; ``svrl.py`` reads the report back.
"""

from harness.cda.schematron.compile import COMPILER_VERSION, CompiledSchematron, compile_schematron
from harness.cda.schematron.svrl import AssertFailure, parse_svrl

__all__ = ["COMPILER_VERSION", "AssertFailure", "CompiledSchematron", "compile_schematron", "parse_svrl"]
