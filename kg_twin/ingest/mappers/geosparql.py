"""GIS features -> GeoSPARQL (+ BOT for buildings): shared ``propose`` / ``map`` of the
GeoJSON, shapefile and CityJSON handlers.

Feature records (``kind="feature"``) carry these fields::

    layer       layer name (shapefile stem, GeoJSON "name" or file stem, CityJSON file stem)
    crs         {"value": "EPSG:2154" | WKT | None, "confidence": 0..1, "reason": "..."} as read
    geometry    GeoJSON-like geometry in the source CRS (2D or 3D)
    properties  attribute name -> value (str / int / float / bool / date)
    type        optional feature type (CityJSON "Building", "BuildingPart", ...)
    parents     optional list of parent feature ids (CityJSON)
    id          optional native id (GeoJSON feature id, CityJSON object id)

Output per feature (``s`` = ``{base}id/{project}/{kind}/{key}``)::

    s a geo:Feature [, bot:Building] ; rdfs:label "..." ; dcterms:identifier "key" ;
      kgt:source <source> ; kgt:origin "FILE feature N" ; kgt:sourceCrs <crs IRI> ;
      geo:hasDefaultGeometry g ; <attribute properties> .
    g a geo:Geometry, sf:Polygon ; geo:asWKT "POLYGON ((lon lat, ...))"^^geo:wktLiteral .

Project properties minted for attribute columns are described once per map run
(``a owl:DatatypeProperty ; rdfs:label ; rdfs:range ; qudt:hasUnit``).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.geo.crs import ToCRS84, crs_iri, parse_crs
from kg_twin.geo.geometry import WKT_LITERAL, GeometryError, prepare_many
from kg_twin.ingest.base import MapContext, RecordSource, Triple
from kg_twin.ingest.extent import check_crs_extent, crs84_bounds, sample
from kg_twin.ingest.mappers.attributes import _curie, convert, expand, pick_key, pick_label, profile_columns
from kg_twin.ingest.mappers.layers import OSM_TAG_COLUMNS, classify_layer
from kg_twin.ingest.mappers.layers import normalise as normalise_layer
from kg_twin.models import Record, Reject
from kg_twin.rdf import IRI, RDF_TYPE, XSD_BOOLEAN, Literal
from kg_twin.terms import BOT, DCTERMS, GEO, KGT, OWL, QUDT, RDFS, SF

A = IRI(RDF_TYPE)
LABEL = IRI(RDFS + "label")
IDENT = IRI(DCTERMS + "identifier")
K_SOURCE = IRI(KGT + "source")
K_ORIGIN = IRI(KGT + "origin")
K_SRC_CRS = IRI(KGT + "sourceCrs")
K_REPAIRED = IRI(KGT + "geometryRepaired")
K_CITYTYPE = IRI(KGT + "cityObjectType")
K_PART_OF = IRI(KGT + "partOf")
GEO_FEATURE = IRI(GEO + "Feature")
GEO_GEOMETRY = IRI(GEO + "Geometry")
HAS_DEFAULT = IRI(GEO + "hasDefaultGeometry")
K_SOURCE_WKT = IRI(KGT + "sourceWKT")
AS_WKT = IRI(GEO + "asWKT")
BOT_BUILDING = BOT + "Building"

CITY_TYPES = {
    "Building": ["geo:Feature", "bot:Building"],
    "BuildingPart": ["geo:Feature", "kgt:BuildingPart"],
    "BuildingInstallation": ["geo:Feature", "kgt:BuildingInstallation"],
}


def propose_classes(layer: str, types: set[str], rows: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Classes of a layer's features: CityJSON / CityGML object types, else the layer's name and
    columns (:func:`kg_twin.ingest.mappers.layers.classify_layer`)."""
    if types:
        by_type = {t: CITY_TYPES.get(t, ["geo:Feature"]) for t in sorted(types)}
        return {"value": ["geo:Feature"], "by_type": by_type, "kind": "feature", "confidence": 1.0,
                "reason": "CityJSON object types: " + ", ".join(sorted(types))}
    rows = rows or []
    columns = sorted({str(k) for r in rows[:1000] for k in r})
    values: dict[str, set[str]] = {}
    for c in columns:
        if normalise_layer(c) in OSM_TAG_COLUMNS:
            values[c] = {str(r[c]) for r in rows if r.get(c) not in (None, "")}
    return classify_layer(layer, columns, values)


