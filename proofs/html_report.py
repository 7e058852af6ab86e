"""``report.html``: a single self-contained page — summary per section, then each requirement with its scenarios,
verdicts, reasons and links to the evidence files of the bundle (relative links, so the page works wherever the
bundle is unpacked)."""

from __future__ import annotations

from collections import Counter, defaultdict
from html import escape
from pathlib import Path
from typing import Any

from rem.model import Rem
from rules.verdict import Outcome, combine

COLOUR = {
    "conforme": "#c6efce",
    "non conforme": "#ffc7ce",
    "non applicable": "#e7e6e6",
    "non évalué": "#ffeb9c",
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}
.v{font-weight:600;white-space:nowrap}details{margin:.4em 0}summary{cursor:pointer}
.small{color:#555;font-size:.9em}
"""


def _badge(verdict: str) -> str:
    return f'<span class="v" style="background:{COLOUR[verdict]};padding:0 .4em">{escape(verdict)}</span>'


def write_html(path: Path, rem: Rem, manifest: dict[str, Any]) -> None:
    results = manifest["results"]
    by_requirement: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        by_requirement[result["requirement"]].append(result)
    verdicts = {rid: combine(Outcome(r["verdict"]) for r in rs).value for rid, rs in by_requirement.items()}
    sections: dict[str, Counter] = defaultdict(Counter)
    for rid, verdict in verdicts.items():
        sections[rem.requirement(rid).section_id][verdict] += 1
    parts = [
        f"<!doctype html><html lang=fr><meta charset=utf-8><title>Recette DCC — {escape(manifest['rem']['file'])}</title>",
        f"<style>{STYLE}</style><h1>Recette DCC</h1>",
        f"<p class=small>REM {escape(manifest['rem']['file'])} (version {escape(manifest['rem']['version'])}), cible "
        f"{escape(str(manifest['target'].get('kind')))}, du {escape(manifest['started'])} au {escape(manifest['finished'])}.</p>",
        "<h2>Synthèse par section</h2><table><tr><th>Section</th>"
        + "".join(f"<th>{_badge(v)}</th>" for v in COLOUR)
        + "</tr>",
    ]
    for section, counts in sections.items():
        parts.append(f"<tr><td><a href='#{escape(section)}'>{escape(section)}</a></td>")
        parts.append("".join(f"<td>{counts.get(v, 0)}</td>" for v in COLOUR) + "</tr>")
    parts.append("</table><h2>Exigences</h2>")
    current = None
    for requirement in rem.requirements:
        if requirement.id not in by_requirement:
            continue
        if requirement.section_id != current:
            current = requirement.section_id
            parts.append(f"<h3 id='{escape(current)}'>{escape(current)} — {escape(requirement.section)}</h3>")
        parts.append(
            f"<details><summary>{_badge(verdicts[requirement.id])} <b>{escape(requirement.id)}</b> "
            f"{escape(requirement.fonction)}</summary><p>{escape(requirement.statement)}</p>"
        )
        for result in by_requirement[requirement.id]:
            parts.append(
                f"<p>{_badge(result['verdict'])} scénario <b>{escape(result['scenario'])}</b></p><ul>"
            )
            parts.extend(f"<li>{escape(reason)}</li>" for reason in result.get("reasons", []))
            parts.append("</ul><table><tr><th>Preuve attendue</th><th>Fichiers</th></tr>")
            for proof in result.get("expected_proofs", []):
                links = (
                    "<br>".join(f"<a href='{escape(f)}'>{escape(f)}</a>" for f in proof["delivered"]) or "—"
                )
                parts.append(
                    f"<tr><td>{escape(proof['id'])} {escape(proof['text'])}</td><td>{links}</td></tr>"
                )
            parts.append("</table>")
        parts.append("</details>")
    path.write_text("".join(parts) + "</html>\n", encoding="utf-8")
