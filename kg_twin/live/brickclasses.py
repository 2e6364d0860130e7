"""Brick point classes and their superclasses, for typing live points.

The hierarchy is extracted once from the ontology bundle's Brick (``ontologies/brick/Brick.ttl``,
:data:`kg_twin.ontologies.BRICK_VERSION`) into ``brick_points.json`` (regenerate with
``python -m kg_twin.live.brickclasses``; a test checks the table names the bundle's version)
so that the server does not parse a 2 MB ontology at startup.

>>> "CO2_Sensor" in superclasses("CO2_Level_Sensor")
True
>>> is_point_class("https://brickschema.org/schema/Brick#Air_Temperature_Sensor")
True
>>> is_point_class("https://brickschema.org/schema/Brick#Room")
False
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from kg_twin.ontologies import BRICK_VERSION, brick_file
from kg_twin.terms import BRICK

DATA = Path(__file__).with_name("brick_points.json")
BOOLEAN_ROOTS = ("Status", "Alarm")  # Brick points whose readings are on/off states


@lru_cache(maxsize=1)
def _table() -> dict[str, list[str]]:
    return json.loads(DATA.read_text(encoding="utf-8"))["classes"]


def local(iri: str) -> str:
    return iri[len(BRICK) :] if iri.startswith(BRICK) else iri


def superclasses(cls: str) -> list[str]:
    """Local names of ``cls`` and its Brick superclasses up to ``Point`` (empty if not a point class)."""
    return _table().get(local(cls), [])


def is_point_class(cls: str) -> bool:
    return cls.startswith(BRICK) and local(cls) in _table()


def is_boolean_class(cls: str) -> bool:
    return any(b in superclasses(cls) for b in BOOLEAN_ROOTS)


def source() -> str:
    """Which Brick the table was extracted from (``brick_points.json``'s ``source``)."""
    return str(json.loads(DATA.read_text(encoding="utf-8"))["source"])


def generate(out: Path = DATA) -> int:  # pragma: no cover - maintenance tool
    from rdflib import Graph, RDFS, URIRef, OWL

    src = brick_file()
    g = Graph()
    g.parse(str(src), format="turtle")
    point = URIRef(BRICK + "Point")
    parents: dict[str, set[str]] = {}
    for s, o in g.subject_objects(RDFS.subClassOf):
        if isinstance(s, URIRef) and isinstance(o, URIRef) and str(s).startswith(BRICK) and str(o).startswith(BRICK):
            parents.setdefault(local(str(s)), set()).add(local(str(o)))
    for s, o in g.subject_objects(OWL.equivalentClass):
        if isinstance(s, URIRef) and isinstance(o, URIRef) and str(s).startswith(BRICK) and str(o).startswith(BRICK):
            parents.setdefault(local(str(s)), set()).add(local(str(o)))
            parents.setdefault(local(str(o)), set()).add(local(str(s)))

    def ancestors(c: str) -> set[str]:
        seen: set[str] = set()
        todo = [c]
        while todo:
            x = todo.pop()
            for p in parents.get(x, ()):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return seen

    table = {}
    for c in sorted(parents):
        anc = ancestors(c)
        if "Point" in anc:
            table[c] = [c] + sorted(anc - {c})
    table["Point"] = ["Point"]
    out.write_text(json.dumps({"source": f"Brick {BRICK_VERSION} (ontologies/brick/Brick.ttl)", "classes": table}, separators=(",", ":")), encoding="utf-8")
    return len(table)


if __name__ == "__main__":  # pragma: no cover
    print(generate(), "point classes")
