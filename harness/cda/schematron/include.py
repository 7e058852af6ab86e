"""Step 1 of the ISO pipeline: replace every ``sch:include`` by the document element of the file it names.

The ANS trees include a few hundred files through relative hrefs; the set of files read is returned so the
compiled result can be cached under the hash of exactly what it was built from.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
SCH = f"{{{SCH_NS}}}"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


class SchematronError(Exception):
    """A schematron that cannot be compiled (missing include, malformed file, unknown abstract pattern)."""


def load(path: Path) -> etree._ElementTree:
    try:
        return etree.parse(str(path), _PARSER)
    except (OSError, etree.XMLSyntaxError) as error:
        raise SchematronError(f"{path}: {error}") from error


def expand_includes(path: Path, files: list[Path] | None = None, _depth: int = 0) -> etree._Element:
    """Return the root of ``path`` with includes resolved recursively; ``files`` collects every file read."""
    if _depth > 50:
        raise SchematronError(f"{path}: includes nested more than 50 levels (a cycle?)")
    path = path.resolve()
    if files is not None:
        files.append(path)
    root = load(path).getroot()
    for include in list(root.iter(f"{SCH}include")):
        href = include.get("href")
        if not href:
            raise SchematronError(f"{path}: sch:include without href")
        target = (path.parent / href.split("#", 1)[0]).resolve()
        if not target.is_file():
            raise SchematronError(f"{path}: included file not found: {href}")
        included = expand_includes(target, files, _depth + 1)
        # where it came from, for error messages (value-set paths stay relative to the top-level .sch, as in ISO)
        included.set("{http://www.w3.org/XML/1998/namespace}base", target.as_uri())
        parent = include.getparent()
        if parent is None:
            return included
        included.tail = include.tail
        parent.replace(include, included)
    return root
