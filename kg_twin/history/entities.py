"""Deltas for people: client graph names, and which entities (buildings, spaces, points…) changed how."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kg_twin.history.patch import Patch, split_quad

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.core import Core

MAX_ENTITIES = 1000


def client_patch(core: "Core", project: str, p: Patch) -> Patch:
    """The same delta with graphs named as the project's clients name them."""
    ds = core.dataset_of(project)

    def one(q: str) -> str:
        t, g = split_quad(q)
        return f"{t} <{ds.client(g)}> ."

    return Patch([one(q) for q in p.added], [one(q) for q in p.removed])


def _subject(triple: str) -> str:
    return triple.split(" ", 1)[0]


def _predicate(triple: str) -> str:
    return triple.split(" ", 2)[1]


def entity_summary(core: "Core", project: str, p: Patch) -> list[dict[str, Any]]:
    """One row per subject the delta touches (at most :data:`MAX_ENTITIES`): its types (now, or
    from the delta itself when it is gone), triples added / removed, and the properties changed.

    ``how``: ``created`` (only additions, and a new type), ``deleted`` (only removals, and a
    type removed), else ``modified``.
    """
    rows: dict[str, dict[str, Any]] = {}
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    for sign, quads in (("added", p.added), ("removed", p.removed)):
        for q in quads:
            t, _ = split_quad(q)
            s = _subject(t)
            r = rows.setdefault(s, {"entity": s[1:-1] if s.startswith("<") else s, "types": set(), "added": 0, "removed": 0, "properties": set(), "typed": {"added": False, "removed": False}})
            r[sign] += 1
            pred = _predicate(t)
            r["properties"].add(pred[1:-1])
            if pred == rdf_type:
                r["types"].add(t.split(" ", 2)[2].strip()[1:-1])
                r["typed"][sign] = True
    subjects = [s for s in list(rows)[:MAX_ENTITIES] if s.startswith("<")]
    if subjects:
        ds = core.dataset_for([project])  # every graph (and inferred types) in the default graph
        for i in range(0, len(subjects), 500):
            vals = " ".join(subjects[i : i + 500])
            for r in core.store.select(f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {vals} }} ?s a ?t }}", dataset=ds):
                rows["<" + str(r["s"]) + ">"]["types"].add(str(r["t"]))
    out = []
    for r in list(rows.values())[:MAX_ENTITIES]:
        typed = r.pop("typed")
        how = "created" if not r["removed"] and typed["added"] else "deleted" if not r["added"] and typed["removed"] else "modified"
        out.append({**r, "types": sorted(r["types"]), "properties": sorted(r["properties"]), "how": how})
    return sorted(out, key=lambda r: (-(r["added"] + r["removed"]), r["entity"]))
