"""Figure 10 of the cahier des charges (2.3.3), one test per line, on the pure routing function."""

from __future__ import annotations

import pytest

from dcc import faults
from dcc.transmissions import routing
from dcc.transmissions.routing import Context, Recipient

PS = (Recipient("jean.martin@hopital.mssante.fr"), Recipient("anne.durand@cabinet.mssante.fr"))
PEER = (Recipient("rcp@dcc-pair.mssante.fr", "exchange"),)
INS = "279035121518989"
NON_QUALIFIED = ("provisoire", "recuperee", "validee")


def ctx(kind: str, status: str, identity: str = "qualifiee", **kw) -> Context:
    defaults = {"ins": INS if identity == "qualifiee" else None, "professionals": PS, "peer_dcc": PEER}
    return Context(kind, status, identity, **{**defaults, **kw})


def channels(routes) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for r in routes:
        out.setdefault(r.channel, set()).add((r.recipient, r.format))
    return out


@pytest.mark.parametrize("identity", ["qualifiee", *NON_QUALIFIED])
def test_line_1_frcp_complete_goes_to_peer_dcc_and_professionals_only(identity):
    got = channels(routing.route(ctx("FRCP", "complete", identity)))
    assert got == {
        "peer_dcc": {("rcp@dcc-pair.mssante.fr", "n3+pdf")},
        "mss_pro": {(p.address, "n1+n3+pdf") for p in PS},
    }


@pytest.mark.parametrize("identity", ["qualifiee", *NON_QUALIFIED])
def test_line_2_frcp_valide_goes_back_to_the_peer_and_to_professionals_whatever_the_identity(identity):
    got = channels(routing.route(ctx("FRCP", "valide", identity)))
    assert got["mss_pro"] == {(p.address, "n1+n3+pdf") for p in PS}
    assert got["peer_dcc_return"] == {("rcp@dcc-pair.mssante.fr", "n3+pdf")}


def test_line_3_and_4_frcp_valide_qualified_goes_to_pdc_and_dmp():
    got = channels(routing.route(ctx("FRCP", "valide")))
    assert got["pdc"] == {(routing.DEFAULT_PDC_ADDRESS, "n1+n3+pdf")}
    assert got["dmp"] == {(INS, "n3")}
    assert "mss_citoyenne" not in got  # never an FRCP to the patient (MSS/CIT.03)


@pytest.mark.parametrize("identity", NON_QUALIFIED)
def test_lines_3_and_4_need_a_qualified_ins(identity):
    got = channels(routing.route(ctx("FRCP", "valide", identity)))
    assert "pdc" not in got and "dmp" not in got and "mss_citoyenne" not in got


@pytest.mark.parametrize("status", ["en_cours", "complete", "cloture"])
@pytest.mark.parametrize("identity", ["qualifiee", *NON_QUALIFIED])
def test_line_5_pps_not_validated_goes_to_professionals_only(status, identity):
    got = channels(routing.route(ctx("PPS", status, identity)))
    assert got == {"mss_pro": {(p.address, "n1+n3+pdf") for p in PS}}


@pytest.mark.parametrize("identity", ["qualifiee", *NON_QUALIFIED])
def test_line_6_pps_valide_goes_to_professionals_in_n1_and_n3_with_pdf(identity):
    got = channels(routing.route(ctx("PPS", "valide", identity)))
    assert got["mss_pro"] == {(p.address, "n1+n3pdf+pdf") for p in PS}  # + PDF/A-1: MSS/CDA.05
    assert "peer_dcc" not in got and "peer_dcc_return" not in got


def test_lines_7_8_9_pps_valide_qualified_goes_to_pdc_dmp_and_patient():
    got = channels(routing.route(ctx("PPS", "valide")))
    assert got["pdc"] == {(routing.DEFAULT_PDC_ADDRESS, "n1+n3+pdf")}
    assert got["dmp"] == {(INS, "n3pdf")}
    assert got["mss_citoyenne"] == {(f"{INS}@patient.mssante.fr", "n1+n3pdf+pdf")}


@pytest.mark.parametrize("identity", NON_QUALIFIED)
def test_lines_7_8_9_need_a_qualified_ins(identity):
    got = channels(routing.route(ctx("PPS", "valide", identity)))
    assert set(got) == {"mss_pro"}


def test_opposition_blocks_the_dmp_only():
    got = channels(routing.route(ctx("PPS", "valide", dmp_opposition=True)))
    assert "dmp" not in got and "mss_citoyenne" in got and "pdc" in got


