"""Property: flipping any bytes of any artifact (or of any other listed file) makes verification fail, and the
compte-rendu names the file."""

from __future__ import annotations

import itertools
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofs.findings import Check
from proofs.verify import verify_bundle
from tests.proofs.conftest import copy, load

SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
)
_counter = itertools.count()


def _flips(draw, size: int) -> list[tuple[int, int]]:
    positions = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=8, unique=True))
    return [(p, draw(st.integers(1, 255))) for p in positions]  # XOR with a non-zero mask: the byte changes


def _damaged(pristine, tmp_path, name: str, data: st.DataObject):
    bundle = copy(pristine, tmp_path / f"b{next(_counter)}")
    path = bundle / name
    content = bytearray(path.read_bytes())
    for position, mask in _flips(data.draw, len(content)):
        content[position] ^= mask
    path.write_bytes(bytes(content))
    return bundle


def _check(pristine, tmp_path, files, data) -> None:
    name = data.draw(st.sampled_from(files), label="file")
    bundle = _damaged(pristine, tmp_path, name, data)
    try:
        verification = verify_bundle(bundle)
        assert verification.exit_status == 1
        named = [f for f in verification.findings if f.file == name and f.check is Check.INTEGRITY]
        assert named and "modified after the run" in named[0].message
    finally:
        shutil.rmtree(bundle)


@SETTINGS
@given(data=st.data())
def test_flipped_bytes_of_an_artifact_always_fail_and_name_it(pristine, tmp_path, data):
    artifacts = sorted(p for p in load(pristine)["files"] if p.startswith("artifacts/"))
    assert artifacts
    _check(pristine, tmp_path, artifacts, data)


@SETTINGS
@given(data=st.data())
def test_flipped_bytes_of_any_listed_file_always_fail_and_name_it(pristine, tmp_path, data):
    _check(pristine, tmp_path, sorted(load(pristine)["files"]), data)
