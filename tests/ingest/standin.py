"""A tiny point-list handler used only by the pipeline tests (name ``test-points``).

It exists so the pipeline can be tested on its own, independent of the real table handler:
CSV with columns ``id,label,class,room``; a row with the wrong number of cells is a read
reject, a row without ``id`` or with a class that is not a Brick local name is a map reject.
It never sniffs (score 0): tests select it with ``reader="test-points"``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.ingest.base import MapContext, RecordSource, Triple, register
from kg_twin.models import Origin, Record, Reject
from kg_twin.rdf import IRI, RDF_TYPE, Literal
from kg_twin.terms import BRICK, KGT, RDFS


class PointsHandler(RecordSource):
    name = "test-points"
    extensions = ()

    def sniff(self, path: Path, head: bytes) -> float:
        return 0.0

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise InputError("ENCODING", f"{Path(path).name}: not UTF-8 at byte {e.start}", where={"file": Path(path).name}, hint="save the file as UTF-8") from None
        rows = list(csv.reader(text.splitlines()))
        if not rows:
            raise InputError("EMPTY", f"{Path(path).name}: empty file", where={"file": Path(path).name})
        header = rows[0]
        for i, row in enumerate(rows[1:], start=2):
            if len(row) != len(header):
                yield Reject(origin=Origin(file=Path(path).name, row=i), code="CELLS", reason=f"{len(row)} cells, header has {len(header)}")
                continue
            yield Record(kind="row", fields=dict(zip(header, row)), origin=Origin(file=Path(path).name, row=i))

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        return {
            "version": 1,
            "handler": self.name,
            "key": {"column": "id", "confidence": 0.95, "why": "unique, always filled"},
            "label": {"column": "label", "confidence": 0.9},
            "class": {"column": "class", "prefix": BRICK, "confidence": 0.6, "why": "values look like Brick class names"},
            "room": {"column": "room", "relation": BRICK + "hasLocation", "confidence": 0.5},
        }

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        for r in records:
            f = r.fields
            key = (f.get(mapping["key"]["column"]) or "").strip()
            cls = (f.get(mapping["class"]["column"]) or "").strip()
            if not key:
                yield Reject(origin=r.origin, code="NO_KEY", reason="empty id")
                continue
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", cls):
                yield Reject(origin=r.origin, code="BAD_CLASS", reason=f"{cls!r} is not a class name")
                continue
            s = ctx.mint("point", key)
            yield (s, IRI(RDF_TYPE), IRI(mapping["class"]["prefix"] + cls))
            yield (s, IRI(RDFS + "label"), Literal(f.get(mapping["label"]["column"], "")))
            yield (s, IRI(KGT + "source"), IRI(ctx.source_iri))
            room = (f.get(mapping["room"]["column"]) or "").strip()
            if room:
                rm = ctx.mint("room", room)
                yield (s, IRI(mapping["room"]["relation"]), rm)
                yield (rm, IRI(RDF_TYPE), IRI(BRICK + "Room"))
                yield (rm, IRI(RDFS + "label"), Literal(room))


HANDLER = register(PointsHandler())
