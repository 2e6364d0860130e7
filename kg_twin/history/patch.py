"""Deltas as RDF Patch (Apache Jena RDF Delta's text format), stored compressed.

A version's delta is a list of ``A`` (add) and ``D`` (delete) rows, each an N-Quads statement in
stored graph names. Sealed versions keep it as one zlib-compressed, base64 literal in the
project's history graph: a few bytes per changed quad, and no index entry per quad.

>>> p = Patch(added=['<http://s> <http://p> "1" <http://g> .'], removed=[])
>>> text = p.text("urn:v1")
>>> print(text)
H id <urn:v1> .
TX .
A <http://s> <http://p> "1" <http://g> .
TC .
>>> Patch.parse(text) == p
True
>>> Patch.unpack(p.pack()) == p
True
>>> split_quad('<http://s> <http://p> "a <b" <http://g> .')
('<http://s> <http://p> "a <b"', 'http://g')
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass, field


def split_quad(line: str) -> tuple[str, str]:
    """An N-Quads line (with a named graph) -> (triple text, graph IRI)."""
    body = line.rstrip()
    if body.endswith("."):
        body = body[:-1].rstrip()
    triple, _, g = body.rpartition(" <")
    return triple, g[:-1]


@dataclass
class Patch:
    added: list[str] = field(default_factory=list)  # N-Quads lines, without the newline
    removed: list[str] = field(default_factory=list)

    def graphs(self) -> set[str]:
        return {split_quad(q)[1] for q in self.added} | {split_quad(q)[1] for q in self.removed}

    def text(self, version_iri: str) -> str:
        rows = [f"H id <{version_iri}> .", "TX ."]
        rows += ["D " + q for q in self.removed]
        rows += ["A " + q for q in self.added]
        rows.append("TC .")
        return "\n".join(rows)

    @staticmethod
    def parse(text: str) -> "Patch":
        p = Patch()
        for line in text.splitlines():
            if line.startswith("A "):
                p.added.append(line[2:])
            elif line.startswith("D "):
                p.removed.append(line[2:])
        return p

    def pack(self) -> str:
        """Compressed form stored in a literal (removed rows, then added rows)."""
        raw = ("\n".join(["D " + q for q in self.removed] + ["A " + q for q in self.added])).encode("utf-8")
        return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")

    @staticmethod
    def unpack(blob: str) -> "Patch":
        return Patch.parse(zlib.decompress(base64.b64decode(blob)).decode("utf-8"))


def net(patches: list[Patch]) -> Patch:
    """The net change of patches applied in order (a quad added then removed cancels out).

    >>> a, b = '<s> <p> <o> <g> .', '<s> <p> <o2> <g> .'
    >>> n = net([Patch(added=[a]), Patch(removed=[a], added=[b])])
    >>> n.added, n.removed
    (['<s> <p> <o2> <g> .'], [])
    """
    added: dict[str, None] = {}
    removed: dict[str, None] = {}
    for p in patches:
        for q in p.removed:
            if q in added:
                del added[q]
            else:
                removed[q] = None
        for q in p.added:
            if q in removed:
                del removed[q]
            else:
                added[q] = None
    return Patch(list(added), list(removed))


def inverse(p: Patch) -> Patch:
    return Patch(added=list(p.removed), removed=list(p.added))
