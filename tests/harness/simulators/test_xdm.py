"""IHE XDM zip: the layout NATIONAL-SERVICES §3 gives, and hostile zips refused with the entry named."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.simulators.xdm import MAX_ENTRIES, XdmError, XdmInput, build_xdm, parse_xdm

CDA = b'<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"/>'


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _valid_entries() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(build_xdm([XdmInput(CDA)]))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_build_gives_the_ihe_layout_read_with_zipfile():
    data = build_xdm(
        [XdmInput(CDA, unique_id="1.2.3^4", patient_id="279035121518989^^^&1.2.250.1.213.1.4.10&ISO")]
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        metadata = archive.read("IHE_XDM/SUBSET01/METADATA.XML")
    assert names[:3] == ["INDEX.HTM", "README.TXT", "IHE_XDM/SUBSET01/METADATA.XML"]
    assert "IHE_XDM/SUBSET01/DOC0001.XML" in names
    assert b"SubmitObjectsRequest" in metadata and b"urn:asip:ci-sis:frcp:2011" in metadata


def test_round_trip_keeps_codes_and_bytes():
    pdf = XdmInput(b"%PDF-1.4 x", mime_type="application/pdf", format_code="urn:ihe:iti:xds-sd:pdf:2008")
    package = parse_xdm(
        build_xdm([XdmInput(CDA, type_code="18776-5", format_code="urn:asip:ci-sis:pps-cancer:2017"), pdf])
    )
    assert [d.type_code for d in package.documents] == ["18776-5", "34794-8"]
    assert package.documents[0].format_code == "urn:asip:ci-sis:pps-cancer:2017"
    assert package.documents[0].content == CDA
    assert (
        package.documents[1].mime_type == "application/pdf" and package.documents[1].content == b"%PDF-1.4 x"
    )


def test_build_is_deterministic():
    assert build_xdm([XdmInput(CDA)]) == build_xdm([XdmInput(CDA)])


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/passwd", "IHE_XDM/../../x", "C:\\x", "a\\..\\..\\b"])
def test_path_traversal_is_refused_naming_the_entry(name):
    entries = _valid_entries() | {name: b"x"}
    with pytest.raises(XdmError, match="unsafe path"):
        parse_xdm(_zip(entries))


def test_zip_bomb_is_refused():
    entries = _valid_entries() | {"IHE_XDM/SUBSET01/BOMB.XML": b"\0" * (30 * 1024 * 1024)}
    with pytest.raises(XdmError, match=r"zip bomb|larger than"):
        parse_xdm(_zip(entries))


def test_thousands_of_entries_are_refused():
    entries = _valid_entries() | {f"IHE_XDM/SUBSET01/F{n}.TXT": b"" for n in range(3000)}
    with pytest.raises(XdmError, match=f"more than {MAX_ENTRIES}"):
        parse_xdm(_zip(entries, zipfile.ZIP_STORED))


def test_header_lying_about_size_is_still_bounded(monkeypatch):
    """A hostile zip can declare a small size; the reader stops at its own limit whatever the header says."""
    import harness.simulators.xdm as xdm

    monkeypatch.setattr(xdm, "MAX_ENTRY_BYTES", 1000)
    entries = _valid_entries() | {"IHE_XDM/SUBSET01/BIG.XML": b"y" * 5000}
    data = bytearray(_zip(entries, zipfile.ZIP_STORED))
    # Rewrite the central-directory file_size of BIG.XML to 10 bytes.
    marker = data.rfind(b"PK\x01\x02")
    while marker != -1:
        name_len = int.from_bytes(data[marker + 28 : marker + 30], "little")
        if data[marker + 46 : marker + 46 + name_len].endswith(b"BIG.XML"):
            data[marker + 24 : marker + 28] = (10).to_bytes(4, "little")
        marker = data.rfind(b"PK\x01\x02", 0, marker)
    with pytest.raises(XdmError):
        parse_xdm(bytes(data))


def test_missing_metadata_and_dangling_uri_are_refused():
    entries = _valid_entries()
    del entries["IHE_XDM/SUBSET01/METADATA.XML"]
    with pytest.raises(XdmError, match=r"missing IHE_XDM/SUBSET01/METADATA\.XML"):
        parse_xdm(_zip(entries))
    entries = _valid_entries()
    del entries["IHE_XDM/SUBSET01/DOC0001.XML"]
    with pytest.raises(XdmError, match="names no entry"):
        parse_xdm(_zip(entries))


def test_metadata_with_external_entity_is_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    entries = _valid_entries()
    entries["IHE_XDM/SUBSET01/METADATA.XML"] = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'
        '<x xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&e;</x>'
    ).encode()
    with pytest.raises(XdmError, match="no ExtrinsicObject"):
        parse_xdm(_zip(entries))


def test_not_a_zip():
    with pytest.raises(XdmError, match="not a zip"):
        parse_xdm(b"hello")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=3000))
def test_corrupted_zips_give_only_xdm_errors(noise, where):
    data = bytearray(build_xdm([XdmInput(CDA)]))
    position = where % len(data)
    data[position : position + len(noise)] = noise
    try:
        parse_xdm(bytes(data))
    except XdmError:
        pass
