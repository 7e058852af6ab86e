"""Extraction files of the Annuaire Santé (NATIONAL-SERVICES §5, [C]): pipe-separated UTF-8, a header row, every
line ending with ``|``. ``PS_LibreAcces_Personne_activite_<YYYYMMDDhhmm>.txt`` (one line per activity) and
``Extraction_Correspondance_MSSante_<YYYYMMDDhhmm>.txt`` (one line per mailbox), zipped as the public site serves
them. The header columns beyond those NATIONAL-SERVICES quotes are reproduced from the public file as we
understand it [U]; columns we have no data for are left empty, as in the real files.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from harness.simulators.annuaire.data import Directory

PERSONNE_ACTIVITE = [
    "Type d'identifiant PP",
    "Identifiant PP",
    "Identification nationale PP",
    "Code civilité d'exercice",
    "Libellé civilité d'exercice",
    "Code civilité",
    "Libellé civilité",
    "Nom d'exercice",
    "Prénom d'exercice",
    "Code profession",
    "Libellé profession",
    "Code catégorie professionnelle",
    "Libellé catégorie professionnelle",
    "Code type savoir-faire",
    "Libellé type savoir-faire",
    "Code savoir-faire",
    "Libellé savoir-faire",
    "Code mode exercice",
    "Libellé mode exercice",
    "Numéro SIRET site",
    "Numéro SIREN site",
    "Numéro FINESS site",
    "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure",
    "Raison sociale site",
]
CORRESPONDANCE_MSS = [
    "type_bal",
    "adresse_bal",
    "type_identifiant_pp",
    "identifiant_pp",
    "identification_nationale_pp",
    "type_identifiant_structure",
    "identification_structure",
    "service_rattachement",
    "civilite_exercice",
    "nom_exercice",
    "prenom_exercice",
    "categorie_professionnelle",
    "code_profession",
]
PROFESSIONS = {"10": "Médecin", "21": "Pharmacien", "60": "Infirmier"}


def _line(values: list[str]) -> str:
    return "|".join(v.replace("|", " ").replace("\n", " ") for v in values) + "|"


def personne_activite(directory: Directory) -> str:
    orgs = {o.finess: o for o in directory.organizations}
    lines = [_line(PERSONNE_ACTIVITE)]
    for p in sorted(directory.practitioners, key=lambda p: p.rpps):
        org = orgs.get(p.finess_site or "")
        row = dict.fromkeys(PERSONNE_ACTIVITE, "")
        row.update(
            {
                "Type d'identifiant PP": "8",
                "Identifiant PP": p.rpps,
                "Identification nationale PP": p.idnat,
                "Code civilité d'exercice": p.civilite,
                "Nom d'exercice": p.family,
                "Prénom d'exercice": p.given,
                "Code profession": p.profession_code,
                "Libellé profession": PROFESSIONS.get(p.profession_code, ""),
                "Code savoir-faire": p.savoir_faire or "",
                "Numéro FINESS site": p.finess_site or "",
                "Raison sociale site": org.name if org else "",
            }
        )
        lines.append(_line([row[c] for c in PERSONNE_ACTIVITE]))
    return "\n".join(lines) + "\n"


def correspondance_mss(directory: Directory) -> str:
    lines = [_line(CORRESPONDANCE_MSS)]
    for p in sorted(directory.practitioners, key=lambda p: p.rpps):
        for box in p.mailboxes:
            row = dict.fromkeys(CORRESPONDANCE_MSS, "")
            row.update(
                {
                    "type_bal": box.type,
                    "adresse_bal": box.address,
                    "type_identifiant_pp": "8",
                    "identifiant_pp": p.rpps,
                    "identification_nationale_pp": p.idnat,
                    "civilite_exercice": p.civilite,
                    "nom_exercice": p.family,
                    "prenom_exercice": p.given,
                    "code_profession": p.profession_code,
                    "identification_structure": p.finess_site or "",
                }
            )
            lines.append(_line([row[c] for c in CORRESPONDANCE_MSS]))
    for o in sorted(directory.organizations, key=lambda o: o.finess):
        for box in o.mailboxes:
            row = dict.fromkeys(CORRESPONDANCE_MSS, "")
            row.update(
                {
                    "type_bal": box.type,
                    "adresse_bal": box.address,
                    "type_identifiant_structure": "1",
                    "identification_structure": o.idnat,
                }
            )
            lines.append(_line([row[c] for c in CORRESPONDANCE_MSS]))
    return "\n".join(lines) + "\n"


def extraction_files(directory: Directory, when: datetime) -> dict[str, bytes]:
    stamp = when.strftime("%Y%m%d%H%M")
    return {
        f"PS_LibreAcces_Personne_activite_{stamp}.txt": personne_activite(directory).encode("utf-8"),
        f"Extraction_Correspondance_MSSante_{stamp}.txt": correspondance_mss(directory).encode("utf-8"),
    }


def extraction_zip(directory: Directory, when: datetime) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in extraction_files(directory, when).items():
            archive.writestr(
                zipfile.ZipInfo(name, date_time=when.timetuple()[:6]),
                content,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return buffer.getvalue()
