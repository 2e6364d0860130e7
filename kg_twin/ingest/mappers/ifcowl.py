"""IFC records -> BOT topology + ifcOWL classes + Brick IFC references + property sets.

Per record (``{key}`` is the IFC GlobalId, ``s`` = ``{base}id/{project}/{role}/{GlobalId}``)::

    s a bot:Storey, ifc:IfcBuildingStorey ;            # class from the IFC entity, IFC4 ADD2_TC1 ifcOWL namespace
      rdfs:label "Level 2" ; dcterms:identifier "1xS3BCk291UvhgP2dvNMQJ" ;
      kgt:source <source> ; kgt:origin "Duplex_A.ifc element 1xS3..." ;
      ref:hasExternalReference <{base}id/{project}/ifcref/{GlobalId}> ;
      bot:hasSpace <space> ; <pset properties> .
    <ifcref> a ref:IFCReference ; ref:ifcGlobalID "..." ; ref:ifcName "..." ; ref:hasIfcProjectReference <project> .
    <project> a ref:ifcProject ; ref:ifcProjectID "..." ; ref:ifcFileLocation "Duplex_A.ifc" ; kgt:ifcSchema "IFC2X3" .

Topology: site ``bot:hasBuilding`` building ``bot:hasStorey`` storey ``bot:hasSpace`` space; an IfcZone
is a ``bot:Zone`` that ``bot:containsZone`` its grouped spaces; the spatial
container of an element ``bot:containsElement`` it; a space ``bot:adjacentElement`` the elements bounding
it; an element ``bot:hostsElement`` the doors/windows in its openings; an aggregate ``bot:hasSubElement``
its parts. A georeferenced IfcSite (RefLatitude/RefLongitude) is also a ``geo:Feature`` with a CRS84 point.

Equipment: elements whose IFC class (or type object's class) and predefined type appear in
:data:`BRICK_EQUIPMENT` are also typed with a Brick equipment class (IfcUnitaryEquipment/AIRHANDLER ->
``brick:Air_Handling_Unit``, IfcPump -> ``brick:Pump``...), so Brick points can be attached to them.

Property sets: ``{base}id/{project}/prop/{pset}/{name}`` (e.g. ``.../prop/Pset_WallCommon/IsExternal``),
described once (``owl:DatatypeProperty``, ``rdfs:label "Pset_WallCommon.IsExternal"``, ``rdfs:range``,
``qudt:hasUnit`` from the project units for measures such as IfcLengthMeasure, ``kgt:propertySet``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Iterator, Union

from kg_twin.errors import InputError
from kg_twin.geo.crs import ToCRS84, parse_crs
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
    "zone": ["bot:Zone"],
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
LENGTH_TO_METRE = {"unit:M": 1.0, "unit:MilliM": 0.001, "unit:CentiM": 0.01, "unit:DeciM": 0.1, "unit:KiloM": 1000.0,
                   "unit:FT": 0.3048, "unit:IN": 0.0254}


def _round(v: float) -> float:
    """Metres to 1e-9 (drops float noise from unit conversion, keeps any real precision)."""
    return round(v, 9)

# IFC equipment -> Brick equipment class. Keys: "IfcClass" or "IfcClass/PREDEFINEDTYPE" (the more
# specific key wins); the class may come from the occurrence or from its type object (IfcPumpType ->
# IfcPump, as IFC2X3 files type distribution elements through their type objects).
BRICK_EQUIPMENT: dict[str, str] = {
    "IfcUnitaryEquipment/AIRHANDLER": "brick:Air_Handling_Unit",
    "IfcUnitaryEquipment/ROOFTOPUNIT": "brick:Rooftop_Unit",
    "IfcUnitaryEquipment": "brick:HVAC_Equipment",
    "IfcBoiler": "brick:Boiler",
    "IfcChiller": "brick:Chiller",
    "IfcCoolingTower": "brick:Cooling_Tower",
    "IfcPump": "brick:Pump",
    "IfcFan": "brick:Fan",
    "IfcDamper": "brick:Damper",
    "IfcValve": "brick:Valve",
    "IfcCompressor": "brick:Compressor",
    "IfcHumidifier": "brick:Humidifier",
    "IfcHeatExchanger": "brick:Heat_Exchanger",
    "IfcFilter": "brick:Filter",
    "IfcCoil": "brick:Coil",
    "IfcCoil/DXCOOLINGCOIL": "brick:Cooling_Coil",
    "IfcCoil/WATERCOOLINGCOIL": "brick:Cooling_Coil",
    "IfcCoil/ELECTRICHEATINGCOIL": "brick:Heating_Coil",
    "IfcCoil/GASHEATINGCOIL": "brick:Heating_Coil",
    "IfcCoil/STEAMHEATINGCOIL": "brick:Heating_Coil",
    "IfcCoil/WATERHEATINGCOIL": "brick:Heating_Coil",
    "IfcSpaceHeater": "brick:Space_Heater",
    "IfcSpaceHeater/RADIATOR": "brick:Radiator",
    "IfcAirTerminalBox": "brick:Terminal_Unit",
    "IfcAirTerminalBox/VARIABLEFLOWPRESSUREDEPENDANT": "brick:Variable_Air_Volume_Box",
    "IfcAirTerminalBox/VARIABLEFLOWPRESSUREINDEPENDANT": "brick:Variable_Air_Volume_Box",
    "IfcAirTerminal/DIFFUSER": "brick:Air_Diffuser",
    "IfcFlowMeter/GASMETER": "brick:Gas_Meter",
    "IfcFlowMeter/WATERMETER": "brick:Water_Meter",
    "IfcFlowMeter/ENERGYMETER": "brick:Thermal_Power_Meter",
    "IfcFlowMeter": "brick:Meter",
    "IfcTank": "brick:Tank",
    "IfcTank/STORAGE": "brick:Storage_Tank",
    "IfcTransformer": "brick:Transformer",
    "IfcElectricMotor": "brick:Motor",
    "IfcSwitchingDevice": "brick:Electrical_Equipment",
    "IfcElectricDistributionBoard/SWITCHBOARD": "brick:Switchgear",
    "IfcElectricDistributionBoard/MOTORCONTROLCENTRE": "brick:Motor_Control_Center",
    "IfcElectricDistributionBoard": "brick:Electrical_Equipment",
    "IfcSolarDevice/SOLARPANEL": "brick:PV_Panel",
    "IfcLamp": "brick:Luminaire",
    "IfcLightFixture": "brick:Luminaire",
    "IfcTransportElement/ELEVATOR": "brick:Elevator",
    "IfcAudioVisualAppliance/CAMERA": "brick:Camera",
}


def brick_key(f: dict[str, Any]) -> str | None:
    """The :data:`BRICK_EQUIPMENT` key matching an element record, most specific first."""
    classes = [f.get("ifc_class"), f.get("ifc4_class")]
    if f.get("type_class", "").endswith("Type"):
        classes.append(f["type_class"][:-4])
    preds = [f.get("predefined_type"), f.get("type_predefined")]
    for c in filter(None, classes):
        for p in filter(None, preds):
            if f"{c}/{p}" in BRICK_EQUIPMENT:
                return f"{c}/{p}"
    for c in filter(None, classes):
        if c in BRICK_EQUIPMENT:
            return c
    return None


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
    owl_class = {r.fields["ifc_class"]: r.fields.get("ifc4_class") or r.fields["ifc_class"] for r in records}
    psets = Counter(p for r in records for p in (r.fields.get("psets") or {}))
    brick: dict[str, Any] = {}
    for r in records:
        if r.fields.get("role") == "element" and (k := brick_key(r.fields)):
            e = brick.setdefault(k, {"class": BRICK_EQUIPMENT[k], "count": 0, "confidence": 0.9 if "/" in k else 0.8})
            e["count"] += 1
    site = next((r.fields for r in records if r.fields.get("role") == "site"), None)
    geo = propose_georeference(proj, site)
    return {
        "handler": "ifc",
        "schema": proj.get("schema"),
        "project": {"global_id": proj["global_id"], "name": proj.get("name"), "units": proj.get("units", {})},
        "ifcowl_namespace": IFC,
        "classes": {
            c: {"count": n, "types": ROLE_CLASSES[roles[c]] + [f"ifc:{owl_class[c]}"],
                "confidence": 1.0 if owl_class[c] == c else 0.8,
                **({} if owl_class[c] == c else {"reason": f"{c} is not an IFC4 class: typed with its IFC4 supertype {owl_class[c]}"})}
            for c, n in sorted(classes.items())
        },
        "brick_equipment": dict(sorted(brick.items())),
        "property_sets": {
            "include": True,
            "iri": "{base}id/{project}/prop/{pset}/{name}",
            "sets": dict(sorted(psets.items())),
            "confidence": 1.0,
            "reason": "single values and base quantities; units from IfcUnitAssignment for measure types",
        },
        "georeference": geo,
    }


def propose_georeference(proj: dict[str, Any], site: dict[str, Any] | None) -> dict[str, Any]:
    """Where the site is, in CRS84: the map conversion (the site's origin in a map CRS) when its CRS
    is known, else IfcSite RefLatitude/RefLongitude; nothing for a site at 0,0 or without them."""
    if site is None:
        return {"site_point": False, "confidence": 1.0, "reason": "the model has no IfcSite"}
    notes = ""
    mc = proj.get("map_conversion")
    if mc:
        if mc.get("crs"):
            try:
                lon, lat = ToCRS84(parse_crs(mc["crs"])).point(mc["eastings"], mc["northings"])
            except InputError as e:
                notes = f"IfcMapConversion CRS {mc['crs']!r} is not understood ({e.message}); "
            else:
                if -180 <= lon <= 180 and -90 <= lat <= 90:
                    return {"site_point": True, "site": site["global_id"], "lon": round(lon, 8), "lat": round(lat, 8),
                            "method": "IfcMapConversion", "confidence": 0.95,
                            "reason": f"{mc.get('at', 'project origin')} at E {mc['eastings']} N {mc['northings']} in {mc['crs']} "
                                      "(map conversion), reprojected to CRS84"}
                notes = f"IfcMapConversion E/N in {mc['crs']} fall outside longitude/latitude; "
        else:
            notes = "IfcMapConversion has no target CRS name; "
    if "ref_lat" in site and not (site["ref_lat"] == 0 and site["ref_lon"] == 0):
        return {"site_point": True, "site": site["global_id"], "lon": round(site["ref_lon"], 8), "lat": round(site["ref_lat"], 8),
                "method": "RefLatitude/RefLongitude", "confidence": 0.9 if not notes else 0.7,
                "reason": notes + "IfcSite RefLatitude/RefLongitude (WGS 84) as a CRS84 point"}
    return {"site_point": False, "confidence": 1.0,
            "reason": notes + "IfcSite has no RefLatitude/RefLongitude (or 0,0) and no usable IfcMapConversion: not georeferenced"}


def map_ifc(records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
    source = IRI(ctx.source_iri)
    proj_gid = (mapping.get("project") or {}).get("global_id")
    units = (mapping.get("project") or {}).get("units") or {}
    class_types = {c: [IRI(expand(t)) for t in v.get("types", [])] for c, v in (mapping.get("classes") or {}).items()}
    include_psets = bool((mapping.get("property_sets") or {}).get("include", True))
    geo = mapping.get("georeference") or {}
    georef = bool(geo.get("site_point", False)) and geo.get("lon") is not None and geo.get("lat") is not None
    brick_types = {k: IRI(expand(v["class"])) for k, v in (mapping.get("brick_equipment") or {}).items() if v and v.get("class")}
    if not proj_gid:
        raise InputError("BAD_MAPPING", "mapping has no project.global_id", hint="regenerate the mapping with propose")
    proj_iri = ctx.mint("ifcproject", proj_gid)
    metres = LENGTH_TO_METRE.get(units.get("LENGTHUNIT", "unit:M"))  # elevations are stated in metres
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
        owl_cls = f.get("ifc4_class") or cls
        types = class_types.get(cls) or [IRI(expand(t)) for t in ROLE_CLASSES.get(role, ["bot:Element"])] + [IRI(IFC + owl_cls)]
        for t in types:
            yield (s, A, t)
        if owl_cls != cls:
            yield (s, IRI(KGT + "ifcClass"), Literal(str(cls)))
        if role == "element" and brick_types and (bk := brick_key(f)) in brick_types:
            yield (s, A, brick_types[bk])
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
        for member, mrole in f.get("members") or []:
            yield (s, IRI(BOT + "containsZone"), iri(mrole, member))
        for other in f.get("adjacent") or []:
            yield (s, IRI(BOT + "adjacentElement"), ctx.mint("element", other))
        for other in f.get("hosts") or []:
            yield (s, IRI(BOT + "hostsElement"), ctx.mint("element", other))
        if role == "storey" and f.get("elevation") is not None and metres is not None:
            yield (s, IRI(KGT + "elevation"), convert(_round(f["elevation"] * metres), XSD_DECIMAL))  # type: ignore[misc]
        if role == "site" and georef and geo.get("site", gid) == gid:
            lat, lon = float(geo["lat"]), float(geo["lon"])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InputError("BAD_MAPPING", f"georeference lon {lon} / lat {lat} are not longitude/latitude",
                                 hint="edit georeference.lon / lat in the mapping (CRS84 degrees)")
            g = ctx.mint("geometry", f"site-{gid}")
            yield (s, A, IRI(GEO + "Feature"))
            yield (s, IRI(GEO + "hasDefaultGeometry"), g)
            yield (g, A, IRI(GEO + "Geometry"))
            yield (g, A, IRI(SF + "Point"))
            yield (g, IRI(GEO + "asWKT"), Literal(f"POINT ({round(lon, 8)!r} {round(lat, 8)!r})", WKT_LITERAL))
            yield (s, IRI(KGT + "georeferenceMethod"), Literal(str(geo.get("method", ""))))
        if role == "site" and f.get("ref_elev") is not None and metres is not None:
            yield (s, IRI(KGT + "refElevation"), convert(_round(f["ref_elev"] * metres), XSD_DECIMAL))  # type: ignore[misc]
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
        yield (p, IRI(RDFS + "isDefinedBy"), source)  # not kgt:source: a term, not an ingested entity
        if unit:
            yield (p, IRI(QUDT + "hasUnit"), IRI(expand(unit)))