def resolve_crs_choice(records: list[Record], ctx: MapContext) -> dict[str, Any]:
    """The CRS decision: ``ctx.options['crs']`` (``--crs``) wins, else what the file declares."""
    forced = ctx.options.get("crs")
    if forced:
        crs = parse_crs(str(forced))
        return {"value": str(forced), "confidence": 1.0, "reason": "given by the caller (--crs)", "name": crs.name}
    declared = records[0].fields.get("crs") if records else None
    if declared and declared.get("value"):
        return dict(declared)
    reason = (declared or {}).get("reason") or "the file declares no coordinate reference system"
    return {"value": None, "confidence": 0.0, "reason": reason}


def _first_xy(geom: Any) -> tuple[float, float] | None:
    coords = geom.get("coordinates") if isinstance(geom, dict) else None
    if coords is None and isinstance(geom, dict) and geom.get("geometries"):
        return _first_xy(geom["geometries"][0])
    while isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (list, tuple)):
        coords = coords[0]
    if isinstance(coords, (list, tuple)) and len(coords) >= 2 and all(isinstance(v, (int, float)) for v in coords[:2]):
        return float(coords[0]), float(coords[1])
    return None


def _with_extent_check(crs: dict[str, Any], records: list[Record]) -> dict[str, Any]:
    """The CRS choice, with ``extent`` findings when the coordinates lie outside the CRS's area of use."""
    if not crs.get("value"):
        return crs
    pts = sample(p for p in (_first_xy(r.fields.get("geometry")) for r in records) if p is not None)
    bounds = None
    try:
        findings = check_crs_extent(pts, str(crs["value"]))
        bounds = crs84_bounds(pts, str(crs["value"])) if not findings else None
    except Exception as e:  # noqa: BLE001 - pyproj: a CRS it cannot transform is reported, not fatal here
        findings = [{"code": "CRS_UNCHECKED", "message": f"the extent of {crs['value']} could not be checked: {e}", "hint": "check the CRS with --crs EPSG:CODE"}]
    out = {**crs, "extent": findings} if findings else dict(crs)
    if bounds is not None:
        out["bounds_crs84"] = [round(v, 6) for v in bounds]  # compared with the project's other features
    return out


def _by_layer(records: Iterable[Record], default: str) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(str(r.fields.get("layer") or default), []).append(r)
    return groups


def propose_features(records: list[Record], ctx: MapContext, handler: str) -> dict[str, Any]:
    """The reviewable mapping of a feature source; one entry per layer under ``layers`` when the
    source has several (a GeoPackage), the flat single-layer form otherwise."""
    if not records:
        raise InputError("NO_FEATURES", f"{ctx.source_name}: no readable feature", hint="check the file has features with geometries")
    groups = _by_layer(records, ctx.source_name)
    if len(groups) > 1:
        return {"handler": handler, "layers": {name: _propose_layer(recs, ctx, handler) for name, recs in groups.items()}}
    return _propose_layer(records, ctx, handler)


def _propose_layer(records: list[Record], ctx: MapContext, handler: str) -> dict[str, Any]:
    layer = str(records[0].fields.get("layer") or ctx.source_name)
    rows = [r.fields.get("properties") or {} for r in records]
    types = {str(r.fields["type"]) for r in records if r.fields.get("type")}
    key, label = pick_key(rows), pick_label(rows)
    columns = profile_columns(rows, layer, ctx)
    for c in columns:
        for role, choice, prop in (("identifier", key, "dcterms:identifier"), ("label", label, "rdfs:label")):
            if c["column"] == choice.get("column") and c.get("property"):
                c.update(property=None, datatype=None, unit=None, reason=f"used as the feature {role} ({prop})")
    return {
        "handler": handler,
        "layer": layer,
        "features": len(records),
        "crs": _with_extent_check(resolve_crs_choice(records, ctx), records),
        "classes": propose_classes(layer, types, rows),
        "key": key,
        "label": label,
        "geometry": {"invalid": "reject", "keep_source": False,
                     "reason": "invalid geometries are rejected with shapely's reason; set invalid: repair to make_valid them"},
        "columns": columns,
    }


