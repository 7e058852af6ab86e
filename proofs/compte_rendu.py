"""The compte-rendu of a verification (seed 001 §3.2: « points éventuels à corriger et tests à rejouer »), as a
spreadsheet a reviewer can filter and annotate, and as Markdown to paste into a mail or a ticket."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from proofs.findings import Status, Verification

FILL = {
    Status.ACCEPTE: PatternFill("solid", fgColor="C6EFCE"),
    Status.A_REJOUER: PatternFill("solid", fgColor="FFEB9C"),
    Status.A_CORRIGER: PatternFill("solid", fgColor="FFC7CE"),
}
REQUIREMENT_COLUMNS = (
    ("Section", 12),
    ("N° exigence", 13),
    ("Énoncé", 60),
    ("Nature", 14),
    ("Verdict déclaré", 16),
    ("Verdict rejoué", 16),
    ("Statut", 13),
    ("Motifs", 90),
    ("Fichiers de preuve", 45),
)
FINDING_COLUMNS = (("Statut", 13), ("Contrôle", 14), ("N° exigence", 13), ("Fichier", 45), ("Constat", 100))


def decision(verification: Verification) -> str:
    if verification.accepted:
        return "Dossier de recette accepté : aucun point à corriger, aucun test à rejouer."
    counts = verification.counts()
    return (
        "Dossier de recette non accepté : "
        f"{counts[Status.A_CORRIGER.value]} exigence(s) à corriger, {counts[Status.A_REJOUER.value]} à rejouer, "
        f"{len(verification.general_findings)} constat(s) sur l'ensemble du dossier."
    )


def _facts_rows(verification: Verification) -> list[tuple[str, str]]:
    facts = verification.facts
    editor, region = facts.get("editor_rem", {}), facts.get("region_rem", {})
    made_by = facts.get("harness", {})
    checked = facts.get("checked", {})
    target = facts.get("target", {})
    return [
        ("Dossier", verification.bundle),
        ("Décision", decision(verification)),
        ("Produit par", f"{made_by.get('name', '?')} {made_by.get('version', '?')}"),
        ("Vérifié par", f"dcc-recette {facts.get('verifier', {}).get('version', '?')}"),
        (
            "REM du dossier",
            f"{editor.get('file', '?')} {editor.get('version', '?')}"
            + ("" if editor.get("known", True) else " (inconnu)"),
        ),
        ("REM de la région", f"{region.get('file', '?')} {region.get('version', '?')}"),
        (
            "DCC recetté",
            str(target.get("implementation") or target.get("driver_url") or target.get("kind") or "?"),
        ),
        ("Exécution", f"{facts.get('started', '?')} → {facts.get('finished', '?')}"),
        ("Signature", str(facts.get("signature", "?"))),
        ("Fichiers", str(facts.get("files", "?"))),
        ("CDA revalidés / courriels relus", f"{checked.get('cda', 0)} / {checked.get('eml', 0)}"),
        *(("Statut : " + k, str(v)) for k, v in verification.counts().items()),
        ("Hors périmètre du dossier", str(len(verification.out_of_scope))),
    ]


def write_markdown(verification: Verification, path: Path) -> None:
    path.write_text(to_markdown(verification), encoding="utf-8")


def _cell(text: object) -> str:
    return str(text if text is not None else "—").replace("|", "\\|").replace("\n", "<br>")


def to_markdown(verification: Verification) -> str:
    lines = ["# Compte-rendu de vérification du dossier de recette", ""]
    lines += [f"**{decision(verification)}**", ""]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in _facts_rows(verification)[2:]]
    general = verification.general_findings
    lines += ["", "## Constats sur l'ensemble du dossier", ""]
    if general:
        lines += [
            f"- **{f.status.value}** — {f.check.value}{' `' + f.file + '`' if f.file else ''} : {f.message}"
            for f in general
        ]
    else:
        lines.append("Aucun.")
    lines += ["", "## Exigences", ""]
    lines += ["| Exigence | Verdict déclaré | Verdict rejoué | Statut | Motifs |", "|---|---|---|---|---|"]
    for report in verification.requirements.values():
        lines.append(
            f"| {_cell(report.id)} | {_cell(report.claimed)} | {_cell(report.replayed)} | **{report.status.value}** | "
            f"{_cell(chr(10).join(report.reasons))} |"
        )
    if verification.notes:
        lines += ["", "## Remarques", ""] + [f"- {n}" for n in verification.notes]
    if verification.out_of_scope:
        lines += [
            "",
            "## Hors périmètre du dossier",
            "",
            "Exigences du REM de la région pour lesquelles le dossier ne présente pas de verdict (le périmètre "
            "soumis à validation est celui de l'éditeur) :",
            "",
            ", ".join(verification.out_of_scope),
        ]
    return "\n".join(lines) + "\n"


def write_xlsx(verification: Verification, path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Compte-rendu"
    _header(sheet, REQUIREMENT_COLUMNS)
    for report in verification.requirements.values():
        nature = {True: "EXIGENCE", False: "PRÉCONISATION", None: ""}[report.mandatory]
        sheet.append(
            [
                report.section,
                report.id,
                report.statement,
                nature,
                report.claimed or "",
                report.replayed or "",
                report.status.value,
                "\n".join(report.reasons),
                "\n".join(report.files),
            ]
        )
        row = sheet.max_row
        sheet.cell(row, 7).fill = FILL[report.status]
        for column in (3, 8, 9):
            sheet.cell(row, column).alignment = Alignment(wrap_text=True, vertical="top")
    _finish(sheet, len(REQUIREMENT_COLUMNS))
    findings = workbook.create_sheet("Constats")
    _header(findings, FINDING_COLUMNS)
    for finding in verification.findings:
        findings.append(
            [
                finding.status.value,
                finding.check.value,
                finding.requirement or "",
                finding.file or "",
                finding.message,
            ]
        )
        findings.cell(findings.max_row, 1).fill = FILL[finding.status]
        findings.cell(findings.max_row, 5).alignment = Alignment(wrap_text=True, vertical="top")
    _finish(findings, len(FINDING_COLUMNS))
    about = workbook.create_sheet("Dossier")
    for key, value in _facts_rows(verification):
        about.append([key, value])
    for note in verification.notes:
        about.append(["Remarque", note])
    if verification.out_of_scope:
        about.append(["Hors périmètre", ", ".join(verification.out_of_scope)])
    about.column_dimensions["A"].width = 32
    about.column_dimensions["B"].width = 110
    for row in about.iter_rows(min_col=1, max_col=1):
        row[0].font = Font(bold=True)
    tmp = path.with_name(path.name + ".tmp.xlsx")
    workbook.save(tmp)
    tmp.replace(path)


def _header(sheet, columns) -> None:
    sheet.append([name for name, _ in columns])
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.cell(1, index).font = Font(bold=True)


def _finish(sheet, width: int) -> None:
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(width)}{max(sheet.max_row, 1)}"


def write_report(verification: Verification, path: Path) -> None:
    """``.xlsx`` or ``.md`` by the file's suffix (the CLI checks the suffix before verifying)."""
    if path.suffix.lower() == ".xlsx":
        write_xlsx(verification, path)
    elif path.suffix.lower() == ".md":
        write_markdown(verification, path)
    else:
        raise ValueError(f"{path}: a report is .xlsx or .md")
