"""What is not a bundle, or not one this version reads, stops with a clear message and exit 2; a bundle whose
manifest is garbled is a finding (exit 1); nothing crashes."""

from __future__ import annotations

import json

import pytest

import harness
from harness.cli import main
from proofs.findings import Check
from proofs.verify import verify_bundle
from tests.proofs.conftest import load, save


def _verify(capsys, *argv) -> tuple[int, str, str]:
    status = main(["verify", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_not_a_directory(tmp_path, capsys):
    file = tmp_path / "bundle.zip"
    file.write_bytes(b"PK")
    status, _, err = _verify(capsys, str(file))
    assert status == 2 and "not a directory" in err
    status, _, err = _verify(capsys, str(tmp_path / "absent"))
    assert status == 2 and "no such directory" in err


def test_directory_that_is_not_a_bundle(tmp_path, capsys):
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    status, _, err = _verify(capsys, str(tmp_path))
    assert status == 2 and "not a proof bundle" in err


def test_interrupted_run(bundle, capsys):
    (bundle / "manifest.json").unlink()
    status, _, err = _verify(capsys, str(bundle))
    assert status == 2 and "interrupted" in err


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[1, 2]"])
def test_garbled_manifest_is_a_finding(bundle, tmp_path, capsys, content):
    (bundle / "manifest.json").write_bytes(content)
    report = tmp_path / "cr.xlsx"
    status, out, _ = _verify(capsys, str(bundle), "--report", str(report))
    assert status == 1 and "manifest.json" in out
    assert report.is_file()


def test_manifest_with_wrong_types_is_a_finding(bundle):
    document = load(bundle)
    document["results"] = "all good"
    del document["files"]
    save(bundle, document)
    verification = verify_bundle(bundle)
    messages = [f.message for f in verification.findings if f.check is Check.MANIFEST]
    assert any("'results'" in m for m in messages) and any("'files'" in m for m in messages)
    assert verification.exit_status == 1


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("format_version", 2, "format_version 2"),
        ("format_version", "1", "format_version '1'"),
        ("format", "autre/chose", "not a dcc-recette proof bundle"),
        ("hash_algorithm", "md5", "only sha256"),
    ],
)
def test_unknown_format_is_a_usage_error(bundle, capsys, key, value, expected):
    document = load(bundle)
    document[key] = value
    save(bundle, document)
    status, _, err = _verify(capsys, str(bundle))
    assert status == 2 and expected in err


def test_another_harness_version_is_said_not_refused(bundle, capsys):
    document = load(bundle)
    document["harness"]["version"] = "0.0.9"
    save(bundle, document)
    status, out, _ = _verify(capsys, str(bundle), "--json")
    assert status == 0
    notes = json.loads(out)["notes"]
    assert any("0.0.9" in n and harness.__version__ in n for n in notes)


def test_usage_errors(pristine, tmp_path, capsys):
    assert _verify(capsys, str(pristine), "--report", str(tmp_path / "cr.pdf"))[0] == 2
    assert _verify(capsys, str(pristine), "--report", str(tmp_path / "nowhere" / "cr.md"))[0] == 2
    assert _verify(capsys, str(pristine), "--pubkey", str(tmp_path / "absent.pub"))[0] == 2
    not_a_key = tmp_path / "key.pub"
    not_a_key.write_text("hello")
    status, _, err = _verify(capsys, str(pristine), "--pubkey", str(not_a_key))
    assert status == 2 and "key.pub" in err
    bad_rem = tmp_path / "rem.xlsx"
    bad_rem.write_text("not a workbook")
    status, _, err = _verify(capsys, str(pristine), "--rem", str(bad_rem))
    assert status == 2 and "rem.xlsx" in err


def test_missing_bundle_argument_exits_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["verify"])
    assert stop.value.code == 2


def test_garbled_book_and_trace_are_findings(bundle):
    (bundle / "recette-book.xlsx").write_bytes(b"PK\x03\x04 not really")
    (bundle / "trace.jsonl").write_text('{"id": 1}\n')
    save(bundle, load(bundle), rehash=True)
    verification = verify_bundle(bundle)
    checks = {(f.check, f.file) for f in verification.findings}
    assert (Check.BOOK, "recette-book.xlsx") in checks and (Check.TRACE, "trace.jsonl") in checks
