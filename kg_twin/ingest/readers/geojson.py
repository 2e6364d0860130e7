"""GeoJSON reader (RFC 7946, plus the legacy ``crs`` member of GeoJSON 2008, and GeoJSON Text
Sequences, RFC 8142 / newline-delimited GeoJSON: ``.geojsonl``, ``.geojsons``, ``.ndjson``).

A FeatureCollection, a single Feature or a bare geometry. RFC 7946 coordinates are CRS84 by
definition; a legacy ``"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}}``
member is honoured. When coordinates fall outside longitude/latitude ranges and no ``crs`` member
says otherwise, the CRS is reported unknown (the mapper then asks for ``--crs``).

Feature ``N`` in origins is the 0-based position in the file (OGR's FID for GeoJSON).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.geo.crs import CRS84
from kg_twin.ingest.sniffing import json_top, truncated_json_error
from kg_twin.ingest.base import register
from kg_twin.ingest.mappers.geosparql import FeatureMapping
from kg_twin.models import Origin, Record, Reject


def _scalar(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return v


def _bbox(obj: Any, acc: list[float]) -> None:
    """Extend acc = [xmin, ymin, xmax, ymax] with every coordinate pair under obj."""
    if isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], (int, float)):
        x, y = float(obj[0]), float(obj[1])
        acc[0], acc[1], acc[2], acc[3] = min(acc[0], x), min(acc[1], y), max(acc[2], x), max(acc[3], y)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _bbox(o, acc)


def _geom_coords(g: dict[str, Any] | None) -> Any:
    if not g:
        return []
    if g.get("type") == "GeometryCollection":
        return [_geom_coords(x) for x in g.get("geometries") or []]
    return g.get("coordinates") or []


def declared_crs(doc: dict[str, Any], features: list[dict[str, Any]]) -> dict[str, Any]:
    crs = doc.get("crs")
    if isinstance(crs, dict):
        props = crs.get("properties") or {}
        name = props.get("name") or props.get("href")
        if name:
            return {"value": str(name), "confidence": 0.95, "reason": f"legacy GeoJSON crs member {name}"}
    acc = [float("inf"), float("inf"), float("-inf"), float("-inf")]
    for f in features:
        _bbox(_geom_coords(f.get("geometry")), acc)
    if acc[0] != float("inf") and not (-180 <= acc[0] <= acc[2] <= 180 and -90 <= acc[1] <= acc[3] <= 90):
        return {"value": None, "confidence": 0.0,
                "reason": f"coordinates span ({acc[0]:.6g} {acc[1]:.6g}, {acc[2]:.6g} {acc[3]:.6g}), not longitude/latitude, "
                "although GeoJSON (RFC 7946) means CRS84 and the file has no crs member"}
    return {"value": CRS84, "confidence": 1.0, "reason": "GeoJSON (RFC 7946): coordinates are CRS84 longitude/latitude"}


SEQ_EXTENSIONS = (".geojsonl", ".geojsons", ".geojsonseq", ".ndjson", ".jsonl")


class GeoJSONHandler(FeatureMapping):
    name = "geojson"
    extensions = (".geojson", ".json") + SEQ_EXTENSIONS

    def sniff(self, path: Path, head: bytes) -> float:
        top = json_top(Path(path))  # the parsed top level, not a window of the text
        if top.type in ("CityJSON", "CityJSONFeature"):
            return 0.0
        if (path.suffix.lower() in SEQ_EXTENSIONS or head[:1] == b"\x1e") and top.type == "Feature":
            return 0.9  # GeoJSON text sequence: the first record is a Feature
        typed = top.type in ("FeatureCollection", "Feature") or (top.truncated and "features" in top.keys)
        if path.suffix.lower() == ".geojson":
            return 0.95
        if typed:
            return 0.9 if path.suffix.lower() == ".json" else 0.85
        return 0.0

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]:
        path = Path(path)
        raw = path.read_bytes()
        if path.suffix.lower() in SEQ_EXTENSIONS or raw[:1] == b"\x1e":
            yield from self._read_seq(path, raw)
            return
        if (cut := truncated_json_error(path, "GeoJSON")) is not None:
            raise cut
        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            where = {"file": path.name}
            if isinstance(e, json.JSONDecodeError):
                where.update(line=e.lineno, column=e.colno)
            raise InputError("BAD_GEOJSON", f"{path.name} is not valid JSON: {e}", where=where,
                             hint="check the file is complete UTF-8 JSON (RFC 7946)") from e
        if not isinstance(doc, dict) or "type" not in doc:
            raise InputError("BAD_GEOJSON", f"{path.name}: top-level object with a 'type' expected", where={"file": path.name})
        t = doc["type"]
        if t == "FeatureCollection":
            features = doc.get("features")
            if not isinstance(features, list):
                raise InputError("BAD_GEOJSON", f"{path.name}: FeatureCollection without a features array", where={"file": path.name})
        elif t == "Feature":
            features = [doc]
        elif t in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"):
            features = [{"type": "Feature", "geometry": doc, "properties": {}}]
        else:
            raise InputError("BAD_GEOJSON", f"{path.name}: unsupported GeoJSON type {t!r}", where={"file": path.name},
                             hint="expected FeatureCollection, Feature or a geometry")
        layer = str(doc.get("name") or path.stem)
        crs = declared_crs(doc, [f for f in features if isinstance(f, dict)])
        for i, f in enumerate(features):
            origin = Origin(file=path.name, feature=str(i))
            if not isinstance(f, dict) or f.get("type") != "Feature":
                yield Reject(origin=origin, code="BAD_FEATURE", reason="not a GeoJSON Feature object")
                continue
            props = f.get("properties") or {}
            if not isinstance(props, dict):
                yield Reject(origin=origin, code="BAD_FEATURE", reason="properties is not an object")
                continue
            fields: dict[str, Any] = {
                "layer": layer,
                "crs": crs,
                "geometry": f.get("geometry"),
                "properties": {str(k): _scalar(v) for k, v in props.items()},
            }
            if f.get("id") is not None:
                fields["id"] = str(f["id"])
            yield Record(kind="feature", fields=fields, origin=origin)

    def _read_seq(self, path: Path, raw: bytes) -> Iterator[Union[Record, Reject]]:
        """GeoJSON Text Sequences (RFC 8142, records led by RS) and newline-delimited GeoJSON:
        one Feature per line; feature ``N`` is the 0-based line of features."""
        texts = [t for t in raw.replace(b"\x1e", b"\n").splitlines()]
        feats: list[tuple[int, Any]] = []
        for line_no, t in enumerate(texts, start=1):
            if not t.strip():
                continue
            try:
                feats.append((line_no, json.loads(t)))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                feats.append((line_no, e))
        good = [f for _, f in feats if isinstance(f, dict)]
        crs = declared_crs({}, good)
        layer = path.stem
        for i, (line_no, f) in enumerate(feats):
            origin = Origin(file=path.name, feature=str(i), line=line_no)
            if not isinstance(f, dict) or f.get("type") != "Feature":
                why = f"not JSON: {f}" if isinstance(f, Exception) else "not a GeoJSON Feature object"
                yield Reject(origin=origin, code="BAD_FEATURE", reason=why)
                continue
            props = f.get("properties") or {}
            fields: dict[str, Any] = {"layer": layer, "crs": crs, "geometry": f.get("geometry"),
                                      "properties": {str(k): _scalar(v) for k, v in props.items()}}
            if f.get("id") is not None:
                fields["id"] = str(f["id"])
            yield Record(kind="feature", fields=fields, origin=origin)


HANDLER = register(GeoJSONHandler())
