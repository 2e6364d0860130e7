"""IFC reader (IFC2X3, IFC4, IFC4X3 STEP files) with ifcopenshell.

Yields one record per IfcProject, spatial element (IfcSite, IfcBuilding, IfcBuildingStorey, IfcSpace),
IfcZone and physical element (every IfcElement except IfcOpeningElement / IfcVirtualElement, which are not
built things: openings only serve to find which element hosts a door or window). Records are yielded
top-down (project, sites, buildings, storeys, spaces, elements), in file order within each level.

Record fields (``kind="element"``, origin ``element=<GlobalId>``)::

    role            project | site | building | storey | space | zone | element
    ifc_class       entity name, e.g. IfcWallStandardCase
    ifc4_class      the IFC4 class used for ifcOWL typing (the nearest IFC4 supertype for classes IFC4 dropped)
    global_id, name, long_name, description, object_type, tag, predefined_type
    parent          GlobalId of the object this one decomposes (IfcRelAggregates), with parent_role
    container       GlobalId of the spatial structure element holding it (IfcRelContainedInSpatialStructure)
    members         zones: [GlobalId, role] of the spaces / zones grouped in an IfcZone (IfcRelAssignsToGroup)
    adjacent        spaces: GlobalIds of the elements bounding the space (IfcRelSpaceBoundary)
    type_class      elements: class of the type object (IfcPumpType...), type_predefined its PredefinedType
    hosts           elements: GlobalIds of the doors/windows filling its openings (IfcRelVoidsElement + IfcRelFillsElement)
    psets           {set name: {property: [value, measure type]}}: property sets and quantity sets,
                    occurrence values over type-object values
    site            ref_lat / ref_lon (decimal degrees from IfcCompoundPlaneAngleMeasure) / ref_elev
    project         schema, units ({"LENGTHUNIT": "unit:M", ...}), file name, map_conversion (IfcMapConversion
                    or IFC2X3 ePSet_MapConversion: the first site's origin in map coordinates, map CRS name)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

import ifcopenshell
import ifcopenshell.ifcopenshell_wrapper as _wrapper

from kg_twin.errors import InputError
from kg_twin.ingest.base import MapContext, RecordSource, Triple, register
from kg_twin.ingest.readers.step import check_step
from kg_twin.ingest.sniffing import step_header
from kg_twin.models import Origin, Record, Reject

SKIP_CLASSES = ("IfcOpeningElement", "IfcVirtualElement", "IfcOpeningStandardCase")
SPATIAL_ROLES = (("IfcSite", "site"), ("IfcBuilding", "building"), ("IfcBuildingStorey", "storey"), ("IfcSpace", "space"))

_SI = {
    "METRE": "M", "SQUARE_METRE": "M2", "CUBIC_METRE": "M3", "GRAM": "GM", "SECOND": "SEC", "RADIAN": "RAD",
    "DEGREE_CELSIUS": "DEG_C", "KELVIN": "K", "WATT": "W", "PASCAL": "PA", "VOLT": "V", "AMPERE": "A",
    "HERTZ": "HZ", "LUX": "LUX", "LUMEN": "LM", "CANDELA": "CD", "NEWTON": "N", "JOULE": "J",
}
_PREFIX = {"MILLI": "Milli", "CENTI": "Centi", "DECI": "Deci", "KILO": "Kilo", "MEGA": "Mega"}
_CONV = {"FOOT": "FT", "INCH": "IN", "DEGREE": "DEG", "SQUARE FOOT": "FT2", "CUBIC FOOT": "FT3", "POUND": "LB",
         "SQUARE INCH": "IN2", "CUBIC INCH": "IN3", "YARD": "YD", "MILE": "MI"}


def _unit_curie(u: Any) -> str | None:
    if u.is_a("IfcSIUnit"):
        base = _SI.get(u.Name)
        if not base:
            return None
        if u.Prefix:
            p = _PREFIX.get(u.Prefix)
            if not p:
                return None
            base = p + ("GM" if base == "GM" else base)
        return "unit:" + base
    if u.is_a("IfcConversionBasedUnit"):
        c = _CONV.get(str(u.Name).upper())
        return "unit:" + c if c else None
    return None


def project_units(f: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for ua in f.by_type("IfcUnitAssignment"):
        for u in ua.Units or []:
            if u.is_a("IfcNamedUnit") and u.UnitType and u.UnitType != "USERDEFINED":
                c = _unit_curie(u)
                if c:
                    out.setdefault(str(u.UnitType), c)
    return out


def compound_angle(v: Any) -> float | None:
    """IfcCompoundPlaneAngleMeasure (deg, min, sec[, millionth sec]) -> decimal degrees.

    >>> round(compound_angle((41, 52, 27, 839999)), 6)
    41.8744
    >>> round(compound_angle((-87, -38, -21, -839999)), 6)
    -87.6394
    """
    if not v:
        return None
    parts = list(v) + [0] * (4 - len(v))
    d, m, s, us = (float(x) for x in parts[:4])
    return d + m / 60 + (s + us / 1e6) / 3600


def _props(pdef: Any) -> Iterator[tuple[str, Any, str]]:
    if pdef.is_a("IfcPropertySet"):
        for p in pdef.HasProperties or []:
            if p.is_a("IfcPropertySingleValue") and p.NominalValue is not None:
                nv = p.NominalValue
                yield p.Name, nv.wrappedValue, nv.is_a()
            elif p.is_a("IfcPropertyEnumeratedValue") and p.EnumerationValues:
                vals = [v.wrappedValue for v in p.EnumerationValues]
                if len(vals) == 1:
                    yield p.Name, vals[0], p.EnumerationValues[0].is_a()
                else:  # several chosen values: one text, in the file's order
                    yield p.Name, ", ".join(str(v) for v in vals), "IfcLabel"
    elif pdef.is_a("IfcElementQuantity"):
        for q in pdef.Quantities or []:
            if q.is_a("IfcPhysicalSimpleQuantity") and len(q) > 3 and q[3] is not None:
                yield q.Name, q[3], q.is_a()


def _type_object(el: Any) -> Any | None:
    typ = None
    for rel in getattr(el, "IsDefinedBy", None) or []:  # IFC2X3
        if rel.is_a("IfcRelDefinesByType"):
            typ = rel.RelatingType
    for rel in getattr(el, "IsTypedBy", None) or []:  # IFC4
        typ = rel.RelatingType
    return typ


def _psets(el: Any) -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = {}

    def add(pdef: Any) -> None:
        if not (pdef.is_a("IfcPropertySet") or pdef.is_a("IfcElementQuantity")) or not pdef.Name:
            return
        target = out.setdefault(pdef.Name, {})
        for name, value, measure in _props(pdef):
            if name and isinstance(value, (str, int, float, bool)):
                target[name] = [value, measure]

    typ = _type_object(el)
    if typ is not None:
        for pdef in getattr(typ, "HasPropertySets", None) or []:
            add(pdef)
    for rel in getattr(el, "IsDefinedBy", None) or []:
        if rel.is_a("IfcRelDefinesByProperties"):
            add(rel.RelatingPropertyDefinition)
    return {k: v for k, v in sorted(out.items()) if v}


@lru_cache(maxsize=4096)
def ifc4_class(cls: str, schema_id: str) -> str:
    """The ifcOWL (IFC4 ADD2 TC1) class for an entity of another schema: the class itself when IFC4
    has it, else its nearest supertype that IFC4 has.

    >>> ifc4_class("IfcWallStandardCase", "IFC2X3")
    'IfcWallStandardCase'
    >>> ifc4_class("IfcElectricDistributionPoint", "IFC2X3")  # dropped in IFC4
    'IfcFlowController'
    """
    ifc4 = _wrapper.schema_by_name("IFC4")
    try:
        decl = _wrapper.schema_by_name(schema_id).declaration_by_name(cls)
    except RuntimeError:
        return cls
    while decl is not None:
        try:
            ifc4.declaration_by_name(decl.name())
            return decl.name()
        except RuntimeError:
            decl = decl.supertype()
    return cls


def map_conversion(f: Any, site: Any | None = None) -> dict[str, Any] | None:
    """Georeferencing by map conversion (IFC4 IfcMapConversion, or IFC2X3 ePSet_MapConversion):
    the site's origin in map coordinates (eastings / northings / height, after the conversion's
    rotation and scale, via ifcopenshell.util.geolocation) and the map CRS name."""
    import ifcopenshell.util.geolocation as geolocation
    import ifcopenshell.util.placement as placement

    try:
        params = geolocation.get_helmert_transformation_parameters(f)
    except (RuntimeError, AttributeError, TypeError, KeyError, IndexError):  # malformed conversion entities
        return None
    if not params:
        return None
    try:
        crs = geolocation.get_crs(f) or {}
    except (RuntimeError, AttributeError, TypeError, KeyError, IndexError):
        crs = {}
    x = y = z = 0.0
    where = "project origin"
    if site is not None and getattr(site, "ObjectPlacement", None) is not None:
        m = placement.get_local_placement(site.ObjectPlacement)
        x, y, z = (float(v) for v in m[:3, 3])
        where = "site placement"
    e, n, h = geolocation.auto_xyz2enh(f, x, y, z)
    return {"eastings": round(float(e), 4), "northings": round(float(n), 4), "height": round(float(h), 4),
            "crs": str(crs.get("Name")) if crs.get("Name") else None, "at": where}


def open_ifc(path: Path) -> Any:
    try:
        return ifcopenshell.open(str(path))
    except (ifcopenshell.Error, RuntimeError, OSError, ValueError) as e:
        raise InputError(
            "IFC_UNREADABLE",
            f"{path.name}: ifcopenshell cannot open this file ({type(e).__name__}: {str(e) or 'no detail'})",
            where={"file": path.name},
            hint="supply an IFC2X3, IFC4 or IFC4X3 STEP file (ISO-10303-21, with HEADER and DATA sections); "
            "re-export it from the authoring tool, or check it with `python -m ifcopenshell.validate FILE`",
        ) from e


def _base(el: Any, role: str, schema_id: str) -> dict[str, Any]:
    f: dict[str, Any] = {
        "role": role,
        "ifc_class": el.is_a(),
        "ifc4_class": ifc4_class(el.is_a(), schema_id),
        "global_id": el.GlobalId,
        "name": el.Name,
        "description": getattr(el, "Description", None),
    }
    for attr, key in (("LongName", "long_name"), ("ObjectType", "object_type"), ("Tag", "tag"), ("PredefinedType", "predefined_type")):
        try:
            v = getattr(el, attr)
        except AttributeError:
            continue
        if v not in (None, "", "NOTDEFINED", "USERDEFINED"):
            f[key] = str(v)
    return {k: v for k, v in f.items() if v is not None}


def _parent(el: Any) -> Any | None:
    for rel in getattr(el, "Decomposes", None) or []:
        return rel.RelatingObject
    return None


def _container(el: Any) -> Any | None:
    for rel in getattr(el, "ContainedInStructure", None) or []:
        return rel.RelatingStructure
    return None


class IFCHandler(RecordSource):
    name = "ifc"
    extensions = (".ifc",)

    def sniff(self, path: Path, head: bytes) -> float:
        schema = step_header(head)  # the parsed STEP header (FILE_SCHEMA), not a substring
        if schema is not None and schema.upper().startswith("IFC"):
            return 0.97
        if path.suffix.lower() == ".ifc":
            return 0.8
        return 0.0

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]:
        path = Path(path)
        stats = check_step(path)  # header, trailer, references: a cut file is refused before ifcopenshell sees it
        f = open_ifc(path)
        loaded = sum(1 for _ in f)
        if loaded != stats.entities:
            raise InputError("IFC_INCOMPLETE", f"{path.name}: the file defines {stats.entities} entity instances, ifcopenshell loaded {loaded}",
                             where={"file": path.name}, hint="some instances could not be parsed: check the file with "
                             "`python -m ifcopenshell.validate FILE` and export it again")
        projects = f.by_type("IfcProject")
        if not projects:
            raise InputError("IFC_NO_PROJECT", f"{path.name}: no IfcProject in the file", where={"file": path.name},
                             hint="an IFC model needs exactly one IfcProject at the root of its spatial structure")
        role_of: dict[int, str] = {}
        sid = getattr(f, "schema_identifier", f.schema)
        p = projects[0]
        role_of[p.id()] = "project"
        pf = _base(p, "project", sid)
        pf.update(schema=f.schema, units=project_units(f), file=path.name, psets=_psets(p))
        sites = f.by_type("IfcSite")
        mc = map_conversion(f, sites[0] if sites else None)
        if mc:
            pf["map_conversion"] = mc
        yield Record(kind="element", fields=pf, origin=Origin(file=path.name, element=p.GlobalId))

        for cls, role in SPATIAL_ROLES:
            for el in f.by_type(cls):
                role_of[el.id()] = role
                fl = _base(el, role, sid)
                par = _parent(el)
                if par is not None:
                    fl["parent"] = par.GlobalId
                    fl["parent_role"] = role_of.get(par.id(), "project" if par.is_a("IfcProject") else "element")
                elif (c := _container(el)) is not None:
                    fl["parent"] = c.GlobalId
                    fl["parent_role"] = role_of.get(c.id(), "element")
                if role == "site":
                    lat, lon = compound_angle(el.RefLatitude), compound_angle(el.RefLongitude)
                    if lat is not None and lon is not None:
                        fl.update(ref_lat=lat, ref_lon=lon)
                    if el.RefElevation is not None:
                        fl["ref_elev"] = float(el.RefElevation)
                if role == "storey" and getattr(el, "Elevation", None) is not None:
                    fl["elevation"] = float(el.Elevation)
                if role == "space":
                    adj = []
                    for rel in getattr(el, "BoundedBy", None) or []:
                        be = rel.RelatedBuildingElement
                        if be is not None and be.is_a("IfcElement") and be.is_a() not in SKIP_CLASSES and be.GlobalId not in adj:
                            adj.append(be.GlobalId)
                    if adj:
                        fl["adjacent"] = adj
                fl["psets"] = _psets(el)
                yield Record(kind="element", fields=fl, origin=Origin(file=path.name, element=el.GlobalId))

        for zone in f.by_type("IfcZone"):  # groups of spaces (or of other zones)
            role_of[zone.id()] = "zone"
            fl = _base(zone, "zone", sid)
            members = []
            for rel in getattr(zone, "IsGroupedBy", None) or []:
                for obj in rel.RelatedObjects or []:
                    r = role_of.get(obj.id()) or ("zone" if obj.is_a("IfcZone") else None)
                    if r in ("space", "zone", "storey", "building", "site"):
                        members.append([obj.GlobalId, r])
            if members:
                fl["members"] = members
            fl["psets"] = _psets(zone)
            yield Record(kind="element", fields=fl, origin=Origin(file=path.name, element=zone.GlobalId))

        for el in f.by_type("IfcElement"):
            if el.is_a() in SKIP_CLASSES:
                continue
            fl = _base(el, "element", sid)
            c = _container(el)
            if c is not None:
                fl["container"] = c.GlobalId
                fl["container_role"] = role_of.get(c.id(), "element")
            par = _parent(el)
            if par is not None and par.is_a("IfcElement"):
                fl["parent"] = par.GlobalId
                fl["parent_role"] = "element"
            hosts = []
            for rel in getattr(el, "HasOpenings", None) or []:
                for fill in getattr(rel.RelatedOpeningElement, "HasFillings", None) or []:
                    hosts.append(fill.RelatedBuildingElement.GlobalId)
            if hosts:
                fl["hosts"] = hosts
            typ = _type_object(el)
            if typ is not None:
                fl["type_class"] = typ.is_a()
                for attr, key in (("PredefinedType", "type_predefined"), ("ElementType", "type_name")):
                    try:
                        v = getattr(typ, attr)
                    except AttributeError:  # not an attribute of this type entity
                        continue
                    if v not in (None, "", "NOTDEFINED", "USERDEFINED"):
                        fl[key] = str(v)
            fl["psets"] = _psets(el)
            yield Record(kind="element", fields=fl, origin=Origin(file=path.name, element=el.GlobalId))

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        from kg_twin.ingest.mappers.ifcowl import propose_ifc

        return propose_ifc(records, ctx)

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        from kg_twin.ingest.mappers.ifcowl import map_ifc

        return map_ifc(records, mapping, ctx)


HANDLER = register(IFCHandler())