def _crs_or_fail(mapping: dict[str, Any], ctx: MapContext, records_hint: str) -> ToCRS84:
    value = ctx.options.get("crs") or (mapping.get("crs") or {}).get("value")
    if not value:
        reason = (mapping.get("crs") or {}).get("reason", "no CRS declared")
        raise InputError(
            "UNKNOWN_CRS",
            f"{ctx.source_name}: cannot tell the coordinate reference system ({reason})",
            hint="pass it explicitly, e.g. --crs EPSG:2154 (Lambert-93), --crs EPSG:28992 (RD New) or --crs EPSG:4326; "
            "or set crs.value in the mapping",
            where={"file": records_hint},
        )
    return ToCRS84(parse_crs(str(value)))


def map_features(records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
    """Triples (or rejects) for feature records; a multi-layer mapping maps each layer with its own entry."""
    if "layers" not in mapping:
        yield from _map_layer(records, mapping, ctx)
        return
    layers = mapping.get("layers") or {}
    for name, recs in _by_layer(records, ctx.source_name).items():
        if name not in layers:
            for r in recs:
                yield Reject(origin=r.origin, code="LAYER_NOT_MAPPED", reason=f"layer {name!r} has no entry in the mapping",
                             hint=f"add layers.{name} to the mapping (regenerate it with a dry run)")
            continue
        yield from _map_layer(recs, layers[name], ctx)


def _map_layer(records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
    reproj = _crs_or_fail(mapping, ctx, ctx.source_name)
    src_iri = crs_iri(reproj.source)
    source = IRI(ctx.source_iri)
    classes = mapping.get("classes") or {}
    base_classes = [IRI(expand(c)) for c in classes.get("value", ["geo:Feature"])]
    by_type = {t: [IRI(expand(c)) for c in cs] for t, cs in (classes.get("by_type") or {}).items()}
    by_value = classes.get("by_value") or {}
    value_col = by_value.get("column")
    by_val = {str(v): [IRI(expand(c)) for c in cs] for v, cs in (by_value.get("classes") or {}).items()}
    kind = str(classes.get("kind") or "feature")
    key_col = (mapping.get("key") or {}).get("column")
    label_col = (mapping.get("label") or {}).get("column")
    geom_opts = mapping.get("geometry") or {}
    invalid = str(geom_opts.get("invalid", "reject"))
    if invalid not in ("reject", "repair"):
        raise InputError("BAD_MAPPING", f"geometry.invalid must be 'reject' or 'repair', not {invalid!r}")
    keep_source = bool(geom_opts.get("keep_source", False))
    cols = []
    for c in mapping.get("columns") or []:
        if not c.get("property"):
            continue
        cols.append((c["column"], IRI(expand(c["property"])), expand(c.get("datatype") or "xsd:string"),
                     expand(c["unit"]) if c.get("unit") else None))
    described: set[str] = set()
    layer = str(mapping.get("layer") or ctx.source_name)
    class_word = "Building" if BOT_BUILDING in base_classes else layer
    prefix = ctx.naming.mint(ctx.project, "prop", "")
    seen_keys: set[str] = set()

    records = list(records)
    prepared = prepare_many([r.fields.get("geometry") for r in records], reproj, invalid=invalid, keep_source=keep_source)
    for n, (rec, geom) in enumerate(zip(records, prepared), start=1):
        props = rec.fields.get("properties") or {}
        if key_col:
            key = props.get(key_col)
            if key is None or str(key).strip() == "":
                yield Reject(origin=rec.origin, code="NO_KEY", reason=f"identifier column {key_col} is empty",
                             hint="fill the identifier or set key.column: null in the mapping")
                continue
            key = str(key).strip()
        else:
            key = str(rec.fields.get("id") or f"{layer}-{rec.origin.feature or n}")
        if key in seen_keys:
            yield Reject(origin=rec.origin, code="DUPLICATE_KEY", reason=f"identifier {key!r} already used by another feature",
                         hint="choose a unique key column (key.column) or null to key by position")
            continue
        if isinstance(geom, GeometryError):
            e = geom
            why = rec.fields.get("footprint")  # CityJSON: how (or why not) a footprint was derived
            yield Reject(origin=rec.origin, code=e.code, reason=f"{e.reason} ({why})" if why and e.code == "NO_GEOMETRY" else e.reason,
                         hint="fix the geometry in the source, or set geometry.invalid: repair in the mapping"
                         if e.code == "INVALID_GEOMETRY" else None)
            continue
        values: list[tuple[IRI, Literal]] = []
        bad = None
        for col, prop, dtype, _unit in cols:
            try:
                lit = convert(props.get(col), dtype)
            except (ValueError, TypeError) as e:
                bad = (col, e, _curie(dtype))
                break
            if lit is not None:
                values.append((prop, lit))
        if bad:
            col, e, dt = bad
            yield Reject(origin=rec.origin, code="BAD_VALUE", reason=f"column {col}: {e} (mapped as {dt})",
                         hint=f"fix the value or set datatype: xsd:string for {col} in the mapping")
            continue
        seen_keys.add(key)
        fkind = kind
        ftype = rec.fields.get("type")
        if ftype and ftype in by_type and BOT_BUILDING in by_type[ftype]:
            fkind = "building"
        s = ctx.mint(fkind, key)
        g = ctx.mint("geometry", f"{fkind}-{key}")
        own = by_val.get(str(props.get(value_col)), []) if value_col else []
        for c in dict.fromkeys([*(by_type.get(ftype, base_classes) if ftype else base_classes), *own]):
            yield (s, A, c)
        if label_col and props.get(label_col) not in (None, ""):
            label = str(props[label_col]).strip()
        else:
            label = f"{ftype or class_word} {key}"
        yield (s, LABEL, Literal(label))
        yield (s, IDENT, Literal(key))
        yield (s, K_SOURCE, source)
        yield (s, K_ORIGIN, Literal(rec.origin.describe()))
        if src_iri:  # an object property: only CRSs with an authority code (the mapping keeps any WKT)
            yield (s, K_SRC_CRS, IRI(src_iri))
        if ftype:
            yield (s, K_CITYTYPE, Literal(str(ftype)))
        for parent in rec.fields.get("parents") or []:
            yield (s, K_PART_OF, ctx.mint("building", str(parent)))
        yield (s, HAS_DEFAULT, g)
        yield (g, A, GEO_GEOMETRY)
        yield (g, A, IRI(SF + geom.sf_type))
        yield (g, AS_WKT, Literal(geom.wkt, WKT_LITERAL))
        if geom.repaired:
            yield (s, K_REPAIRED, Literal("true", XSD_BOOLEAN))
        if geom.source_wkt:  # the untouched source geometry, as a literal (not a second geo:Geometry)
            yield (s, K_SOURCE_WKT, Literal(geom.source_wkt, WKT_LITERAL))
        for prop, lit in values:
            yield (s, prop, lit)
    if not seen_keys:
        return
    # describe the project properties this run used, once
    for col, prop, dtype, unit in cols:
        if prop in described or not prop.startswith(prefix):
            continue
        described.add(prop)
        yield (prop, A, IRI(OWL + "DatatypeProperty"))
        yield (prop, LABEL, Literal(col))
        yield (prop, IRI(RDFS + "range"), IRI(dtype))
        yield (prop, IRI(RDFS + "isDefinedBy"), source)  # not kgt:source: a term, not an ingested entity
        if unit:
            yield (prop, IRI(QUDT + "hasUnit"), IRI(unit))


class FeatureMapping(RecordSource):
    """``propose`` / ``map`` of the feature readers (GeoJSON, shapefile, GeoPackage): their records
    are features with a layer, a CRS, a geometry and properties, mapped the same way."""

    name: str

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        return propose_features(records, ctx, self.name)

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        return map_features(records, mapping, ctx)
