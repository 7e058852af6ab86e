"""CDA validation throughput: our compiled Schematron (once, cached) against compiling it per document.

Measures on FRCP/PPS documents made from the ANS examples (each one distinct: ids and patient names vary):
- the one-time cost: generating the XSLT of the 5 profiles + FRCP + PPS (cold cache) and compiling it on Saxon;
- the FRCP volet schematron alone on the ANS FRCP example, and what a naive per-file tool does (generate and
  compile the schematron for every document); lxml XML Schema alone for reference;
- 1,000 documents through XML Schema + the volet schematron, on one core and on all cores (a process pool, each
  worker with its own Validator: saxonche is not thread-safe across processors);
- the same 1,000 documents through the full ANS chain (XSD + 5 profiles + volet), one core and all cores.
``DCC_BENCH_CDA_DOCS`` / ``DCC_BENCH_CDA_FULL`` change the counts (default 1,000 each).
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from lxml import etree

from benchmarks.report import median, timed, write_section

FRCP = "CANCER-FRCP_2025.01_Appareil.xml"
PPS = "CANCER-PPS_2025.01.xml"
CDA = {"cda": "urn:hl7-org:v3"}

_worker = None


def make_documents(examples: Path, count: int) -> list[bytes]:
    """Distinct FRCP/PPS documents (alternating) from the ANS examples: new document id, patient ids, names."""
    bases = [etree.parse(str(examples / FRCP)), etree.parse(str(examples / PPS))]
    documents = []
    for index in range(count):
        tree = bases[index % 2]
        root = etree.fromstring(etree.tostring(tree))
        root.find("cda:id", CDA).set("extension", f"BENCH-{index:06d}")
        for family in root.xpath(
            "cda:recordTarget/cda:patientRole/cda:patient/cda:name/cda:family", namespaces=CDA
        ):
            family.text = f"PATIENT-{index:04d}"
        documents.append(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return documents


def _init_worker(cache_dir: str, full: bool) -> None:
    global _worker
    from harness.cda import Validator

    _worker = Validator(cache_dir=cache_dir)
    _worker.warm_up(
        [*(_profiles() if full else []), "CI-SIS_CANCER-FRCP_2025.01.sch", "CI-SIS_CANCER-PPS_2025.01.sch"]
    )


def _profiles() -> list[str]:
    from harness.cda.volets import PROFILES

    return list(PROFILES)


def _validate_volet(data: bytes) -> bool:
    return _worker.validate(data, profiles=False).valid


def _validate_full(data: bytes) -> bool:
    return _worker.validate(data).valid


def _throughput(documents: list[bytes], cache_dir: str, full: bool, workers: int) -> tuple[float, int]:
    task = _validate_full if full else _validate_volet
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(cache_dir, full)) as pool:
        list(pool.map(task, documents[:workers], chunksize=1))  # every worker warmed up before timing
        start = time.perf_counter()
        results = list(pool.map(task, documents, chunksize=4))
        elapsed = time.perf_counter() - start
    return len(documents) / elapsed, sum(results)


def main() -> None:
    from saxonche import PySaxonProcessor

    from harness.cda import Validator
    from harness.cda.schematron import compile_schematron, parse_svrl
    from harness.cda.xsd import XsdValidator

    count = int(os.environ.get("DCC_BENCH_CDA_DOCS", "1000"))
    full_count = int(os.environ.get("DCC_BENCH_CDA_FULL", "1000"))
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="cda-bench-cache-") as cache_dir:
        # one-time cost, cold cache then warm cache
        chain = [*_profiles(), "CI-SIS_CANCER-FRCP_2025.01.sch", "CI-SIS_CANCER-PPS_2025.01.sch"]
        start = time.perf_counter()
        cold = Validator(cache_dir=cache_dir)
        cold.warm_up(chain)
        cold_seconds = time.perf_counter() - start
        start = time.perf_counter()
        warm = Validator(cache_dir=cache_dir)
        warm.warm_up(chain)
        warm_seconds = time.perf_counter() - start
        assert warm.cache.generated == 0
        examples = warm.cisis.examples
        frcp_bytes = (examples / FRCP).read_bytes()
        frcp_sch = warm.cisis.schematrons / "CI-SIS_CANCER-FRCP_2025.01.sch"

        # FRCP volet schematron alone on the ANS example: Saxon parse + transform + report
        processor = PySaxonProcessor(license=False)
        executable = warm.executable("CI-SIS_CANCER-FRCP_2025.01.sch")
        text = frcp_bytes.decode("utf-8")

        def ours() -> int:
            node = warm._processor.parse_xml(xml_text=text)
            return len(parse_svrl(executable.transform_to_string(xdm_node=node), "frcp"))

        repeats = 200
        times, failures = timed(ours, repeats)
        assert failures == 0
        volet_rate = 1 / median(times)

        def naive() -> int:
            xslt = compile_schematron(frcp_sch).xslt
            compiled = processor.new_xslt30_processor().compile_stylesheet(stylesheet_text=xslt)
            node = processor.parse_xml(xml_text=text)
            return len(parse_svrl(compiled.transform_to_string(xdm_node=node), "frcp"))

        naive_times, failures = timed(naive, 20)
        assert failures == 0
        naive_rate = 1 / median(naive_times)

        xsd = XsdValidator(warm.cisis.xsd)
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        xsd_times, errors = timed(
            lambda: xsd.validate(etree.ElementTree(etree.fromstring(frcp_bytes, parser))), 50
        )
        assert errors == []
        xsd_rate = 1 / median(xsd_times)

        documents = make_documents(examples, count)
        volet_one, valid_one = _throughput(documents, cache_dir, full=False, workers=1)
        volet_all, valid_all = _throughput(documents, cache_dir, full=False, workers=cores)
        assert valid_one == valid_all == count, (valid_one, valid_all)
        sample = documents[:full_count]
        full_one, full_valid_one = _throughput(sample, cache_dir, full=True, workers=1)
        full_all, full_valid_all = _throughput(sample, cache_dir, full=True, workers=cores)
        assert full_valid_one == full_valid_all == full_count, (full_valid_one, full_valid_all)

    size_kib = len(frcp_bytes) / 1024
    body = f"""
