"""One Brick version everywhere: the ontology bundle's (``ontologies/brick/Brick.ttl``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg_twin.live import brickclasses
from kg_twin.ontologies import BRICK_VERSION, MODULES, brick_file

ROOT = Path(__file__).resolve().parents[2] / "kg_twin"

# ways code names a Brick release: prose, schema IRIs, brickschema's ontologies/<v>/ folders, version settings
VERSION_MENTIONS = [
    re.compile(r"\bBrick\s+v?(\d+\.\d+)", re.I),
    re.compile(r"brickschema\.org/schema/(\d+\.\d+)/"),
    re.compile(r"ontologies\W{1,6}(\d+\.\d+)\b"),
    re.compile(r"brick_?version\s*[=:]\s*[\"'](\d+\.\d+)", re.I),
]


def brick_versions(text: str) -> set[str]:
    return {m.group(1) for pat in VERSION_MENTIONS for m in pat.finditer(text)}


@pytest.mark.parametrize(
    "text, found",
    [
        ('DEFAULT_BRICK_VERSION = "1.4"', {"1.4"}),
        ('files("brickschema") / "ontologies" / "1.4" / "Brick.ttl"', {"1.4"}),
        ("Brick point classes (Brick 1.4), for typing", {"1.4"}),
        ("https://brickschema.org/schema/1.3/Brick", {"1.3"}),
        ("TagInferenceSession(brick_version='1.2')", {"1.2"}),
        ("no version here: BrickTag, brick:Point", set()),
    ],
)
def test_the_scan_finds_version_mentions(text, found):
    assert brick_versions(text) == found


def test_bundle_version_is_the_brick_file():
    assert MODULES["brick"].version.startswith(BRICK_VERSION + ".")
    head = brick_file().read_text(encoding="utf-8")
    assert f"brickschema.org/schema/{BRICK_VERSION}/Brick" in head


def test_no_other_brick_version_in_the_code():
    other: dict[str, set[str]] = {}
    files = [p for p in ROOT.rglob("*") if p.suffix in (".py", ".json", ".md", ".ttl", ".yml") and p.is_file()]
    assert len(files) > 50
    for p in files:
        found = brick_versions(p.read_text(encoding="utf-8", errors="replace")) - {BRICK_VERSION}
        if found:
            other[str(p.relative_to(ROOT))] = found
    assert other == {}, f"Brick versions other than the bundle's {BRICK_VERSION}: {other}"


def test_live_point_table_comes_from_the_bundle():
    assert brickclasses.source() == f"Brick {BRICK_VERSION} (ontologies/brick/Brick.ttl)"
