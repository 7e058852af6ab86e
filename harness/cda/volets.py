"""Which volet a CDA claims (document templateId + extension) and which schematrons the ANS chain runs for it."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

CDA_NS = "urn:hl7-org:v3"
XDS_SD_TEMPLATE = "1.3.6.1.4.1.19376.1.2.20"  # IHE XDS-SD: a CDA R2 level 1 (N1) document

# The five cross-document profiles, in the order of the ANS notice (paths under schematrons/).
PROFILES: tuple[str, ...] = (
    "profils/IHE.sch",
    "profils/CI-SIS_ModelesDeContenusCDA.sch",
    "profils/CI-SIS_Modeles_ANS.sch",
    "profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch",
    "profils/terminologies/schematron/terminologie.sch",
)

# templateId root -> volet name; the extension is the version and picks CI-SIS_<name>_<version>.sch
VOLET_TEMPLATES: dict[str, str] = {
    "1.2.250.1.213.1.1.1.8": "CANCER-FRCP",
    "1.2.250.1.213.1.1.1.26": "CANCER-PPS",
    "1.2.250.1.213.1.1.1.32": "CANCER-CR-GM",
    "1.2.250.1.213.1.1.1.27": "CANCER-D2LM-FIN",
    "1.2.250.1.213.1.1.1.28": "CANCER-D2LM-FIDD",
}


@dataclass(frozen=True)
class Volet:
    name: str | None  # e.g. "CANCER-FRCP 2025.01", "N1 (XDS-SD)", None when unknown
    template_root: str | None
    template_extension: str | None
    schematron: str | None  # path under schematrons/, None = profiles only
    note: str | None = None


def find_clinical_document(root: etree._Element) -> etree._Element | None:
    """The ClinicalDocument: the root, or inside an ``xsl:stylesheet`` wrapper (a self-presenting CDA)."""
    if root.tag == f"{{{CDA_NS}}}ClinicalDocument":
        return root
    return next(root.iter(f"{{{CDA_NS}}}ClinicalDocument"), None)


def detect(clinical_document: etree._Element, schematrons_dir) -> Volet:
    templates = [
        (t.get("root"), t.get("extension")) for t in clinical_document.findall(f"{{{CDA_NS}}}templateId")
    ]
    for root, extension in templates:
        name = VOLET_TEMPLATES.get(root or "")
        if name is None:
            continue
        label = f"{name} {extension}" if extension else name
        candidate = f"CI-SIS_{name}_{extension}.sch"
        if extension and (schematrons_dir / candidate).is_file():
            return Volet(label, root, extension, candidate)
        return Volet(
            label, root, extension, None, note=f"no schematron {candidate} for this version: profiles only"
        )
    for root, extension in templates:
        if root == XDS_SD_TEMPLATE:
            return Volet(
                "N1 (XDS-SD)",
                root,
                extension,
                None,
                note="CDA R2 level 1: XML Schema, structuration minimale and the profiles only",
            )
    roots = ", ".join(r for r, _ in templates if r) or "none"
    return Volet(None, None, None, None, note=f"unknown volet (templateIds: {roots}): profiles only")
