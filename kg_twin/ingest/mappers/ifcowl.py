"""IFC records -> BOT topology + ifcOWL classes + Brick IFC references + property sets.

Per record (``{key}`` is the IFC GlobalId, ``s`` = ``{base}id/{project}/{role}/{GlobalId}``)::

    s a bot:Storey, ifc:IfcBuildingStorey ;            # class from the IFC entity, IFC4 ADD2_TC1 ifcOWL namespace
      rdfs:label "Level 2" ; dcterms:identifier "1xS3BCk291UvhgP2dvNMQJ" ;
      kgt:source <source> ; kgt:origin "Duplex_A.ifc element 1xS3..." ;
      ref:hasExternalReference <{base}id/{project}/ifcref/{GlobalId}> ;
      bot:hasSpace <space> ; <pset properties> .
    <ifcref> a ref:IFCReference ; ref:ifcGlobalID "..." ; ref:ifcName "..." ; ref:hasIfcProjectReference <project> .
    <project> a ref:ifcProject ; ref:ifcProjectID "..." ; ref:ifcFileLocation "Duplex_A.ifc" ; kgt:ifcSchema "IFC2X3" .

Topology: site ``bot:hasBuilding`` building ``bot:hasStorey`` storey ``bot:hasSpace`` space; the spatial
container of an element ``bot:containsElement`` it; a space ``bot:adjacentElement`` the elements bounding
it; an element ``bot:hostsElement`` the doors/windows in its openings; an aggregate ``bot:hasSubElement``
its parts. A georeferenced IfcSite (RefLatitude/RefLongitude) is also a ``geo:Feature`` with a CRS84 point.

Property sets: ``{base}id/{project}/prop/{pset}/{name}`` (e.g. ``.../prop/Pset_WallCommon/IsExternal``),
described once (``owl:DatatypeProperty``, ``rdfs:label "Pset_WallCommon.IsExternal"``, ``rdfs:range``,
``qudt:hasUnit`` from the project units for measures such as IfcLengthMeasure, ``kgt:propertySet``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.geo.geometry import WKT_LITERAL
from kg_twin.ingest.base import MapContext, Triple
from kg_twin.ingest.mappers.attributes import convert, expand, prop_iri
from kg_twin.models import Record, Reject
from kg_twin.rdf import IRI, RDF_TYPE, XSD_BOOLEAN, XSD_DECIMAL, XSD_INTEGER, XSD_STRING, Literal
from kg_twin.terms import BOT, DCTERMS, GEO, IFC, KGT, OWL, QUDT, RDFS, REF, SF

A = IRI(RDF_TYPE)
LABEL = IRI(RDFS + "label")

ROLE_CLASSES = {
    "site": ["bot:Site"],
    "building": ["bot:Building"],
    "storey": ["bot:Storey"],
    "space": ["bot:Space"],
    "element": ["bot:Element"],
    "project": ["ref:ifcProject"],
}
# parent role -> child role -> property
TOPOLOGY = {
    ("site", "building"): "bot:hasBuilding",
    ("building", "storey"): "bot:hasStorey",
    ("storey", "space"): "bot:hasSpace",
    ("building", "space"): "bot:hasSpace",
    ("space", "space"): "bot:hasSpace",
    ("site", "site"): "kgt:hasSubSite",
    ("project", "site"): "kgt:hasSite",
    ("project", "building"): "kgt:hasBuilding",
}
# measure / quantity entity -> project unit type
MEASURE_UNIT = {
    "IfcLengthMeasure": "LENGTHUNIT", "IfcPositiveLengthMeasure": "LENGTHUNIT", "IfcQuantityLength": "LENGTHUNIT",
    "IfcNonNegativeLengthMeasure": "LENGTHUNIT",
    "IfcAreaMeasure": "AREAUNIT", "IfcQuantityArea": "AREAUNIT",
    "IfcVolumeMeasure": "VOLUMEUNIT", "IfcQuantityVolume": "VOLUMEUNIT",
    "IfcPlaneAngleMeasure": "PLANEANGLEUNIT", "IfcPositivePlaneAngleMeasure": "PLANEANGLEUNIT",
    "IfcMassMeasure": "MASSUNIT", "IfcQuantityWeight": "MASSUNIT",
    "IfcThermodynamicTemperatureMeasure": "THERMODYNAMICTEMPERATUREUNIT",
    "IfcPowerMeasure": "POWERUNIT", "IfcElectricVoltageMeasure": "ELECTRICVOLTAGEUNIT",
    "IfcElectricCurrentMeasure": "ELECTRICCURRENTUNIT", "IfcFrequencyMeasure": "FREQUENCYUNIT",
    "IfcPressureMeasure": "PRESSUREUNIT", "IfcIlluminanceMeasure": "ILLUMINANCEUNIT",
    "IfcLuminousFluxMeasure": "LUMINOUSFLUXUNIT", "IfcTimeMeasure": "TIMEUNIT", "IfcQuantityTime": "TIMEUNIT",
}
_TEXT_MEASURES = {"IfcLabel", "IfcText", "IfcIdentifier", "IfcDescriptiveMeasure"}


def _datatype(value: Any, measure: str) -> str | None:
    if isinstance(value, bool):
        return XSD_BOOLEAN
    if measure in ("IfcLogical",):
        return None  # UNKNOWN: no value to state
    if measure in _TEXT_MEASURES or isinstance(value, str):
        return XSD_STRING
    if isinstance(value, int) and measure in ("IfcInteger", "IfcCountMeasure", "IfcQuantityCount"):
        return XSD_INTEGER
    if isinstance(value, (int, float)):
        return XSD_DECIMAL
    return None


def propose_ifc(records: list[Record], ctx: MapContext) -> dict[str, Any]:
    if not records or records[0].fields.get("role") != "project":
        raise InputError("IFC_NO_PROJECT", f"{ctx.source_name}: no IfcProject record", hint="read the file with the ifc handler")
    proj = records[0].fields
    classes = Counter(r.fields["ifc_class"] for r in records)
    roles = {r.fields["ifc_class"]: r.fields["role"] for r in records}
    psets = Counter(p for r in records for p in (r.fields.get("psets") or {}))
    site = next((r.fields for r in records if r.fields.get("role") == "site"), None)
    geo: dict[str, Any]
    if site and "ref_lat" in site and not (site["ref_lat"] == 0 and site["ref_lon"] == 0):
        geo = {"site_point": True, "lat": round(site["ref_lat"], 8), "lon": round(site["ref_lon"], 8), "confidence": 0.9,
               "reason": "IfcSite RefLatitude/RefLongitude (WGS 84) as a CRS84 point"}
    else:
        geo = {"site_point": False, "confidence": 1.0, "reason": "IfcSite has no RefLatitude/RefLongitude (or 0,0): not georeferenced"}
    return {
        "handler": "ifc",
        "schema": proj.get("schema"),
        "project": {"global_id": proj["global_id"], "name": proj.get("name"), "units": proj.get("units", {})},
        "ifcowl_namespace": IFC,
        "classes": {
            c: {"count": n, "types": ROLE_CLASSES[roles[c]] + [f"ifc:{c}"], "confidence": 1.0}
            for c, n in sorted(classes.items())
        },
        "property_sets": {
            "include": True,
            "iri": "{base}id/{project}/prop/{pset}/{name}",
            "sets": dict(sorted(psets.items())),
            "confidence": 1.0,
            "reason": "single values and base quantities; units from IfcUnitAssignment for measure types",
        },
        "georeference": geo,
    }


def map_ifc(records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
    source = IRI(ctx.source_iri)
    proj_gid = (mapping.get("project") or {}).get("global_id")
    units = (mapping.get("project") or {}).get("units") or {}
    class_types = {c: [IRI(expand(t)) for t in v.get("types", [])] for c, v in (mapping.get("classes") or {}).items()}
    include_psets = bool((mapping.get("property_sets") or {}).get("include", True))
    georef = bool((mapping.get("georeference") or {}).get("site_point", False))
    if not proj_gid:
        raise InputError("BAD_MAPPING", "mapping has no project.global_id", hint="regenerate the mapping with propose")
    proj_iri = ctx.mint("ifcproject", proj_gid)
    seen: set[str] = set()
    described: dict[IRI, tuple[str, str, str | None, str]] = {}

    def iri(role: str, gid: str) -> IRI:
        return proj_iri if role == "project" else ctx.mint(role, gid)

    for rec in records:
        f = rec.fields
        gid, role, cls = f.get("global_id"), f.get("role"), f.get("ifc_class")
        if not gid or not role or not cls:
            yield Reject(origin=rec.origin, code="BAD_RECORD", reason="IFC record without GlobalId / role / class")
            continue
        if gid in seen:
            yield Reject(origin=rec.origin, code="DUPLICATE_GLOBALID", reason=f"GlobalId {gid} is used by another {cls} before",
                         hint="GlobalIds must be unique in an IFC model; fix the export (duplicated objects)")
            continue
        seen.add(gid)
        s = iri(role, gid)
        types = class_types.get(cls) or [IRI(expand(t)) for t in ROLE_CLASSES.get(role, ["bot:Element"])] + [IRI(IFC + cls)]
        for t in types:
            yield (s, A, t)
        name = f.get("name")
        long_name = f.get("long_name")
        label = " ".join(x for x in (name, long_name if long_name != name else None) if x) or f"{cls} {gid}"
        yield (s, LABEL, Literal(label))
        yield (s, IRI(DCTERMS + "identifier"), Literal(gid))
        yield (s, IRI(KGT + "source"), source)
        yield (s, IRI(KGT + "origin"), Literal(rec.origin.describe()))
        if f.get("description"):
            yield (s, IRI(DCTERMS + "description"), Literal(str(f["description"])))
        for key, prop in (("object_type", "ifcObjectType"), ("tag", "ifcTag"), ("predefined_type", "ifcPredefinedType")):
            if f.get(key):
                yield (s, IRI(KGT + prop), Literal(str(f[key])))
        if role == "project":
            yield (s, IRI(REF + "ifcProjectID"), Literal(gid))
            yield (s, IRI(REF + "ifcFileLocation"), Literal(ctx.source_name))
            if f.get("schema"):
                yield (s, IRI(KGT + "ifcSchema"), Literal(str(f["schema"])))
        else:
            ref = ctx.mint("ifcref", gid)
            yield (s, IRI(REF + "hasExternalReference"), ref)
            yield (ref, A, IRI(REF + "IFCReference"))
            yield (ref, IRI(REF + "ifcGlobalID"), Literal(gid))
            if name:
                yield (ref, IRI(REF + "ifcName"), Literal(str(name)))
            yield (ref, IRI(REF + "hasIfcProjectReference"), proj_iri)
        # topology
        if f.get("parent"):
            prole = f.get("parent_role", "element")
            if role == "element":
                yield (iri(prole, f["parent"]), IRI(BOT + "hasSubElement"), s)
            else:
                prop = TOPOLOGY.get((prole, role))
                if prop:
                    yield (iri(prole, f["parent"]), IRI(expand(prop)), s)
        if f.get("container"):
            yield (iri(f.get("container_role", "storey"), f["container"]), IRI(BOT + "containsElement"), s)
        for other in f.get("adjacent") or []:
            yield (s, IRI(BOT + "adjacentElement"), ctx.mint("element", other))
        for other in f.get("hosts") or []:
            yield (s, IRI(BOT + "hostsElement"), ctx.mint("element", other))
        if role == "storey" and f.get("elevation") is not None:
            yield (s, IRI(KGT + "elevation"), convert(f["elevation"], XSD_DECIMAL))  # type: ignore[misc]
        if role == "site" and georef and "ref_lat" in f and not (f["ref_lat"] == 0 and f["ref_lon"] == 0):
            lat, lon = f["ref_lat"], f["ref_lon"]
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                g = ctx.mint("geometry", f"site-{gid}")
                yield (s, A, IRI(GEO + "Feature"))
                yield (s, IRI(GEO + "hasDefaultGeometry"), g)
                yield (g, A, IRI(GEO + "Geometry"))
                yield (g, A, IRI(SF + "Point"))
                yield (g, IRI(GEO + "asWKT"), Literal(f"POINT ({round(lon, 8)!r} {round(lat, 8)!r})", WKT_LITERAL))
                if f.get("ref_elev") is not None:
                    yield (s, IRI(KGT + "refElevation"), convert(f["ref_elev"], XSD_DECIMAL))  # type: ignore[misc]
        # property sets
        if include_psets:
            for pset, props in (f.get("psets") or {}).items():
                for pname, (value, measure) in props.items():
                    dt = _datatype(value, measure)
                    if dt is None:
                        continue
                    try:
                        lit = convert(value, dt)
                    except (ValueError, TypeError):
                        continue
                    if lit is None:
                        continue
                    p = prop_iri(ctx, pset, pname)
                    if p not in described:
                        ut = MEASURE_UNIT.get(measure)
                        described[p] = (f"{pset}.{pname}", dt, units.get(ut) if ut else None, pset)
                    yield (s, p, lit)
    for p, (label, dt, unit, pset) in described.items():
        yield (p, A, IRI(OWL + "DatatypeProperty"))
        yield (p, LABEL, Literal(label))
        yield (p, IRI(RDFS + "range"), IRI(dt))
        yield (p, IRI(KGT + "propertySet"), Literal(pset))
        yield (p, IRI(KGT + "source"), source)
        if unit:
            yield (p, IRI(QUDT + "hasUnit"), IRI(expand(unit)))
