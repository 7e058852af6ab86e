"""``dcc-recette cda render``: an FRCP/PPS as HTML for a person, with our rendering or the user's XSLT; unreadable
input and failing stylesheets are usage errors naming the file."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from harness.cda.cisis import find_cisis_dir
from harness.cli import main

IDENTITY = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:hl7="urn:hl7-org:v3"><xsl:template match="/"><html><body><h1>feuille utilisateur :
  <xsl:value-of select="hl7:ClinicalDocument/hl7:title"/></h1></body></html></xsl:template></xsl:stylesheet>"""
NETWORK = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/"><x><xsl:copy-of select="document('http://127.0.0.1:{port}/leak')"/></x></xsl:template>
</xsl:stylesheet>"""


@pytest.fixture(scope="module")
def examples() -> Path:
    return find_cisis_dir(None).examples


@pytest.mark.parametrize("name", ["CANCER-FRCP_2025.01_Appareil.xml", "CANCER-PPS_2025.01.xml"])
def test_renders_the_ans_examples_for_a_person(examples, name, tmp_path, capsys):
    out = tmp_path / "doc.html"
    assert main(["cda", "render", str(examples / name), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith(("<!doctype html", "<html"))
    assert "Patient" in html and "<h2" in html  # the header table and the sections
    assert "<script" not in html.lower()


def test_a_users_stylesheet_is_applied_instead(examples, tmp_path, capsys):
    sheet = tmp_path / "feuille.xsl"
    sheet.write_text(IDENTITY, encoding="utf-8")
    status = main(["cda", "render", str(examples / "CANCER-PPS_2025.01.xml"), "--stylesheet", str(sheet)])
    assert status == 0
    assert "feuille utilisateur" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not xml at all", "not XML"),
        (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "DOCTYPE"),
        (b"<root><child/></root>", "not a CDA"),
    ],
)
def test_unreadable_or_foreign_files_are_usage_errors_naming_the_file(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(content)
    assert main(["cda", "render", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and message in err


def test_a_stylesheet_may_not_reach_the_network(examples, tmp_path, capsys):
    asked: list[str] = []

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server hook
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.end_headers()
            self.wfile.write(b"<leaked/>")

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        sheet = tmp_path / "fuite.xsl"
        sheet.write_text(NETWORK.format(port=server.server_address[1]), encoding="utf-8")
        status = main(["cda", "render", str(examples / "CANCER-PPS_2025.01.xml"), "--stylesheet", str(sheet)])
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert asked == []  # the server would have answered: the stylesheet was stopped before asking
    assert status == 2
    assert "--stylesheet" in capsys.readouterr().err
