"""``junit.xml``: one test suite per REM section, one test case per scenario, so any CI shows the recette in its
test view. ``non conforme`` is a failure, ``non évalué`` an error (nothing was proved), ``non applicable`` skipped."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from lxml import etree


def write_junit(path: Path, results: list[dict[str, Any]]) -> None:
    suites: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        suites[result["requirement"].rsplit(".", 1)[0]].append(result)
    root = etree.Element("testsuites", name="dcc-recette")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for section, members in sorted(suites.items()):
        suite = etree.SubElement(root, "testsuite", name=section)
        counts = {"tests": len(members), "failures": 0, "errors": 0, "skipped": 0}
        for result in members:
            execution = result.get("execution") or {}
            case = etree.SubElement(
                suite,
                "testcase",
                classname=f"{section}.{result['requirement']}",
                name=result["scenario"] or result["requirement"],
                time=f"{execution.get('duration_s', 0.0):.3f}",
            )
            message = "; ".join(result.get("reasons", [])[:3])
            verdict = result["verdict"]
            if verdict == "non conforme":
                counts["failures"] += 1
                etree.SubElement(
                    case, "failure", message=message[:500], type="non conforme"
                ).text = "\n".join(result.get("reasons", []))
            elif verdict == "non évalué":
                counts["errors"] += 1
                etree.SubElement(case, "error", message=message[:500], type="non évalué").text = "\n".join(
                    result.get("reasons", [])
                )
            elif verdict == "non applicable":
                counts["skipped"] += 1
                etree.SubElement(case, "skipped", message=message[:500])
            if result.get("proofs"):
                etree.SubElement(case, "system-out").text = "\n".join(
                    f"[[ATTACHMENT|{p}]]" for p in result["proofs"]
                )
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
