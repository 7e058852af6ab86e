"""CDA validation as the ANS testContenuCDA chain does it: XML Schema (lxml), then Schematrons (our XSLT 3 compiler
on Saxon HE). ``Validator`` is the stable API the reference DCC's tests and the recette use.
"""

from harness.cda.cisis import CisisNotFound, find_cisis_dir
from harness.cda.report import CdaReport
from harness.cda.schematron.svrl import AssertFailure
from harness.cda.validate import Validator
from harness.cda.xsd import XsdError

__all__ = ["AssertFailure", "CdaReport", "CisisNotFound", "Validator", "XsdError", "find_cisis_dir"]
