"""PS contact directory: streaming import of the Annuaire Santé extractions (rejects with line numbers, one
transaction per batch, re-import updates without doubles), search, RPPS lookup through a client (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from dcc import events, faults
from dcc.db import make_session_factory
from dcc.db.models_resources import AnnuaireImport, AnnuaireReject, MssMailbox, PsContact
from dcc.services import directory
from dcc.services.annuaire_client import AnnuaireError, FhirPractitioner
from dcc.services.annuaire_files import ExtractionError
from harness.simulators.annuaire.data import DEFAULT as SIMULATOR_DATA
from harness.simulators.annuaire.data import from_mapping
from harness.simulators.annuaire.extraction import extraction_files
from tests.dcc.resources_helpers import mailbox_file, mailbox_row, person_file, person_row, rpps

pytestmark = pytest.mark.persistence


@pytest.fixture
def factory(engine):
    """Imports commit (one transaction per batch): each test starts from an empty directory."""
    factory = make_session_factory(engine)
    with factory.begin() as session:
        for table in (AnnuaireReject, AnnuaireImport, MssMailbox, PsContact):
            session.execute(delete(table))
    return factory


def journal(factory, type_: str, **match) -> list[dict]:
    with factory() as session:
        found = [e["data"] for e in events.export(session) if e["type"] == type_]
    return [d for d in found if all(d.get(k) == v for k, v in match.items())]


def contacts(factory) -> dict[str, PsContact]:
    with factory() as session:
        return {c.idnat: c for c in session.scalars(select(PsContact))}


def test_simulator_extraction_files_are_integrated(factory):
    """The files the Annuaire Santé simulator serves (the public layout) go in whole: people, then mailboxes."""
    files = extraction_files(from_mapping(SIMULATOR_DATA), datetime(2026, 11, 24, tzinfo=UTC))
    (ps_name, ps), (mss_name, mss) = sorted(files.items(), reverse=True)
    people = directory.run_import(
        factory, ps.splitlines(keepends=True), ps_name, "admin", expected_rejected=0
    )
    boxes = directory.run_import(factory, mss.splitlines(keepends=True), mss_name, "admin")
    assert (people.kind, people.status, people.imported, people.rejected, people.created) == (
        "personne_activite",
        "finished",
        4,
        0,
        4,
    )
    assert (boxes.kind, boxes.status, boxes.rejected) == ("mssante", "finished", 0)
    found = contacts(factory)
    assert found["810000000001"].family == "MARTIN"
    assert found["810000000001"].mss_address == "claire.martin@hopital-simule.mssante.fr"
    assert found["810000000004"].mss_address == "cabinet.bernard@medecin.mssante.fr"  # CAB when no PER
    assert found["810000000003"].activities == [
        {"finess_site": "690000002", "raison_sociale": "Centre Simulé Léon Bérard", "savoir_faire": "SM54"}
    ]
    started = journal(factory, "annuaire.import_started", import_id=people.import_id)
    assert started == [
        {
            "import_id": people.import_id,
            "file": ps_name,
            "kind": "personne_activite",
            "sequence": 1,
            "expected_rejected": 0,
            "author": "admin",
        }
    ]
    with factory() as session:  # structures' mailboxes are kept too
        assert (
            session.scalar(
                select(MssMailbox.structure_id).where(MssMailbox.address == "dpi@hopital-simule.mssante.fr")
            )
            == "1750000001"
        )


def test_malformed_lines_are_rejected_with_their_number_and_nothing_stored_is_lost(factory):
    first = directory.run_import(
        factory,
        person_file(*(person_row(rpps(n), f"NOM{n}") for n in range(6))),
        "PS_LibreAcces_Personne_activite_1.txt",
        "admin",
    )
    assert first.created == 6
    before = {k: (c.family, c.active) for k, c in contacts(factory).items()}
    second_file = person_file(
        person_row(rpps(0), "NOM0"),
        person_row(rpps(1), "NOM1"),
        person_row(rpps(2), "NOM2")[:-2] + b"\n",  # line 4: a field short
        person_row(rpps(3), "NOM3"),
        b"8|123|8123|DR|" + b"|" * 21 + b"\n",  # line 6: not an RPPS
        person_row(rpps(4), "NOM4"),
        person_row(rpps(5), "NOM\xff5".encode("latin-1").decode("latin-1")).replace(
            b"NOM\xc3\xbf5", b"NOM\xff5"
        ),  # line 8: not UTF-8
        b"\n",  # blank: skipped, not rejected
        person_row(rpps(6), "NOUVEAU"),
    )
    report = directory.run_import(
        factory,
        second_file,
        "PS_LibreAcces_Personne_activite_2.txt",
        "admin",
        expected_rejected=3,
        batch_size=2,
    )
    assert report.status == "finished"
    assert [(r.line, r.reason.split(" ")[0]) for r in report.rejects] == [
        (4, "24"),
        (6, "identifiant"),
        (8, "not"),
    ]
    assert (report.imported, report.rejected, report.created, report.sequence) == (5, 3, 1, 2)
    after = contacts(factory)
    assert {
        k: (c.family, c.active) for k, c in after.items() if k in before and k[1:] not in (rpps(2), rpps(5))
    } == {k: v for k, v in before.items() if k[1:] not in (rpps(2), rpps(5))}
    assert after["8" + rpps(6)].family == "NOUVEAU"
    # the two professionals whose line was rejected are still there (deactivated: the new extraction omits them)
    assert after["8" + rpps(2)].family == "NOM2" and after["8" + rpps(5)].family == "NOM5"
    finished = journal(factory, "annuaire.import_finished", import_id=report.import_id)[0]
    assert (finished["imported"], finished["rejected"], finished["sequence"]) == (5, 3, 2)
    assert finished["rejects"][0] == {"line": 4, "reason": "24 fields, the header has 25"}
    with factory() as session:
        stored = session.scalars(
            select(AnnuaireReject.line).where(AnnuaireReject.import_id == report.import_id)
        ).all()
        row = session.scalar(select(AnnuaireImport).where(AnnuaireImport.import_id == report.import_id))
    assert sorted(stored) == [4, 6, 8] and (row.status, row.lines, row.rejected) == ("finished", 8, 3)


def test_reimport_updates_changed_fields_without_doubles(factory):
    directory.run_import(
        factory,
        person_file(person_row(rpps(1), "DURAND"), person_row(rpps(2), "PETIT")),
        "PS_LibreAcces_Personne_activite_1.txt",
        "admin",
    )
    directory.run_import(
        factory,
        mailbox_file(mailbox_row(rpps(1), "durand@old.mssante.fr")),
        "Extraction_Correspondance_MSSante_1.txt",
        "admin",
    )
    directory.run_import(
        factory,
        person_file(person_row(rpps(1), "DURAND-MARTIN"), person_row(rpps(2), "PETIT")),
        "PS_LibreAcces_Personne_activite_2.txt",
        "admin",
    )
    second = directory.run_import(
        factory,
        mailbox_file(mailbox_row(rpps(1), "durand@new.mssante.fr")),
        "Extraction_Correspondance_MSSante_2.txt",
        "admin",
    )
    assert second.sequence == 2 and second.duplicates == 0
    found = contacts(factory)
    assert len(found) == 2 and found["8" + rpps(1)].family == "DURAND-MARTIN"
    assert found["8" + rpps(1)].mss_address == "durand@new.mssante.fr"
    updates = journal(factory, "directory.contact_updated", import_id=second.import_id)
    assert [(u["field"], u["before"], u["after"]) for u in updates] == [
        ("mss_address", "durand@old.mssante.fr", "durand@new.mssante.fr")
    ]
    assert journal(factory, "directory.contact_updated", field="family")[0]["after"] == "DURAND-MARTIN"
    with factory() as session:  # the old mailbox left the extraction
        assert session.scalars(select(MssMailbox.address)).all() == ["durand@new.mssante.fr"]
    assert journal(factory, "directory.duplicate_detected") == []


def test_professionals_no_longer_listed_are_deactivated_and_come_back(factory):
    directory.run_import(
        factory,
        person_file(person_row(rpps(1), "A"), person_row(rpps(2), "B")),
        "PS_LibreAcces_Personne_activite_1.txt",
        "u",
    )
    gone = directory.run_import(
        factory, person_file(person_row(rpps(1), "A")), "PS_LibreAcces_Personne_activite_2.txt", "u"
    )
    assert gone.deactivated == 1 and contacts(factory)["8" + rpps(2)].active is False
    back = directory.run_import(
        factory,
        person_file(person_row(rpps(1), "A"), person_row(rpps(2), "B")),
        "PS_LibreAcces_Personne_activite_3.txt",
        "u",
    )
    assert back.updated == 1 and contacts(factory)["8" + rpps(2)].active is True


def test_several_activities_of_one_professional(factory):
    report = directory.run_import(
        factory,
        person_file(
            person_row(rpps(1), "A", finess="750000001"), person_row(rpps(1), "A", finess="690000002")
        ),
        "PS_LibreAcces_Personne_activite_1.txt",
        "u",
        batch_size=1,
    )
    assert (report.imported, report.created) == (2, 1)
    assert [a["finess_site"] for a in contacts(factory)["8" + rpps(1)].activities] == [
        "750000001",
        "690000002",
    ]


def test_bad_header_refuses_the_file_before_writing(factory):
    with pytest.raises(ExtractionError, match=r"x\.txt:1: not an Annuaire Santé extraction"):
        directory.run_import(factory, [b"a|b|c|\n", b"1|2|3|\n"], "x.txt", "u")
    with pytest.raises(ExtractionError, match="missing column"):
        directory.run_import(factory, [b"Identifiant PP|Nom d'exercice|\n"], "y.txt", "u")
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(AnnuaireImport)) == 0


def test_a_line_the_database_refuses_is_rejected_alone(factory, monkeypatch):
    """Should the database refuse a batch, each line is retried on its own: only the refused one is rejected."""
    original = directory.apply_people

    def refusing(session, import_id, records):
        if any(r.rpps == rpps(2) for r in records):
            raise IntegrityError("INSERT", {}, Exception("simulated constraint"))
        return original(session, import_id, records)

    monkeypatch.setattr(directory, "apply_people", refusing)
    report = directory.run_import(
        factory,
        person_file(*(person_row(rpps(n), f"N{n}") for n in range(4))),
        "PS_LibreAcces_Personne_activite_1.txt",
        "u",
        batch_size=4,
    )
    assert [(r.line, "simulated constraint" in r.reason) for r in report.rejects] == [(4, True)]
    assert sorted(contacts(factory)) == ["8" + rpps(n) for n in (0, 1, 3)]


def test_fault_import_aborts_on_bad_line(factory):
    rows = [person_row(rpps(n), f"N{n}") for n in range(6)]
    rows[3] = b"garbage\n"  # line 5
    with faults.enabled("import_aborts_on_bad_line"):
        report = directory.run_import(
            factory,
            person_file(*rows),
            "PS_LibreAcces_Personne_activite_1.txt",
            "u",
            expected_rejected=1,
            batch_size=2,
        )
    assert report.status == "aborted" and report.error.endswith(":5: 1 fields, the header has 25")
    assert (
        report.rejected == 0 and report.imported == 2
    )  # the first batch only: its neighbour and the rest are lost
    assert sorted(contacts(factory)) == ["8" + rpps(0), "8" + rpps(1)]
    correct = directory.run_import(
        factory, person_file(*rows), "PS_LibreAcces_Personne_activite_2.txt", "u", batch_size=2
    )
    assert (correct.status, correct.imported, correct.rejected) == ("finished", 5, 1)


def test_fault_reimport_creates_duplicates(factory):
    file = person_file(person_row(rpps(1), "A"), person_row(rpps(2), "B"))
    directory.run_import(factory, file, "PS_LibreAcces_Personne_activite_1.txt", "u")
    with faults.enabled("reimport_creates_duplicates"):
        report = directory.run_import(factory, file, "PS_LibreAcces_Personne_activite_2.txt", "u")
    assert report.duplicates == 2
    assert sorted(
        d["idnat"] for d in journal(factory, "directory.duplicate_detected", import_id=report.import_id)
    ) == ["8" + rpps(1), "8" + rpps(2)]
    clean = directory.run_import(factory, file, "PS_LibreAcces_Personne_activite_3.txt", "u")
    assert clean.created == 0  # the correct import updates (the doubles stay detected until cleaned)


def test_search_by_name_and_mailbox(factory):
    directory.run_import(
        factory,
        person_file(person_row(rpps(1), "LEFÈVRE"), person_row(rpps(2), "LEFORT")),
        "PS_LibreAcces_Personne_activite_1.txt",
        "u",
    )
    directory.run_import(
        factory,
        mailbox_file(mailbox_row(rpps(2), "Lefort@Medecin.mssante.fr")),
        "Extraction_Correspondance_MSSante_1.txt",
        "u",
    )
    with factory.begin() as session:
        assert [c.family for c in directory.search(session, "u", name="lefe")] == ["LEFÈVRE"]
        assert [c.family for c in directory.search(session, "u", name="Lef")] == ["LEFÈVRE", "LEFORT"]
        assert [c.rpps for c in directory.search(session, "u", mss="lefort@medecin.mssante.fr")] == [rpps(2)]
        with pytest.raises(directory.DirectoryError) as refused:
            directory.search(session, "u")
    assert refused.value.reason == "no_criteria"
    assert [d["by"] for d in journal(factory, "directory.search_requested")][-3:] == ["name", "name", "mss"]


class FakeAnnuaire:
    def __init__(self, answer=None, error=None):
        self.answer, self.error, self.calls = answer or [], error, []

    def practitioners(self, *, rpps=None, name=None, mailbox=None):
        self.calls.append(rpps)
        if self.error:
            raise self.error
        return self.answer


def test_lookup_rpps_asks_the_annuaire_and_refreshes_the_directory(factory):
    directory.run_import(
        factory, person_file(person_row(rpps(1), "ANCIEN")), "PS_LibreAcces_Personne_activite_1.txt", "u"
    )
    client = FakeAnnuaire(
        [
            FhirPractitioner(
                "8" + rpps(1), rpps(1), "NOUVEAU", "Anne", "DR", "10", (("anne@x.mssante.fr", "PER"),)
            )
        ]
    )
    with factory.begin() as session:
        found, source, error = directory.lookup_rpps(session, "u", rpps(1), client)
        assert (source, error, [c.family for c in found], found[0].mss_address) == (
            "fhir",
            None,
            ["NOUVEAU"],
            "anne@x.mssante.fr",
        )
    assert client.calls == [rpps(1)] and len(contacts(factory)) == 1
    assert journal(factory, "directory.search_requested", by="rpps")[-1]["source"] == "fhir"
    down = FakeAnnuaire(error=AnnuaireError("unreachable", "connection refused"))
    with factory.begin() as session:
        found, source, error = directory.lookup_rpps(session, "u", rpps(1), down)
    assert (source, error, [c.family for c in found]) == ("local", "connection refused", ["NOUVEAU"])
    with factory.begin() as session, pytest.raises(directory.DirectoryError):
        directory.lookup_rpps(session, "u", "12ab", client)


def test_fault_rpps_search_bypasses_fhir(factory):
    client = FakeAnnuaire([])
    with factory.begin() as session, faults.enabled("rpps_search_bypasses_fhir"):
        _, source, _ = directory.lookup_rpps(session, "u", rpps(1), client)
    assert (source, client.calls) == ("local", [])
