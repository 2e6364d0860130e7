"""CityJSON reader (1.0, 1.1, 2.0, and CityJSON Text Sequences ``.city.jsonl``): one feature record
per CityObject.

* Vertices are decoded with ``transform`` (scale / translate) when present.
* CRS: ``metadata.referenceSystem`` (``https://www.opengis.net/def/crs/EPSG/0/7415`` or the 1.0 URN form).
  A file without one (e.g. cjio's Rotterdam subset) has an unknown CRS: mapping asks for ``--crs``.
* Footprint (the 2D default geometry): the union of the object's ``GroundSurface`` polygons projected
  to 2D, taken from the highest LoD geometry that has semantic ground surfaces; without semantics, the
  union of every non-vertical surface of the lowest LoD geometry. An object without geometry gets the
  union of its children's footprints (a Building made of BuildingParts).
* Heights: when the object has no ``measuredHeight`` attribute, the reader derives one from the
  geometry (max z - min z, metres, rounded to mm) and lists it in ``fields["derived"]``.
* Feature ``N`` in origins is the CityObject id.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

import shapely
from shapely.geometry import Polygon, mapping

from kg_twin.errors import InputError
from kg_twin.ingest.base import MapContext, RecordSource, Triple, register
from kg_twin.ingest.sniffing import json_top, truncated_json_error
from kg_twin.ingest.mappers.geosparql import map_features, propose_features
from kg_twin.models import Origin, Record, Reject

_VERSIONS = ("1.0", "1.1", "2.0")


def _surfaces(geom: dict[str, Any]) -> Iterator[tuple[list[list[int]], Any]]:
    """(rings, semantic value index) for every surface of a geometry, whatever its nesting."""
    t = geom.get("type")
    b = geom.get("boundaries") or []
    values = (geom.get("semantics") or {}).get("values")
    if t in ("MultiSurface", "CompositeSurface"):
        for i, surf in enumerate(b):
            yield surf, (values[i] if values else None)
    elif t == "Solid":
        for si, shell in enumerate(b):
            for i, surf in enumerate(shell):
                yield surf, (values[si][i] if values and values[si] else None)
    elif t in ("MultiSolid", "CompositeSolid"):
        for di, solid in enumerate(b):
            for si, shell in enumerate(solid):
                for i, surf in enumerate(shell):
                    v = None
                    if values and values[di] and values[di][si]:
                        v = values[di][si][i]
                    yield surf, v


def _ground_types(geom: dict[str, Any]) -> set[int]:
    sem = geom.get("semantics") or {}
    return {i for i, s in enumerate(sem.get("surfaces") or []) if s.get("type") == "GroundSurface"}


class CityJSONHandler(RecordSource):
    name = "cityjson"
    extensions = (".json", ".cityjson", ".jsonl")

    def sniff(self, path: Path, head: bytes) -> float:
        top = json_top(Path(path))  # the parsed top level ("type" may come after megabytes of vertices)
        if top.type == "CityJSON":
            return 0.97
        if top.truncated and top.keys & {"CityObjects", "vertices", "transform"}:
            return 0.9  # a cut CityJSON: read() names it truncated
        return 0.2 if path.suffix.lower() == ".cityjson" and top.is_json else 0.0

    def _footprint(self, geoms: list[dict[str, Any]], verts: list[tuple[float, float, float]]) -> tuple[Any, float | None, float | None, str]:
        usable = [g for g in geoms if g.get("type") in ("MultiSurface", "CompositeSurface", "Solid", "MultiSolid", "CompositeSolid")]
        if not usable:
            return None, None, None, "no surface geometry"
        with_ground = [g for g in usable if _ground_types(g)]
        if with_ground:
            geom = max(with_ground, key=lambda g: str(g.get("lod", "")))
            ground = _ground_types(geom)
        else:
            geom = min(usable, key=lambda g: str(g.get("lod", "")))
            ground = None
        polys = []
        zs: list[float] = []
        for rings, sem in _surfaces(geom):
            for ring in rings:
                zs.extend(verts[i][2] for i in ring)
            if ground is not None and sem not in ground:
                continue
            ext = [verts[i][:2] for i in rings[0]]
            if len(ext) < 3:
                continue
            holes = [[verts[i][:2] for i in r] for r in rings[1:] if len(r) >= 3]
            p = Polygon(ext, holes)
            if p.area <= 1e-9:  # vertical wall seen from above
                continue
            if not p.is_valid:
                p = shapely.make_valid(p, method="structure", keep_collapsed=False)
            polys.append(p)
        if not polys:
            return None, (min(zs) if zs else None), (max(zs) if zs else None), "no horizontal surface"
        how = f"GroundSurface of LoD {geom.get('lod')}" if ground is not None else f"non-vertical surfaces of LoD {geom.get('lod')}"
        return shapely.unary_union(polys), min(zs), max(zs), how

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]:
        path = Path(path)
        raw = path.read_bytes()
        lines = raw.splitlines()
        seq = len(lines) > 1 and b'"CityJSONFeature"' in lines[1]
        if not seq and (cut := truncated_json_error(path, "CityJSON")) is not None:
            raise cut
        try:
            doc = json.loads(lines[0] if seq else raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError("BAD_CITYJSON", f"{path.name} is not valid JSON: {e}", where={"file": path.name}) from e
        if not isinstance(doc, dict) or doc.get("type") != "CityJSON":
            raise InputError("BAD_CITYJSON", f"{path.name}: not a CityJSON object (type must be 'CityJSON')", where={"file": path.name})
        version = str(doc.get("version", ""))
        if version not in _VERSIONS:
            raise InputError("BAD_CITYJSON", f"{path.name}: CityJSON version {version!r} is not supported",
                             where={"file": path.name}, hint=f"supported versions: {', '.join(_VERSIONS)}; upgrade with `cjio FILE upgrade save OUT`")
        tr = doc.get("transform")
        rs = (doc.get("metadata") or {}).get("referenceSystem")
        if rs:
            crs = {"value": str(rs), "confidence": 1.0, "reason": f"metadata.referenceSystem {rs}"}
        else:
            crs = {"value": None, "confidence": 0.0, "reason": "the CityJSON file has no metadata.referenceSystem"}
        layer = path.name.split(".")[0]
        if not seq:
            yield from self._objects(path.name, layer, crs, doc.get("CityObjects") or {}, self._vertices(doc, tr))
            return
        # CityJSON Text Sequences (.city.jsonl): a header line, then one CityJSONFeature per line
        for n, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                feat = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                yield Reject(origin=Origin(file=path.name, line=n), code="BAD_CITYJSON", reason=f"line is not JSON: {e}")
                continue
            if not isinstance(feat, dict) or feat.get("type") != "CityJSONFeature":
                yield Reject(origin=Origin(file=path.name, line=n), code="BAD_CITYJSON", reason="line is not a CityJSONFeature")
                continue
            yield from self._objects(path.name, layer, crs, feat.get("CityObjects") or {}, self._vertices(feat, tr))

    @staticmethod
    def _vertices(doc: dict[str, Any], tr: dict[str, Any] | None) -> list[tuple[float, float, float]]:
        raw = doc.get("vertices") or []
        if tr:
            (sx, sy, sz), (tx, ty, tz) = tr["scale"], tr["translate"]
            return [(x * sx + tx, y * sy + ty, z * sz + tz) for x, y, z in raw]
        return [(float(x), float(y), float(z)) for x, y, z in raw]

    def _objects(self, fname: str, layer: str, crs: dict[str, Any], objects: dict[str, dict[str, Any]],
                 verts: list[tuple[float, float, float]]) -> Iterator[Union[Record, Reject]]:
        feet: dict[str, Any] = {}
        heights: dict[str, tuple[float | None, float | None]] = {}
        problems: dict[str, str] = {}
        hows: dict[str, str] = {}
        for oid, obj in objects.items():
            try:
                fp, zmin, zmax, hows[oid] = self._footprint(obj.get("geometry") or [], verts)
            except (IndexError, TypeError, ValueError) as e:
                problems[oid] = f"geometry cannot be decoded: {e}"
                continue
            feet[oid] = fp
            heights[oid] = (zmin, zmax)
        # parents without own footprint: union of the children's
        for oid, obj in objects.items():
            if feet.get(oid) is None and obj.get("children"):
                kids = [feet[c] for c in obj["children"] if feet.get(c) is not None]
                if kids:
                    feet[oid] = shapely.unary_union(kids)
                    hows[oid] = "union of the children's footprints"
                    zz = [z for c in obj["children"] for z in heights.get(c, (None, None)) if z is not None]
                    heights[oid] = (min(zz), max(zz)) if zz else (None, None)
        for oid, obj in objects.items():
            origin = Origin(file=fname, feature=oid)
            if oid in problems:
                yield Reject(origin=origin, code="BAD_GEOMETRY", reason=problems[oid])
                continue
            attrs = {str(k): (json.dumps(v, ensure_ascii=False, sort_keys=True) if isinstance(v, (dict, list)) else v)
                     for k, v in (obj.get("attributes") or {}).items()}
            derived = []
            zmin, zmax = heights.get(oid, (None, None))
            if "measuredHeight" not in attrs and zmin is not None and zmax is not None:
                attrs["measuredHeight"] = round(zmax - zmin, 3)
                derived.append("measuredHeight")
            fp = feet.get(oid)
            fields = {
                "layer": layer,
                "crs": crs,
                "id": oid,
                "type": obj.get("type"),
                "geometry": mapping(fp) if fp is not None and not fp.is_empty else None,
                "properties": attrs,
                "parents": list(obj.get("parents") or []),
                "footprint": hows.get(oid, "no geometry"),
            }
            if derived:
                fields["derived"] = derived
            yield Record(kind="feature", fields=fields, origin=origin)

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        m = propose_features(records, ctx, self.name)  # CityJSON: one layer (the file)
        derived = {d for r in records for d in r.fields.get("derived") or []}
        for c in m["columns"]:
            if c["column"] in derived:
                c["reason"] = "derived from the geometry (max z - min z) where the attribute is absent; " + c["reason"]
        m["geometry"]["footprints"] = dict(sorted(Counter(str(r.fields.get("footprint")) for r in records).items()))
        if m["key"]["column"] is None:
            m["key"] = {"column": None, "confidence": 1.0, "reason": "CityObject ids are the keys"}
        return m

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        return map_features(records, mapping, ctx)


HANDLER = register(CityJSONHandler())
