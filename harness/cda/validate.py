"""The ANS chain on one document: XML Schema, the five profiles, then the volet's schematron.

Each Validator owns its Saxon processor (saxonche is not thread-safe across processors: one per process) and
compiles each schematron once, lazily, from the on-disk cache of generated XSLT.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree
from saxonche import PySaxonApiError, PySaxonProcessor

from harness.cda.cache import SchematronCache
from harness.cda.cisis import CisisDir, find_cisis_dir
from harness.cda.report import CdaReport
from harness.cda.schematron.compile import PRELOADED_PARAM
from harness.cda.schematron.include import SchematronError
from harness.cda.schematron.svrl import parse_svrl
from harness.cda.volets import PROFILES, detect, find_clinical_document
from harness.cda.xmlsafe import MAX_BYTES, UnsafeDocument, parse, read_bytes
from harness.cda.xsd import XsdValidator

_LITERAL = re.compile(r"'([^'<>\s]+?(?:\.xml|\.rdf|/))'")
PRELOAD_LIMIT = 64 * 1024 * 1024  # bytes of value sets / code systems kept parsed per Validator


def preload_candidates(xslt: str, schematron: Path) -> list[Path]:
    """Files a schematron reads with document()/doc(): its .xml/.rdf literals, and every file of a folder literal
    (terminologie.sch builds ``concat('../terminologie/', $codeSystem, '.rdf')``)."""
    found: list[Path] = []
    for literal in dict.fromkeys(_LITERAL.findall(xslt)):
        target = (schematron.parent / literal).resolve()
        if literal.endswith("/"):
            if target.is_dir():
                found.extend(sorted(p for p in target.iterdir() if p.suffix in (".xml", ".rdf")))
        elif target.is_file():
            found.append(target)
    return found


class Validator:
    def __init__(
        self,
        cisis_dir: str | Path | None = None,
        cache_dir: str | Path | None = None,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.cisis: CisisDir = find_cisis_dir(cisis_dir)
        self.cache = SchematronCache(Path(cache_dir) if cache_dir else None)
        self.max_bytes = max_bytes
        self._processor = PySaxonProcessor(license=False)
        self._xslt = self._processor.new_xslt30_processor()
        self._executables: dict[str, object] = {}
        self._xsd: XsdValidator | None = None
        self._preloaded: dict[str, object] = {}  # file URI -> parsed document, shared by all schematrons
        self._preloaded_bytes = 0
        self.saxon_compiles = 0

    @property
    def xsd(self) -> XsdValidator:
        if self._xsd is None:
            self._xsd = XsdValidator(self.cisis.xsd)
        return self._xsd

    def executable(self, schematron: str):
        """The compiled stylesheet for a schematron path under ``schematrons/`` (compiled once per Validator)."""
        if schematron not in self._executables:
            path = self.cisis.schematrons / schematron
            _key, xslt = self.cache.get(path)
            try:
                executable = self._xslt.compile_stylesheet(stylesheet_text=xslt)
            except PySaxonApiError as error:
                raise SchematronError(f"{schematron}: generated XSLT does not compile: {error}") from error
            self.saxon_compiles += 1
            documents = self._preload(preload_candidates(xslt, path))
            if documents:
                executable.set_parameter(PRELOADED_PARAM, self._processor.make_map2(documents))
            self._executables[schematron] = executable
        return self._executables[schematron]

    def _preload(self, files: list[Path]) -> dict[str, object]:
        documents = {}
        for file in files:
            uri = file.as_uri().replace("file:///", "file:/", 1)  # the form Saxon's resolve-uri() gives
            if uri not in self._preloaded:
                size = file.stat().st_size
                if self._preloaded_bytes + size > PRELOAD_LIMIT:
                    continue  # left to document() at run time
                try:
                    self._preloaded[uri] = self._processor.parse_xml(xml_file_name=str(file))
                except PySaxonApiError:
                    continue  # an unreadable value set fails the same way through document()
                self._preloaded_bytes += size
            documents[uri] = self._preloaded[uri]
        return documents

    def warm_up(self, schematrons: list[str] | None = None) -> None:
        for schematron in schematrons or [*PROFILES]:
            self.executable(schematron)

    def run_schematron(self, schematron: str, node) -> list:
        output = self.executable(schematron).transform_to_string(xdm_node=node)
        return parse_svrl(output or "<empty/>", schematron.rsplit("/", 1)[-1])

    def validate(
        self, source: str | Path | bytes, name: str | None = None, profiles: bool = True
    ) -> CdaReport:
        report = CdaReport(file=name or (str(source) if not isinstance(source, bytes) else "<bytes>"))
        try:
            tree = parse(read_bytes(source, self.max_bytes))
        except UnsafeDocument as error:
            report.error = str(error)
            return report
        clinical_document = find_clinical_document(tree.getroot())
        if clinical_document is None:
            report.error = (
                f"not a CDA: root element {tree.getroot().tag} holds no urn:hl7-org:v3 ClinicalDocument"
            )
            return report
        if clinical_document is not tree.getroot():
            report.notes.append("self-presenting document: ClinicalDocument inside " + tree.getroot().tag)
        report.xsd_errors = self.xsd.validate(tree)
        volet = detect(clinical_document, self.cisis.schematrons)
        report.volet = volet.name
        report.template = (volet.template_root, volet.template_extension)
        if volet.note:
            report.notes.append(volet.note)
        chain = [*(PROFILES if profiles else ()), *([volet.schematron] if volet.schematron else [])]
        # Saxon gets the ClinicalDocument alone, re-serialised without DOCTYPE: absolute rule contexts
        # (/cda:ClinicalDocument) then hold for a self-presenting document too.
        text = etree.tostring(clinical_document, encoding="unicode")
        try:
            node = self._processor.parse_xml(xml_text=text)
        except PySaxonApiError as error:
            report.error = f"Saxon could not read the document: {error}"
            return report
        for schematron in chain:
            try:
                report.schematron_failures.extend(self.run_schematron(schematron, node))
            except PySaxonApiError as error:
                report.error = f"{schematron}: dynamic error: {error}"
                return report
            report.schematrons.append(schematron)
        return report
