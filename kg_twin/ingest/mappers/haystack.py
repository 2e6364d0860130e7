"""Project Haystack JSON (``{"meta", "cols", "rows"}``) -> Brick.

Class inference uses brickschema's own Haystack converter
(:class:`brickschema.inference.HaystackInferenceSession`: Haystack marker tags are translated
with its tag map and matched against Brick's tag sets). The structure is built here, with
deterministic IRIs (``ctx.mint``): ``site`` rows become ``brick:Site``, ``equip`` rows equipment,
``point`` rows points linked with ``brick:isPointOf`` (``equipRef``); equipment is placed in its
site with ``brick:hasLocation`` (``siteRef``); ``dis`` / ``navName`` give ``rdfs:label`` and
``unit`` a QUDT unit. A row without ``id``, or whose tags match no Brick class, is still
mapped (as ``brick:Point`` / ``brick:Equipment`` flagged with ``kgt:reviewReason``) or rejected
with a reason - never dropped.

The mapping proposal lists each entity's inferred class with the converter's candidates; a
person may edit ``overrides: {id: brick:Class}``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.ingest.base import MapContext, RecordSource, Triple, register
from kg_twin.ingest.sniffing import json_top
from kg_twin.ingest.labels import brick_index
from kg_twin.ingest.labels.learned import classify_point
from kg_twin.ingest.mappers.table import A, CONFIDENCE, HAS_UNIT, LABEL, ORIGIN, REVIEW, SOURCE, UNIT_TEXT, expand_curie
from kg_twin.ingest.mappers.units import qudt_unit
from kg_twin.models import Origin, Record, Reject
from kg_twin.rdf import IRI, XSD, Literal
from kg_twin.terms import BRICK

POINT_TAGS = {"point", "sensor", "cmd", "sp", "command", "setpoint", "alarm", "status"}
_SKIP = ("his", "cur")


def _value(v: Any) -> Any:
    """Decode Haystack JSON scalars: v3 strings ("s:text", "r:id dis", "n:72 °F", "m:") and
    v4 objects ({"_kind": "ref", "val": ..., "dis": ...}, {"_kind": "number", "val": 72, "unit": "°F"})."""
    if isinstance(v, dict):
        kind = v.get("_kind")
        if kind == "marker":
            return True
        if kind == "number":
            return f"{v.get('val')} {v['unit']}" if v.get("unit") else v.get("val")
        return v.get("val")
    if isinstance(v, str) and len(v) >= 2 and v[1] == ":":
        kind, rest = v[0], v[2:]
        if kind == "m":
            return True
        if kind == "r":
            return rest.split(" ", 1)[0]
        if kind == "n":
            return rest
        if kind in "sud":
            return rest
    return v


def _ref(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dict):
        v = v.get("val")
        if v is None:
            return None
    s = str(v)
    if s.startswith("r:"):
        s = s[2:]
    s = s.lstrip("@")
    return s.split(" ", 1)[0] or None


def _ref_dis(v: Any) -> str | None:
    """Display text carried by a ref: v3 "r:id dis", v4 {"_kind": "ref", "dis": ...}."""
    if isinstance(v, dict):
        return v.get("dis")
    s = str(v)
    return s.split(" ", 1)[1] if " " in s else None


def _markers(row: dict[str, Any]) -> list[str]:
    return sorted(k for k, v in row.items() if v in ("m:", "M", "✓") or v is True or (isinstance(v, dict) and v.get("_kind") == "marker"))


@lru_cache(maxsize=1)
def _session() -> Any:
    from brickschema.inference import HaystackInferenceSession

    return HaystackInferenceSession("urn:kg-twin:haystack#")


def infer(tags: list[str], want: str) -> tuple[str | None, list[str]]:
    """Brick class for Haystack marker tags with brickschema's tag inference; ``want`` = point | equipment."""
    sess = _session()
    idx = brick_index()
    tagset = [t for t in tags if not t.startswith(_SKIP) and not t.endswith("Ref") and t not in ("disMacro", "navName", "tz", "mod", "id")]
    translated = sess._translate_tags(tagset)
    if want == "equipment":
        translated = (translated - {"point", "sensor", "command", "setpoint", "cmd", "sp"}) | {"equipment"}
    else:
        translated = translated - {"equip", "equipment"}
    classes, _left = sess.most_likely_tagsets(list(translated))
    root = BRICK + ("Point" if want == "point" else "Equipment")
    ok = sorted(BRICK + c for c in classes if BRICK + c in idx.classes and idx.is_a(BRICK + c, root))
    ok = sorted({idx.canonical(c) for c in ok})
    return (ok[0] if ok else None), ok


