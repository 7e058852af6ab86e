"""Hypothesis strategies for plain CDA documents (dcc.cda.model): patient situations without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import strategies as st

from dcc import rgpd
from dcc.cda.body import SUPPORT_CODES, TREATMENT_CODES
from dcc.cda.model import (
    Address,
    AttachmentData,
    CareItem,
    CdaDocument,
    Diagnosis,
    DocumentRef,
    Organisation,
    PatientIdentity,
    Professional,
    Rcp,
)

EFFECTIVE = datetime(2025, 6, 2, 10, 30, tzinfo=UTC)
NIRS = ["279035121518989", "109076322083489", "209076322083439"]
names = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZÉÈ-' ", min_size=2, max_size=20)
    .map(str.strip)
    .filter(lambda s: len(s) >= 2 and s[0].isalpha())
)
HOSPITAL = Organisation(
    "Centre Hospitalier d'Angers", "490000031", Address("4 rue Larrey", "49933", "ANGERS"), "tel:0242515100"
)


@st.composite
def patients(draw, qualified: bool | None = None) -> PatientIdentity:
    is_qualified = draw(st.booleans()) if qualified is None else qualified
    status = "qualifiee" if is_qualified else draw(st.sampled_from(["provisoire", "recuperee", "validee"]))
    has_ins = is_qualified or (status == "recuperee" and draw(st.booleans()))
    return PatientIdentity(
        local_id=str(draw(st.integers(1, 10**6))),
        nom_naissance=draw(names).upper(),
        prenoms=tuple(draw(st.lists(names, min_size=1, max_size=3))),
        sexe=draw(st.sampled_from(["M", "F"])),
        date_naissance=draw(st.dates(date(1920, 1, 1), date(2020, 12, 31))),
        lieu_naissance=draw(st.sampled_from(["63220", "49007", "2A004", "99134"])),
        identity_status=status,
        ins_matricule=draw(st.sampled_from(NIRS)) if has_ins else None,
        ins_oid=draw(st.sampled_from(["1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.10"])) if has_ins else None,
    )


@st.composite
def care(draw, codes) -> CareItem:
    start = draw(st.one_of(st.none(), st.dates(date(2024, 1, 1), date(2026, 6, 1))))
    end = None if start is None else draw(st.one_of(st.none(), st.just(start + timedelta(days=30))))
    return CareItem(
        label=draw(names),
        code=draw(st.sampled_from(sorted(codes))),
        start=start,
        end=end,
        confirmed=draw(st.booleans()),
        comment=draw(st.one_of(st.none(), names)),
    )


@st.composite
def documents(draw, kind: str | None = None, qualified: bool | None = None) -> CdaDocument:
    kind = kind or draw(st.sampled_from(["FRCP", "PPS"]))
    version = draw(st.sampled_from([1, 1, 2, 5]))
    author = Professional("MULLER", "Charles", "10001234567", organisation=HOSPITAL)
    rcp = None
    if kind == "FRCP" or draw(st.booleans()):
        rcp = Rcp(
            "5201",
            "520114",
            "RCP-SEIN-01",
            "ONCO PDL / 3C CHU Angers / Sein",
            datetime(2025, 5, 30, 14, 0, tzinfo=UTC),
            HOSPITAL,
            draw(st.one_of(st.none(), st.just("S-42"))),
            draw(st.one_of(st.none(), st.booleans())),
        )
    attachments = draw(
        st.lists(
            st.sampled_from(
                [
                    AttachmentData("Effets secondaires", "application/pdf", b"%PDF-1.4\n" + b"0" * 200),
                    AttachmentData("Note", "text/plain", "Tolérance correcte".encode()),
                    AttachmentData("Photo", "image/png", b"\x89PNG\r\n\x1a\n" + b"1" * 100),
                ]
            ),
            max_size=2,
        )
    )
    diagnosis = draw(
        st.sampled_from(
            [
                Diagnosis(),
                Diagnosis(
                    date(2025, 1, 29),
                    "C50.2",
                    "Quadrant supéro-interne du sein",
                    "8500/3",
                    "Carcinome canalaire infiltrant",
                    "T1b",
                    "N1",
                    "M0",
                ),
            ]
        )
    )
    return CdaDocument(
        kind=kind,
        id_root="1.2.250.1.999.1.1",
        id_extension=str(draw(st.integers(1, 10**6))),
        set_id="6F9619FF-8B86-D011-B42D-00CF4FC964FF",
        version=version,
        status=draw(
            st.sampled_from(["en_cours", "complete", "valide"] + (["cloture"] if kind == "PPS" else []))
        ),
        effective_time=EFFECTIVE,
        patient=draw(patients(qualified)),
        author=author,
        custodian=Organisation("DCC de test", "990000000"),
        custodian_oid="1.2.250.1.999.1",
        legal_authenticator=author,
        recipients=tuple(
            draw(
                st.lists(
                    st.sampled_from(
                        [
                            Professional(
                                "MARTIN",
                                "Michel",
                                "10009876543",
                                mssante="michel.martin@test.mssante.fr",
                                organisation=HOSPITAL,
                            ),
                            Professional("DURAND", "Anne", None),
                        ]
                    ),
                    max_size=2,
                    unique=True,
                )
            )
        ),
        rcp=rcp,
        diagnosis=diagnosis,
        reason=draw(st.sampled_from(["", "Avis sur la stratégie thérapeutique"])),
        case_summary="Patiente de 45 ans, tumeur du sein droit.",
        proposal="Tumorectomie puis radiothérapie.",
        treatments=tuple(draw(st.lists(care(TREATMENT_CODES), max_size=3))),
        supportive_care=tuple(draw(st.lists(care(SUPPORT_CODES), max_size=2))),
        comment=draw(st.sampled_from(["", "Patiente très entourée."])),
        screening=draw(st.one_of(st.none(), st.booleans())),
        transversal=draw(st.booleans()),
        rgpd_text_1=draw(st.sampled_from([rgpd.TEXT_1_DEFAULT, "Texte 1 adapté par l'établissement."])),
        rgpd_text_2=rgpd.TEXT_2,
        attachments=tuple(attachments),
        replaces=DocumentRef("1.2.250.1.999.1.1", "7", version - 1) if version > 1 else None,
        pdf=b"%PDF-1.4\n%fake copy for the CDA structure tests\n" + b"0" * 300,
    )