def test_dpi_gateway_receives_validated_documents_when_configured():
    gateway = (Recipient("dpi@hopital-simule.mssante.fr", "configuration"),)
    assert channels(routing.route(ctx("PPS", "valide", "provisoire", dpi_gateways=gateway)))["dpi"] == {
        ("dpi@hopital-simule.mssante.fr", "n1+n3pdf")
    }
    assert "dpi" not in channels(routing.route(ctx("PPS", "complete", dpi_gateways=gateway)))


def test_recipient_source_is_carried_and_duplicates_removed():
    twice = (Recipient("jean.martin@hopital.mssante.fr"), Recipient("JEAN.MARTIN@hopital.mssante.fr"))
    routes = routing.route(ctx("FRCP", "complete", professionals=twice, peer_dcc=()))
    assert [(r.channel, r.recipient_source) for r in routes] == [("mss_pro", "annuaire")]


def test_unknown_identity_status_is_refused():
    with pytest.raises(ValueError, match="identity status"):
        routing.route(ctx("PPS", "valide", "inconnue"))


def test_fault_dmp_fed_without_qualified_ins():
    with faults.enabled("dmp_fed_without_qualified_ins"):
        got = channels(routing.route(ctx("FRCP", "valide", "validee")))
    assert "dmp" in got and "pdc" in got


def test_fault_pps_validation_no_patient_message():
    with faults.enabled("pps_validation_no_patient_message"):
        got = channels(routing.route(ctx("PPS", "valide")))
    assert "mss_citoyenne" not in got and "dmp" in got


def test_fault_frcp_complete_sent_everywhere():
    with faults.enabled("frcp_complete_sent_everywhere"):
        got = channels(routing.route(ctx("FRCP", "complete")))
    assert {"dmp", "pdc", "mss_citoyenne"} <= set(got)


def test_fault_first_professional_only():
    assert len(channels(routing.route(ctx("PPS", "valide")))["mss_pro"]) == 2
    with faults.enabled("first_professional_only"):
        got = channels(routing.route(ctx("PPS", "valide")))
    assert [r for r, _ in got["mss_pro"]] == [PS[0].address]


def test_fault_frcp_sent_to_patient():
    assert "mss_citoyenne" not in channels(routing.route(ctx("FRCP", "valide")))
    with faults.enabled("frcp_sent_to_patient"):
        got = channels(routing.route(ctx("FRCP", "valide")))
    assert got["mss_citoyenne"] == {(f"{INS}@patient.mssante.fr", routing.N1_N3PDF_PDF)}


def test_fault_frcp_not_sent_to_pdc():
    with faults.enabled("frcp_not_sent_to_pdc"):
        assert "pdc" not in channels(routing.route(ctx("FRCP", "valide")))
        assert "pdc" in channels(routing.route(ctx("PPS", "valide")))


def test_fault_no_pdf_to_professionals():
    with faults.enabled("no_pdf_to_professionals"):
        got = channels(routing.route(ctx("PPS", "valide")))
    assert {f for _, f in got["mss_pro"]} == {"n1+n3pdf"}
    assert {f for _, f in got["pdc"]} == {routing.N1_N3_PDF}


def test_fault_recipient_address_not_from_directory():
    from types import SimpleNamespace

    from dcc.transmissions.outbox import recipients_of

    document = SimpleNamespace(content={"destinataires": [{"mss": PS[0].address, "source": "annuaire"}]})
    assert [r.source for r in recipients_of(document)] == ["annuaire"]
    with faults.enabled("recipient_address_not_from_directory"):
        assert [r.source for r in recipients_of(document)] == ["saisie"]


def test_fault_provisoire_identity_held_back():
    assert "mss_pro" in channels(routing.route(ctx("FRCP", "valide", "provisoire")))
    with faults.enabled("provisoire_identity_held_back"):
        assert "mss_pro" not in channels(routing.route(ctx("FRCP", "valide", "provisoire")))
        assert "mss_pro" in channels(routing.route(ctx("FRCP", "valide", "validee")))


def test_fault_dmp_opposition_ignored():
    assert "dmp" not in channels(routing.route(ctx("PPS", "valide", dmp_opposition=True)))
    with faults.enabled("dmp_opposition_ignored"):
        assert "dmp" in channels(routing.route(ctx("PPS", "valide", dmp_opposition=True)))


def test_fault_peer_frcp_sent_as_n1():
    with faults.enabled("peer_frcp_sent_as_n1"):
        got = channels(routing.route(ctx("FRCP", "complete")))
    assert got["peer_dcc"] == {("rcp@dcc-pair.mssante.fr", "n1+pdf")}
    assert got["mss_pro"] == {(p.address, "n1+n3+pdf") for p in PS}  # professionals keep their formats