FRCP volet schematron alone on the ANS example `{FRCP}` ({size_kib:.0f} KiB), Saxon parse + transform + report,
median of {repeats} runs:

| measure | documents/s |
|---|---|
| our XSLT 3, compiled once (cached) | {volet_rate:.1f} |
| naive: generate + compile the schematron for each document (median of 20) | {naive_rate:.2f} |
| ratio | {volet_rate / naive_rate:.0f}× |
| lxml XML Schema alone (`CDA_extended.xsd`, median of 50) | {xsd_rate:.1f} |
| reference (brief): ISO skeleton on saxonche / SchXslt / target | 17–18 / 38–48 / ≥ 60 |

One-time cost for the 5 profiles + FRCP 2025.01 + PPS 2025.01: {cold_seconds:.1f} s with an empty cache (XSLT
generation + Saxon compile), {warm_seconds:.1f} s with the on-disk cache (Saxon compile only; most of it is the
structuration minimale profile, 13,000 asserts). Paid once per process. The Saxon compile dominates both
(HE cannot save it); generating the XSLT is a fraction of a second, so the two differ mostly by noise here.

{count} FRCP/PPS documents (alternating, each distinct), XML Schema + volet schematron, after each worker warmed up:

| workers | documents/s | valid |
|---|---|---|
| 1 | {volet_one:.1f} | {valid_one}/{count} |
| {cores} (all cores, process pool) | {volet_all:.1f} | {valid_all}/{count} |

Full ANS chain (XML Schema + IHE + ModelesDeContenusCDA + Modeles_ANS + structuration minimale + terminologie +
volet) on the first {full_count} of those documents:

| workers | documents/s | valid |
|---|---|---|
| 1 | {full_one:.2f} | {full_valid_one}/{full_count} |
| {cores} (all cores, process pool) | {full_all:.2f} | {full_valid_all}/{full_count} |

The machine is shared with other jobs while it runs; figures are wall-clock.
"""
    write_section("cda_validate", body)


if __name__ == "__main__":
    main()
