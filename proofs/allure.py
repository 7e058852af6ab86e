"""``allure-results/``: one Allure result file per scenario (the JSON the Allure report generators read), with the
REM ids as labels (epic = section, feature = requirement, story = scenario) and the proof files attached, so that
``npx allure generate allure-results`` (Allure 3, no Java) gives a browsable report."""

from __future__ import annotations

import json
import mimetypes
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

STATUS = {"conforme": "passed", "non conforme": "failed", "non applicable": "skipped", "non évalué": "broken"}


def write_allure(
    directory: Path, bundle: Path, results: list[dict[str, Any]], started: datetime, finished: datetime
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    start_ms, stop_ms = int(started.timestamp() * 1000), int(finished.timestamp() * 1000)
    for result in results:
        name = result["scenario"] or result["requirement"]
        attachments = []
        for proof in result.get("proofs", []):
            source = bundle / proof
            if not source.is_file():
                continue
            stored = f"{uuid.uuid4()}-attachment{source.suffix}"
            shutil.copyfile(source, directory / stored)
            attachments.append(
                {
                    "name": proof,
                    "source": stored,
                    "type": mimetypes.guess_type(source.name)[0] or "application/octet-stream",
                }
            )
        document = {
            "uuid": str(uuid.uuid4()),
            "historyId": name,
            "testCaseId": name,
            "name": f"{name} — {result['verdict']}",
            "fullName": f"{result['requirement']}/{name}",
            "status": STATUS[result["verdict"]],
            "statusDetails": {"message": "\n".join(result.get("reasons", []))},
            "stage": "finished",
            "start": start_ms,
            "stop": stop_ms,
            "labels": [
                {"name": "epic", "value": result["requirement"].rsplit(".", 1)[0]},
                {"name": "feature", "value": result["requirement"]},
                {"name": "story", "value": name},
                {"name": "suite", "value": result["requirement"].rsplit(".", 1)[0]},
                {"name": "tag", "value": "exigence" if result.get("mandatory") else "préconisation"},
            ],
            "attachments": attachments,
        }
        (directory / f"{document['uuid']}-result.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
        )