class HaystackHandler(RecordSource):
    """Project Haystack JSON grids."""

    name = "haystack"
    extensions = ("json",)

    def sniff(self, path: Path, head: bytes) -> float:
        top = json_top(Path(path))
        return 0.95 if top.kind == "object" and {"rows", "cols"} <= top.keys else 0.0

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]:
        path = Path(path)
        try:
            grid = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as e:
            raise InputError("BAD_ENCODING", f"{path.name} is not UTF-8 JSON ({e})", hint="Haystack JSON must be UTF-8", where={"file": path.name}) from None
        except json.JSONDecodeError as e:
            raise InputError("BAD_JSON", f"{path.name}: {e.msg}", hint="the file may be truncated; export the grid again", where={"file": path.name, "line": e.lineno, "column": e.colno}) from None
        if not isinstance(grid, dict) or not isinstance(grid.get("rows"), list):
            raise InputError("NOT_HAYSTACK", f"{path.name} is not a Haystack JSON grid (no 'rows' list)", hint="expected {\"meta\": ..., \"cols\": [...], \"rows\": [...]}", where={"file": path.name})
        for i, row in enumerate(grid["rows"], start=1):
            if not isinstance(row, dict):
                yield Reject(origin=Origin(file=path.name, row=i), code="BAD_ROW", reason="row is not an object")
                continue
            rid = _ref(row.get("id"))
            origin = Origin(file=path.name, row=i, element=rid)
            if not rid:
                yield Reject(origin=origin, code="NO_ID", reason="Haystack row without an 'id'", hint="every entity needs an id to be referenced")
                continue
            yield Record(kind="entity", fields=row, origin=origin)

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        entities = {}
        for r in records:
            if not isinstance(r, Record):
                continue
            tags = _markers(r.fields)
            want = "site" if "site" in tags and "equip" not in tags and "point" not in tags else ("point" if POINT_TAGS & set(tags) else "equipment")
            if want == "site":
                entities[_ref(r.fields["id"])] = {"class": "brick:Site", "confidence": 0.95, "tags": tags}
                continue
            best, cands = infer(tags, want)
            entities[_ref(r.fields["id"])] = {
                "class": "brick:" + best.rsplit("#", 1)[-1] if best else ("brick:Point" if want == "point" else "brick:Equipment"),
                "confidence": round(1.0 / len(cands), 2) if cands else 0.1,
                "candidates": ["brick:" + c.rsplit("#", 1)[-1] for c in cands[:5]],
                "tags": tags,
            }
        return {"version": 1, "handler": self.name, "source": {"file": ctx.source_name}, "brick_version": brick_index().version, "entities": entities, "overrides": {}}

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        recs = list(records)
        overrides = {k: expand_curie(v) for k, v in (mapping.get("overrides") or {}).items()}
        known = {_ref(r.fields.get("id")) for r in recs if isinstance(r, Record)}
        src = IRI(ctx.source_iri)

        def iri_of(kind: str, rid: str) -> IRI:
            return ctx.mint(kind, rid)

        kinds: dict[str, str] = {}
        for r in recs:
            if isinstance(r, Record):
                tags = set(_markers(r.fields))
                rid = _ref(r.fields["id"])
                kinds[rid] = "site" if "site" in tags and "equip" not in tags and "point" not in tags else ("point" if POINT_TAGS & tags else "equipment")  # type: ignore[index]
        for r in recs:
            if isinstance(r, Reject):
                yield r
                continue
            f = r.fields
            rid = _ref(f["id"])
            assert rid is not None
            tags = _markers(f)
            kind = kinds[rid]
            subj = iri_of(kind, rid)
            origin = Literal(f"{r.origin.file} row {r.origin.row}")
            review = None
            if rid in overrides:
                klass, conf = overrides[rid], 1.0
            elif kind == "site":
                klass, conf = BRICK + "Site", 0.95
            else:
                best, cands = infer(tags, kind)
                if best in (BRICK + "Point", BRICK + "Equipment"):
                    best = None  # only the root class: the tags say nothing specific
                if best:
                    klass, conf = best, 1.0 / len(cands)
                else:
                    klass, conf = BRICK + ("Point" if kind == "point" else "Equipment"), 0.1
                    review = f"no Brick class matches the Haystack tags {' '.join(tags)}"
                    name = _value(f.get("navName")) or _value(f.get("dis")) or _ref_dis(f["id"])
                    if kind == "point" and name:
                        # fall back to the point-name classifier (with the unit as a hint)
                        cl = classify_point(str(name), unit=qudt_unit(_value(f.get("unit"))) if f.get("unit") else None)
                        if not cl.flagged:
                            klass, conf = cl.point_class, round(cl.confidence * 0.8, 3)
                            review += f"; class from the point name: {cl.why}"
            ref_targets = []
            for key, rel, target_kind in (("equipRef", BRICK + "isPointOf" if kind == "point" else BRICK + "isPartOf", "equipment"), ("siteRef", BRICK + "hasLocation", "site")):
                ref = _ref(f.get(key))
                if ref is None or (kind == "point" and key == "siteRef" and f.get("equipRef")):
                    continue
                if ref not in known:
                    yield Reject(origin=r.origin, code="DANGLING_REF", reason=f"{key} {ref!r} names no row of this grid", hint="export the referenced entity too, or remove the reference")
                    break
                ref_targets.append((IRI(rel), iri_of(kinds[ref], ref)))
            else:
                label = _value(f.get("dis")) or _ref_dis(f["id"]) or _value(f.get("navName")) or rid
                yield (subj, A, IRI(klass))
                yield (subj, LABEL, Literal(str(label)))
                yield (subj, SOURCE, src)
                yield (subj, ORIGIN, origin)
                yield (subj, CONFIDENCE, Literal(f"{conf:.3f}", XSD + "decimal"))
                if review:
                    yield (subj, REVIEW, Literal(review))
                for rel, obj in ref_targets:
                    yield (subj, rel, obj)
                unit = f.get("unit")
                if isinstance(f.get("curVal"), dict) and f["curVal"].get("unit") and not unit:
                    unit = f["curVal"]["unit"]
                if unit:
                    u = qudt_unit(_value(unit))
                    yield (subj, HAS_UNIT, IRI(u)) if u else (subj, UNIT_TEXT, Literal(str(_value(unit))))


HAYSTACK = register(HaystackHandler())
