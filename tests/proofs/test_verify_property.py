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
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
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


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            yield from _paths(child, (*prefix, index))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
)
@given(data=st.data())
def test_any_manifest_edit_gives_a_verdict_never_a_crash(pristine, tmp_path, data):
    """Whatever value replaces whatever part of the manifest, verify answers: findings or a usage error."""
    from proofs.verify import BundleError
    from tests.proofs.conftest import save

    document = load(pristine)
    paths = [p for p in _paths(document) if p]
    path = data.draw(st.sampled_from(paths), label="path")
    value = data.draw(JSON, label="value")
    holder = document
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    bundle = copy(pristine, tmp_path / f"m{next(_counter)}")
    try:
        save(bundle, document)
        try:
            verification = verify_bundle(bundle)
        except BundleError:
            return  # format, format_version or hash_algorithm changed: not ours to judge
        verification.to_json()
    finally:
        shutil.rmtree(bundle)
