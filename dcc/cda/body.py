"""The structured body (CDA R2 N3) of an FRCP or a PPS: the sections each volet's schematron requires, the
« Statut du document » section, the two RGPD texts, attachments and the document's PDF copy.

Entries follow the ANS examples of the volets (ExemplesCDA/CANCER-*_2025.01): same templateIds, codes and value
sets, with only what the DCC actually knows; anything unknown is an explicit nullFlavor, never invented data.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import date

from lxml import etree

from dcc import faults, rgpd
from dcc.cda.model import AttachmentData, CareItem, CdaDocument
from dcc.cda.xml import CISIS, LOINC, NCIT, SNOMED, Ids, sub, ts

FAULT_STATUS_MISMATCH = faults.register(
    "cda_status_section_mismatch",
    "the « Statut du document » section states another status than the document's stored one",
    # the transmission and exchange scenarios read the status back from the produced CDA: faults --prove shows
    # TRANS.02, ECH.03 and ECH.04 break with it
    breaks=["CDA.05", "TRANS.02", "ECH.03", "ECH.04"],
)
FAULT_NO_PDF_COPY = faults.register(
    "cda_pps_without_pdf_copy",
    "the PPS CDA R2 N3 is written without its PDF copy (section FR-Document-PDF-copie)",
    # the PPS volet's schematron requires the section (CDA.02); the CDA N3 sent to the patient by MSS lacks it too
    breaks=["PRES.02", "CDA.02", "MSS/CIT.02"],
)
FAULT_FRCP_SECTION_MISSING = faults.register(
    "cda_frcp_section_missing",
    "the FRCP CDA R2 N3 is written without its mandatory « Raison de la recommandation » section",
    breaks=["CDA.01"],
)
FAULT_PPS_CARE_PLAN_UNCODED = faults.register(
    "cda_pps_care_plan_uncoded",
    "the PPS CDA R2 N3 writes its « Programme thérapeutique et de suivi » section without its LOINC code",
    breaks=["CDA.02"],
)
FAULT_RGPD_ORDER = faults.register(
    "rgpd_texts_wrong_order",
    "the « données personnelles » section of the CDA puts the INCa's text 2 before text 1",
    breaks=["RGPD.01", "RGPD.03"],
)

STATUS_CODES = {  # jdv-statut-document-cisis (1.2.250.1.213.1.1.5.93), SNOMED CT
    "en_cours": ("385651009", "en cours d'exécution", "En cours"),
    "complete": ("398166005", "réalisé", "Complété"),
    "valide": ("9571008", "approuvé", "Validé"),
    "cloture": ("29179001", "clôturé", "Clôturé"),
}
STATUS_BY_CODE = {code: status for status, (code, _display, _label) in STATUS_CODES.items()}
PDF_COPY_TEMPLATE = "1.2.250.1.213.1.1.2.243"
ATTACHED_TEMPLATE = "1.2.250.1.213.1.1.2.37"
TREATMENT_CODES = {  # jdv-type-traitement-pps-cisis
    "387713003": (SNOMED, "intervention chirurgicale"),
    "C15313": (NCIT, "radiothérapie"),
    "C15195": (NCIT, "curiethérapie"),
    "C15632": (NCIT, "chimiothérapie"),
    "C93352": (NCIT, "thérapie ciblée"),
    "C15445": (NCIT, "hormonothérapie"),
    "C15262": (NCIT, "immunothérapie"),
    "MED-226": (CISIS, "Surveillance seule"),
    "GEN-092.03.01": (CISIS, "Autre(s) traitement(s)"),
}
SUPPORT_CODES = {  # jdv-soin-onco-de-support-cisis
    "ORG-035": "Traitement de la douleur",
    "ORG-036": "Prise en charge diététique et nutritionnelle",
    "ORG-175": "Activité physique adaptée",
    "ORG-176": "Conseil d’hygiène de vie",
    "ORG-037": "Soutien psychologique des proches et des aidants des personnes atteintes de cancer",
    "MED-562": "Soutien au sevrage tabagique",
    "GEN-092.04.07": "Autre soins de support",
}


class Body:
    def __init__(self, document: CdaDocument, ids: Ids) -> None:
        self.document = document
        self.ids = ids

    # ---------------------------------------------------------------- section helpers
    def section(
        self, parent: etree._Element, templates: Iterable[str], code: str, display: str, title: str
    ) -> etree._Element:
        section = sub(sub(parent, "component"), "section")
        for template in templates:
            sub(section, "templateId", root=template)
        sub(section, "id", root=self.ids.next())
        sub(section, "code", code=code, displayName=display, codeSystem=LOINC, codeSystemName="LOINC")
        sub(section, "title", title)
        return section

    def rows(self, section: etree._Element, rows: list[tuple[str, str]]) -> dict[str, str]:
        """A two-column narrative table; returns {label: content ID} for entries to reference."""
        text = sub(section, "text")
        tbody = sub(sub(text, "table", border="0"), "tbody")
        anchors: dict[str, str] = {}
        for label, value in rows:
            tr = sub(tbody, "tr")
            sub(tr, "td", label, styleCode="Bold")
            anchor = self.ids.anchor("t")
            sub(sub(tr, "td"), "content", value or "—", ID=anchor)
            anchors[label] = anchor
        return anchors

    def paragraphs(self, section: etree._Element, *texts: str) -> str:
        text = sub(section, "text")
        anchor = self.ids.anchor("p")
        first = True
        for value in texts:
            for chunk in (value or "Non renseigné").split("\n\n"):
                paragraph = sub(text, "paragraph")
                if first:
                    sub(paragraph, "content", chunk, ID=anchor)
                    first = False
                else:
                    paragraph.text = chunk
        return anchor

    def simple_observation(
        self,
        parent: etree._Element,
        code: str,
        display: str,
        reference: str | None,
        extra_template: str | None = None,
        code_system: str = CISIS,
        when: date | None = None,
    ) -> etree._Element:
        observation = sub(parent, "observation", classCode="OBS", moodCode="EVN")
        sub(observation, "templateId", root="1.3.6.1.4.1.19376.1.5.3.1.4.13")
        sub(observation, "templateId", root="1.2.250.1.213.1.1.3.48")
        if extra_template:
            sub(observation, "templateId", root=extra_template)
        sub(observation, "id", root=self.ids.next())
        sub(observation, "code", code=code, displayName=display, codeSystem=code_system)
        sub(sub(observation, "text"), "reference", value=f"#{reference}" if reference else "#")
        sub(observation, "statusCode", code="completed")
        if when is None:
            sub(observation, "effectiveTime", nullFlavor="NA")
        else:
            sub(observation, "effectiveTime", value=ts(when))
        return observation

    def comment_act(self, parent: etree._Element, reference: str) -> None:
        act = sub(parent, "act", classCode="ACT", moodCode="EVN")
        sub(act, "templateId", root="2.16.840.1.113883.10.20.1.40")
        sub(act, "templateId", root="1.3.6.1.4.1.19376.1.5.3.1.4.2")
        sub(act, "templateId", root="1.2.250.1.213.1.1.3.32")
        sub(act, "code", code="48767-8", displayName="Commentaire", codeSystem=LOINC)
        sub(sub(act, "text"), "reference", value=f"#{reference}")
        sub(act, "statusCode", code="completed")

    # ---------------------------------------------------------------- sections
    def status(self, parent: etree._Element) -> None:
        """FR-Statut-du-document: the status the document has at the moment it is produced (CDA.05)."""
        status = self.document.status
        if faults.active(FAULT_STATUS_MISMATCH.name):
            status = "valide" if status != "valide" else "en_cours"
        code, display, label = STATUS_CODES[status]
        section = self.section(
            parent, ["1.2.250.1.213.1.1.2.35"], "33557-0", "Etat d'achèvement", "Statut du document"
        )
        anchors = self.rows(section, [("Statut du document", label), ("Version", str(self.document.version))])
        observation = self.simple_observation(
            sub(section, "entry"),
            "GEN-065",
            "Statut du document",
            anchors["Statut du document"],
            extra_template="1.2.250.1.213.1.1.3.48.16",
            when=self.document.today,
        )
        sub(observation, "value", xsi_type="CD", code=code, displayName=display, codeSystem=SNOMED)

    def rgpd(self, parent: etree._Element) -> None:
        """The two information texts, text 1 then text 2, under the regulatory heading (2.1.1.3)."""
        section = sub(sub(parent, "component"), "section")
        for template in (
            "2.16.840.1.113883.10.12.201",
            "1.3.6.1.4.1.19376.1.4.1.2.16",
            "1.2.250.1.213.1.1.2.73",
        ):
            sub(section, "templateId", root=template)
        code = sub(section, "code", code="55112-7", displayName="Commentaire", codeSystem=LOINC)
        sub(code, "translation", code="GEN-294", displayName="Information pour le patient", codeSystem=CISIS)
        sub(section, "title", rgpd.HEADING)
        text = sub(section, "text")
        text_1 = self.document.rgpd_text_1 or rgpd.TEXT_1_DEFAULT
        chunks = [text_1, *(self.document.rgpd_text_2 or rgpd.TEXT_2).split("\n\n")]
        if faults.active(FAULT_RGPD_ORDER.name):
            chunks = [*chunks[1:], chunks[0]]
        for chunk in chunks:
            sub(text, "paragraph", chunk)

    def reason(self, parent: etree._Element) -> None:
        section = self.section(
            parent,
            ["1.3.6.1.4.1.19376.1.5.3.1.3.1", "1.3.6.1.4.1.19376.1.5.3.1.3.2", "1.2.250.1.213.1.1.2.128"],
            "42349-1",
            "Raison de la recommandation",
            "Type de RCP / Motif de la RCP",
        )
        nature = (
            ("ORG-132", "RCP Transversale et de soins de support")
            if self.document.transversal
            else (
                "ORG-117",
                "RCP Appareil - Organes",
            )
        )
        anchors = self.rows(
            section, [("Nature de la discussion", nature[1]), ("Motif", self.document.reason)]
        )
        observation = self.simple_observation(
            sub(section, "entry"), "GEN-098", "Nature de la discussion", anchors["Nature de la discussion"]
        )
        sub(observation, "value", xsi_type="CD", code=nature[0], displayName=nature[1], codeSystem=CISIS)
        problem = sub(
            sub(section, "entry"), "observation", classCode="OBS", moodCode="EVN", negationInd="false"
        )
        for template in (
            "2.16.840.1.113883.10.20.1.28",
            "1.3.6.1.4.1.19376.1.5.3.1.4.5",
            "1.2.250.1.213.1.1.3.37",
        ):
            sub(problem, "templateId", root=template)
        sub(problem, "id", root=self.ids.next())
        sub(problem, "code", code="55607006", displayName="problème", codeSystem=SNOMED)
        sub(sub(problem, "text"), "reference", value=f"#{anchors['Motif']}")
        sub(problem, "statusCode", code="completed")
        self._low(problem, self.document.rcp.date.date() if self.document.rcp else self.document.today)
        value = sub(problem, "value", xsi_type="CD", nullFlavor="NA")
        sub(sub(value, "originalText"), "reference", value=f"#{anchors['Motif']}")

    def discovery(self, parent: etree._Element) -> None:
        section = self.section(
            parent,
            [
                "1.3.6.1.4.1.19376.1.5.3.1.1.21.2.9",
                "1.3.6.1.4.1.19376.1.7.3.1.1.13.7",
                "1.2.250.1.213.1.1.2.163",
            ],
            "42545-4",
            "Evènements observés",
            "MODE DE DÉCOUVERTE DU CANCER",
        )
        screening = self.document.screening
        label = {True: "Oui", False: "Non"}.get(screening, "Non renseigné")
        anchors = self.rows(section, [("Patient issu du dépistage", label)])
        observation = self.simple_observation(
            sub(section, "entry"),
            "63921-1",
            "Dépistage du cancer",
            anchors["Patient issu du dépistage"],
            code_system=LOINC,
        )
        if screening is None:
            sub(observation, "value", xsi_type="BL", nullFlavor="UNK")
        else:
            sub(observation, "value", xsi_type="BL", value="true" if screening else "false")

    def diagnosis(self, parent: etree._Element) -> None:
        d = self.document.diagnosis
        section = self.section(
            parent,
            [
                "2.16.840.1.113883.10.20.1.11",
                "1.3.6.1.4.1.19376.1.5.3.1.3.6",
                "1.3.6.1.4.1.19376.1.7.3.1.3.14.1",
                "1.2.250.1.213.1.1.2.27",
            ],
            "72135-7",
            "Diagnostic du cancer",
            "DIAGNOSTIC",
        )
        anchors = self.rows(
            section,
            [
                ("Tumeur primitive", "Tumeur primitive"),
                ("Date du diagnostic initial", d.date.strftime("%d/%m/%Y") if d.date else ""),
                ("Topographie", " ".join(x for x in (d.topography_code, d.topography_label) if x)),
                ("Morphologie", " ".join(x for x in (d.morphology_code, d.morphology_label) if x)),
                ("TNM (T)", d.tnm_t),
                ("TNM (N)", d.tnm_n),
                ("TNM (M)", d.tnm_m),
            ],
        )
        act = sub(sub(section, "entry"), "act", classCode="ACT", moodCode="EVN")
        for template in (
            "2.16.840.1.113883.10.20.1.27",
            "1.3.6.1.4.1.19376.1.5.3.1.4.5.1",
            "1.3.6.1.4.1.19376.1.5.3.1.4.5.2",
            "1.2.250.1.213.1.1.3.39",
            "1.2.250.1.213.1.1.3.39.1",
        ):
            sub(act, "templateId", root=template)
        sub(act, "id", root=self.ids.next())
        sub(act, "code", nullFlavor="NA")
        sub(act, "statusCode", code="active")
        self._low(act, d.date)
        relation = sub(act, "entryRelationship", typeCode="SUBJ", inversionInd="false")
        problem = sub(relation, "observation", classCode="OBS", moodCode="EVN", negationInd="false")
        for template in (
            "2.16.840.1.113883.10.20.1.28",
            "1.3.6.1.4.1.19376.1.5.3.1.4.5",
            "1.2.250.1.213.1.1.3.37",
            "1.3.6.1.4.1.19376.1.7.3.1.4.14.1",
            "1.2.250.1.213.1.1.3.113",
        ):
            sub(problem, "templateId", root=template)
        sub(problem, "id", root=self.ids.next())
        sub(problem, "code", code="282291009", displayName="interprétation diagnostique", codeSystem=SNOMED)
        sub(sub(problem, "text"), "reference", value=f"#{anchors['Tumeur primitive']}")
        sub(problem, "statusCode", code="completed")
        self._low(problem, d.date)
        if d.morphology_code:
            value = sub(
                problem,
                "value",
                xsi_type="CD",
                code=d.morphology_code,
                displayName=d.morphology_label or d.morphology_code,
                codeSystem="2.16.840.1.113883.6.43.1",
            )
        else:
            value = sub(problem, "value", xsi_type="CD", nullFlavor="OTH")
        sub(sub(value, "originalText"), "reference", value=f"#{anchors['Morphologie']}")
        if d.topography_code:
            site = sub(
                problem,
                "targetSiteCode",
                code=d.topography_code,
                displayName=d.topography_label or d.topography_code,
                codeSystem="2.16.840.1.113883.6.3",
            )
        else:
            site = sub(problem, "targetSiteCode", nullFlavor="OTH")
        sub(sub(site, "originalText"), "reference", value=f"#{anchors['Topographie']}")
        if self.document.kind == "FRCP":
            self._tnm(problem, anchors)

    def _tnm(self, problem: etree._Element, anchors: dict[str, str]) -> None:
        d = self.document.diagnosis
        relation = sub(problem, "entryRelationship", typeCode="SUBJ", inversionInd="false")
        stage = sub(relation, "observation", classCode="OBS", moodCode="EVN", negationInd="false")
        sub(stage, "templateId", root="1.3.6.1.4.1.19376.1.7.3.1.4.14.2")
        sub(stage, "code", code="75620-5", displayName="Stade TNM Clinique", codeSystem=LOINC)
        sub(sub(stage, "text"), "reference", value=f"#{anchors['Tumeur primitive']}")
        sub(stage, "statusCode", code="completed")
        self._low(stage, d.date)
        sub(stage, "value", xsi_type="CD", nullFlavor="NA")
        for code, display, value, label in (
            ("21905-5", "TNM Clinique T", d.tnm_t, "TNM (T)"),
            ("21906-3", "TNM Clinique N", d.tnm_n, "TNM (N)"),
            ("21907-1", "TNM Clinique M", d.tnm_m, "TNM (M)"),
        ):
            component = sub(stage, "entryRelationship", typeCode="COMP")
            observation = self.simple_observation(component, code, display, anchors[label], code_system=LOINC)
            sub(
                observation,
                "value",
                xsi_type="CD",
                code=value,
                displayName=value,
                codeSystem="2.16.840.1.113883.15.6",
            )

    def _low(self, parent: etree._Element, when: date | None) -> None:
        if when is None:  # the low bound is mandatory; an unknown date says so (IHE PCC exception)
            sub(sub(parent, "effectiveTime"), "low", nullFlavor="UNK")
        else:
            sub(sub(parent, "effectiveTime"), "low", value=ts(when))

    def progress(self, parent: etree._Element) -> None:
        section = self.section(
            parent,
            ["1.3.6.1.4.1.19376.1.5.3.1.1.13.2.7", "1.2.250.1.213.1.1.2.25"],
            "18733-6",
            "Note de progression",
            "Phase et progression du cancer",
        )
        self.paragraphs(section, "Phase non renseignée")

    def history(self, parent: etree._Element) -> None:
        section = self.section(
            parent,
            ["1.3.6.1.4.1.19376.1.5.3.1.3.4", "1.2.250.1.213.1.1.2.130"],
            "10164-2",
            "Histoire de la maladie",
            "Synthèse du cas présenté et question posée à la RCP",
        )
        self.paragraphs(section, self.document.case_summary)

    def proposal(self, parent: etree._Element) -> None:
        section = self.section(
            parent,
            ["2.16.840.1.113883.10.20.1.10", "1.3.6.1.4.1.19376.1.5.3.1.3.36", "1.2.250.1.213.1.1.2.158"],
            "18776-5",
            "Plan de soins",
            "Proposition de la RCP",
        )
        self.paragraphs(section, self.document.proposal)

    def framework(self, parent: etree._Element) -> None:
        section = self.section(
            parent,
            ["1.2.250.1.213.1.1.2.175"],
            "35510-7",
            "Essais cliniques - Informations générales",
            "Cadre de la proposition thérapeutique",
        )
        anchors = self.rows(section, [("Proposition d'inclusion dans un essai clinique", "Non")])
        observation = self.simple_observation(
            sub(section, "entry"),
            "MED-250",
            "Proposition d'inclusion dans un essai clinique",
            anchors["Proposition d'inclusion dans un essai clinique"],
        )
        sub(observation, "value", xsi_type="BL", value="false")

    def rcp_status(self, parent: etree._Element) -> None:
        rcp = self.document.rcp
        quorum = None if rcp is None else rcp.quorum
        labels = {"ORG-126": "Quorum atteint", "ORG-133": "Quorum non atteint", "GEN-010": "Ne sait pas"}
        code = rcp.quorum_code if rcp is not None and rcp.quorum_code in labels else None
        code = code or {True: "ORG-126", False: "ORG-133"}.get(quorum, "GEN-010")
        quorum_code = (code, labels[code])
        section = self.section(
            parent,
            ["1.2.250.1.213.1.1.2.33"],
            "21874-3",
            "Statut du dossier présenté en RCP",
            "Statut du dossier présenté et quorum",
        )
        anchors = self.rows(section, [("Dossier complet", "Oui"), ("Quorum", quorum_code[1])])
        organizer = sub(sub(section, "entry"), "organizer", classCode="CLUSTER", moodCode="EVN")
        sub(organizer, "templateId", root="1.2.250.1.213.1.1.3.7")
        sub(organizer, "code", code="GEN-099", displayName="Information RCP", codeSystem=CISIS)
        sub(organizer, "statusCode", code="completed")
        complete = self.simple_observation(
            sub(organizer, "component"), "GEN-100", "Dossier complet", anchors["Dossier complet"]
        )
        sub(complete, "value", xsi_type="BL", value="true")
        observation = self.simple_observation(
            sub(organizer, "component"), "ORG-125", "Quorum RCP", anchors["Quorum"]
        )
        sub(
            observation,
            "value",
            xsi_type="CD",
            code=quorum_code[0],
            displayName=quorum_code[1],
            codeSystem=CISIS,
        )

    def care_plan(self, parent: etree._Element, support: bool) -> None:
        """PPS: « Programme thérapeutique et de suivi » or « Soins oncologiques de support »; realised care (EVN)
        feeds the synthesis, planned care (INT) the proposal."""
        items = self.document.supportive_care if support else self.document.treatments
        title = (
            "SOINS ONCOLOGIQUES DE SUPPORT, ACCOMPAGNEMENT SOCIAL ET SOCIOPROFESSIONNEL"
            if support
            else "PROGRAMME THÉRAPEUTIQUE ET DE SUIVI"
        )
        section = sub(sub(parent, "component"), "section")
        for template in (
            "2.16.840.1.113883.10.20.1.10",
            "1.3.6.1.4.1.19376.1.5.3.1.3.36",
            "1.2.250.1.213.1.1.2.158",
        ):
            sub(section, "templateId", root=template)
        sub(section, "id", root=self.ids.next())
        code = sub(section, "code", code="18776-5", displayName="Plan de soins", codeSystem=LOINC)
        if not support and faults.active(FAULT_PPS_CARE_PLAN_UNCODED.name):
            section.remove(code)
        if support:
            sub(
                code,
                "translation",
                code="MED-567",
                displayName="Soins oncologiques de support, accompagnement social et socioprofessionnel",
                codeSystem=CISIS,
            )
        else:
            sub(
                code,
                "translation",
                code="MED-566",
                displayName="Programme thérapeutique et de suivi",
                codeSystem=CISIS,
            )
        sub(section, "title", title)
        today = self.document.today
        rows = [
            (item.label, _period(item) + (" (réalisé)" if item.done(today) else " (prévu)")) for item in items
        ] or [("Aucun élément", "")]
        anchors = self.rows(section, rows)
        for item in items:
            self._procedure(section, item, anchors[item.label], support)

    def _procedure(self, section: etree._Element, item: CareItem, anchor: str, support: bool) -> None:
        done = item.done(self.document.today)
        procedure = sub(
            sub(section, "entry"),
            "procedure",
            classCode="PROC",
            moodCode="EVN" if done else "INT",
            negationInd="false",
        )
        sub(procedure, "templateId", root="1.3.6.1.4.1.19376.1.5.3.1.4.19")
        sub(
            procedure,
            "templateId",
            root="2.16.840.1.113883.10.20.1.29" if done else "2.16.840.1.113883.10.20.1.25",
        )
        sub(procedure, "templateId", root="1.2.250.1.213.1.1.3.62")
        sub(procedure, "id", root=self.ids.next())
        if support:
            code = sub(
                procedure, "code", code="MED-572", displayName="Soin oncologique de support", codeSystem=CISIS
            )
            value = item.code if item.code in SUPPORT_CODES else "GEN-092.04.07"
            sub(
                sub(code, "qualifier"),
                "value",
                code=value,
                displayName=SUPPORT_CODES[value],
                codeSystem=CISIS,
            )
        else:
            code = sub(procedure, "code", code="MED-568", displayName="Traitement", codeSystem=CISIS)
            value = item.code if item.code in TREATMENT_CODES else "GEN-092.03.01"
            system, display = TREATMENT_CODES[value]
            sub(sub(code, "qualifier"), "value", code=value, displayName=display, codeSystem=system)
        sub(sub(procedure, "text"), "reference", value=f"#{anchor}")
        sub(procedure, "statusCode", code="completed")
        if item.start or item.end:
            period = sub(procedure, "effectiveTime")
            if item.start:
                sub(period, "low", value=ts(item.start))
            if item.end:
                sub(period, "high", value=ts(item.end))
        else:
            sub(procedure, "effectiveTime", nullFlavor="UNK")

    def patient_comment(self, parent: etree._Element) -> None:
        if not self.document.comment:
            return
        section = sub(sub(parent, "component"), "section")
        for template in (
            "2.16.840.1.113883.10.12.201",
            "1.3.6.1.4.1.19376.1.4.1.2.16",
            "1.2.250.1.213.1.1.2.73",
        ):
            sub(section, "templateId", root=template)
        sub(section, "code", code="55112-7", displayName="Commentaire", codeSystem=LOINC)
        sub(section, "title", "COMMENTAIRE SUR LE PATIENT")
        self.paragraphs(section, self.document.comment)

    def attachments(self, parent: etree._Element) -> None:
        if not self.document.attachments:
            return
        section = self.section(
            parent, [ATTACHED_TEMPLATE], "55107-7", "Documents ajoutés", "DOCUMENTS AJOUTÉS"
        )
        text = sub(section, "text")
        tbody = sub(sub(text, "table", border="0"), "tbody")
        media_ids = []
        for attachment in self.document.attachments:
            title_anchor = self.ids.anchor("titre-doc")
            media_id = self.ids.anchor("DOC")
            tr = sub(tbody, "tr")
            sub(sub(tr, "td"), "content", attachment.title, ID=title_anchor)
            sub(sub(tr, "td"), "renderMultiMedia", referencedObject=media_id)
            media_ids.append((attachment, title_anchor, media_id))
        for attachment, title_anchor, media_id in media_ids:
            self._attached(section, attachment, title_anchor, media_id, None)

    def pdf_copy(self, parent: etree._Element) -> None:
        """FR-Document-PDF-copie: the PDF given to the patient, inside the N3 document (2.3.6, PRES.02)."""
        if self.document.pdf is None or (
            self.document.kind == "PPS" and faults.active(FAULT_NO_PDF_COPY.name)
        ):
            return
        section = self.section(
            parent, [PDF_COPY_TEMPLATE], "55108-5", "Copie du document", "Copie du document"
        )
        text = sub(section, "text")
        media_id = "copiePDF"
        title_anchor = "titre-copiePDF"
        tr = sub(sub(sub(text, "table", border="0"), "tbody"), "tr")
        sub(sub(tr, "td"), "content", "Copie PDF du document", ID=title_anchor)
        sub(sub(tr, "td"), "renderMultiMedia", referencedObject=media_id)
        copy = AttachmentData("Copie du document", "application/pdf", self.document.pdf)
        self._attached(section, copy, title_anchor, media_id, ("55108-5", "Copie du document"))

    def _attached(
        self,
        section: etree._Element,
        attachment: AttachmentData,
        title_anchor: str,
        media_id: str,
        kind: tuple[str, str] | None,
    ) -> None:
        organizer = sub(sub(section, "entry"), "organizer", classCode="CLUSTER", moodCode="EVN")
        sub(organizer, "templateId", root="1.2.250.1.213.1.1.3.18")
        sub(organizer, "id", root=self.ids.next())
        sub(organizer, "code", code="55107-7", displayName="Document attaché", codeSystem=LOINC)
        sub(organizer, "statusCode", code="completed")
        observation = self.simple_observation(
            sub(organizer, "component"),
            "69764-9",
            "Type de document",
            title_anchor,
            extra_template="1.2.250.1.213.1.1.3.48.18",
            code_system=LOINC,
        )
        if kind is not None:
            sub(observation, "value", xsi_type="CD", code=kind[0], displayName=kind[1], codeSystem=LOINC)
        else:
            value = sub(observation, "value", xsi_type="CD")
            sub(sub(value, "originalText"), "reference", value=f"#{title_anchor}")
        media = sub(
            sub(organizer, "component"), "observationMedia", classCode="OBS", moodCode="EVN", ID=media_id
        )
        sub(
            media,
            "value",
            base64.b64encode(attachment.content).decode("ascii"),
            mediaType=attachment.mime_type,
            representation="B64",
        )


def _period(item: CareItem) -> str:
    fmt = "%d/%m/%Y"
    if item.start and item.end:
        return f"du {item.start.strftime(fmt)} au {item.end.strftime(fmt)}"
    if item.start:
        return f"à partir du {item.start.strftime(fmt)}"
    if item.end:
        return f"jusqu'au {item.end.strftime(fmt)}"
    return "dates à préciser"


def structured_body(document: CdaDocument, ids: Ids, parent: etree._Element) -> None:
    body = Body(document, ids)
    structured = sub(sub(parent, "component"), "structuredBody")
    if document.kind == "FRCP":
        if not faults.active(FAULT_FRCP_SECTION_MISSING.name):
            body.reason(structured)
        body.discovery(structured)
        body.diagnosis(structured)
        body.progress(structured)
        body.history(structured)
        body.rcp_status(structured)
        body.proposal(structured)
        body.framework(structured)
        body.patient_comment(structured)
        body.status(structured)
    else:
        body.status(structured)
        body.care_plan(structured, support=False)
        body.care_plan(structured, support=True)
        body.patient_comment(structured)
        body.diagnosis(structured)
        body.discovery(structured)
    body.attachments(structured)
    body.rgpd(structured)
    body.pdf_copy(structured)
