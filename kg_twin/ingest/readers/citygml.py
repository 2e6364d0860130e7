"""CityGML 1.0 / 2.0 / 3.0 reader (lxml streaming): one feature record per Building and BuildingPart,
mapped like CityJSON (same record fields, same ``propose`` / ``map``: GeoSPARQL + BOT).

* Detection: the root element's namespace (``http://www.opengis.net/citygml/{1.0,2.0,3.0}``), parsed.
* Streaming: ``lxml.etree.iterparse`` on the building elements; each city object member is freed once
  read, so memory stays at one building.
* Footprint (2D, source CRS): the union of the ``GroundSurface`` polygons (LoD2 boundary surfaces),
  else the LoD0 footprint (``lod0FootPrint`` / ``lod0MultiSurface``), else the union of the
  non-vertical surfaces of the lowest LoD solid / multi-surface (LoD1 prisms: their base). Polygons
  referenced by ``xlink:href="#id"`` are resolved within the building. A building without its own
  geometry gets the union of its parts' footprints.
* Attributes: ``gml:name`` (``name``), ``function`` / ``usage`` / ``class`` (code values; a
  ``codeSpace`` is kept as ``<attr>_codeSpace``), ``measuredHeight`` (metres; ``mm``/``cm``/``ft`` values
  converted and listed in ``derived``), ``storeysAboveGround``, ``storeysBelowGround``, ``yearOfConstruction``,
  ``roofType``, CityGML 3.0 ``con:height`` (as ``measuredHeight``), every generic attribute
  (``gen:*Attribute`` name -> value, typed), and the xAL address (``street``, ``houseNumber``,
  ``postalCode``, ``locality``, ``country``). Without ``measuredHeight`` the height is derived from the
  geometry (max z - min z) and listed in ``derived``, as for CityJSON.
* CRS: the nearest ``srsName`` (geometry, building envelope, city model envelope). Compound CRSs
  (``urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783``, ``EPSG:25833+5783``, AdV
  ``urn:adv:crs:ETRS89_UTM33*DE_DHHN92_NH``) give the horizontal CRS for the footprint; the vertical
  CRS of the heights is kept in the CRS decision (``vertical``).
* Refused: XML that is not well formed (a cut file is named *truncated*), CityGML with no building.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

import shapely
from lxml import etree
from shapely.geometry import Polygon, mapping

from kg_twin.errors import InputError
from kg_twin.ingest.base import MapContext, RecordSource, Triple, register
from kg_twin.ingest.mappers.geosparql import map_features, propose_features
from kg_twin.ingest.sniffing import xml_root
from kg_twin.models import Origin, Record, Reject

VERSIONS = {
    "http://www.opengis.net/citygml/1.0": "1.0",
    "http://www.opengis.net/citygml/2.0": "2.0",
    "http://www.opengis.net/citygml/3.0": "3.0",
}
GML = {"1.0": "http://www.opengis.net/gml", "2.0": "http://www.opengis.net/gml", "3.0": "http://www.opengis.net/gml/3.2"}
XLINK = "{http://www.w3.org/1999/xlink}href"
_LOD_GEOM = re.compile(r"^lod([0-4])(Solid|MultiSurface|FootPrint|RoofEdge|Geometry)$")
_GENERIC = re.compile(r"^(string|int|double|date|uri|measure)Attribute$", re.I)
_LENGTH_UOM = {"m": 1.0, "mm": 0.001, "cm": 0.01, "dm": 0.1, "km": 1000.0, "ft": 0.3048, "[ft_i]": 0.3048, "#m": 1.0, "metre": 1.0, "meter": 1.0}
_ADDRESS = {"ThoroughfareName": "street", "ThoroughfareNumber": "houseNumber", "PostalCodeNumber": "postalCode",
            "LocalityName": "locality", "CountryName": "country", "DependentLocalityName": "district",
            # xAL 3 (CityGML 3.0)
            "PostCode": "postalCode"}
# AdV (German surveying) CRS names -> EPSG
_ADV = {"ETRS89_UTM32": "EPSG:25832", "ETRS89_UTM33": "EPSG:25833", "DE_DHHN92_NH": "EPSG:5783", "DE_DHHN2016_NH": "EPSG:7837"}


def srs_of(name: str) -> dict[str, Any]:
    """The CRS decision for a ``srsName``: horizontal CRS (``value``) and vertical one (``vertical``).

    >>> srs_of("urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783")["value"]
    'EPSG:25833'
    >>> srs_of("urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783")["vertical"]
    'EPSG:5783'
    >>> srs_of("EPSG:28992+5709")["value"], srs_of("urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH")["vertical"]
    ('EPSG:28992', 'EPSG:7837')
    >>> srs_of("http://www.opengis.net/def/crs/EPSG/0/7415")["value"]
    'EPSG:7415'
    """
    s = name.strip()
    codes: list[str] = []
    if s.lower().startswith("urn:adv:crs:"):
        codes = [_ADV[p] for p in s[12:].split("*") if p in _ADV]
    else:
        codes = [f"EPSG:{c}" for c in re.findall(r"EPSG(?::[\d.]*:|/[^/]+/|::|:)(\d+)", s, re.I)]
        codes += [f"EPSG:{c}" for c in re.findall(r"\+(\d+)$", s)]
    if not codes:
        return {"value": None, "confidence": 0.0, "reason": f"srsName {s!r} names no EPSG code"}
    out: dict[str, Any] = {"value": codes[0], "confidence": 1.0, "reason": f"srsName {s}"}
    if len(codes) > 1:
        out["vertical"] = codes[1]
        out["reason"] += f" (compound: horizontal {codes[0]}, heights in {codes[1]})"
    return out


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _coords(ring: Any, dim: int) -> list[tuple[float, ...]]:
    """Coordinates of a gml:LinearRing (posList, pos, or the GML 2 coordinates element)."""
    pts: list[tuple[float, ...]] = []
    for child in ring:
        ln = _local(child)
        if ln == "posList":
            d = int(child.get("srsDimension") or dim)
            vals = [float(v) for v in (child.text or "").split()]
            pts.extend(tuple(vals[i : i + d]) for i in range(0, len(vals) - d + 1, d))
        elif ln == "pos":
            pts.append(tuple(float(v) for v in (child.text or "").split()))
        elif ln == "coordinates":
            pts.extend(tuple(float(v) for v in t.split(",")) for t in (child.text or "").split())
        elif ln == "pointProperty":
            pts.extend(tuple(float(v) for v in (p.text or "").split()) for p in child.iter() if _local(p) == "pos")
    return pts


class _Geometry:
    """Polygons of one city object (its own geometry properties only, not its parts')."""

    def __init__(self, ids: dict[str, Any], dim: int) -> None:
        self.ids, self.dim = ids, dim
        self.zs: list[float] = []

    def polygons(self, prop: Any) -> list[list[list[tuple[float, ...]]]]:
        out: list[list[list[tuple[float, ...]]]] = []
        self._collect(prop, out, set())
        return out

    def _collect(self, el: Any, out: list[Any], seen: set[str]) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                continue
            href = child.get(XLINK)
            if href and href.startswith("#") and href[1:] not in seen and href[1:] in self.ids:
                seen.add(href[1:])
                target = self.ids[href[1:]]
                if _local(target) == "Polygon":
                    out.append(self._polygon(target))
                else:
                    self._collect(target, out, seen)
                continue
            if _local(child) == "Polygon":
                out.append(self._polygon(child))
            else:
                self._collect(child, out, seen)

    def _polygon(self, poly: Any) -> list[list[tuple[float, ...]]]:
        rings: list[list[tuple[float, ...]]] = []
        for side in poly:
            ln = _local(side)
            if ln not in ("exterior", "interior", "outerBoundaryIs", "innerBoundaryIs"):
                continue
            for ring in side:
                if _local(ring) == "LinearRing":
                    pts = _coords(ring, self.dim)
                    self.zs.extend(p[2] for p in pts if len(p) > 2)
                    (rings.insert(0, pts) if ln in ("exterior", "outerBoundaryIs") else rings.append(pts))
        return rings


def _footprint(parts: list[list[list[tuple[float, ...]]]], horizontal_only: bool) -> Any:
    polys = []
    for rings in parts:
        if not rings or len(rings[0]) < 3:
            continue
        p = Polygon([q[:2] for q in rings[0]], [[q[:2] for q in r] for r in rings[1:] if len(r) >= 3])
        if horizontal_only and p.area <= 1e-9:  # a wall seen from above
            continue
        if not p.is_valid:
            p = shapely.make_valid(p, method="structure", keep_collapsed=False)
        polys.append(p)
    return shapely.unary_union(polys) if polys else None


def _typed(kind: str, text: str) -> Any:
    t = text.strip()
    try:
        if kind.lower() == "int":
            return int(t)
        if kind.lower() in ("double", "measure"):
            return float(t)
    except ValueError:
        return t
    return t


class CityGMLHandler(RecordSource):
    name = "citygml"
    extensions = (".gml", ".xml", ".citygml")

    def sniff(self, path: Path, head: bytes) -> float:
        root = xml_root(Path(path))
        if root is None:
            return 0.0
        if root.namespace in VERSIONS:
            return 0.97
        if root.error and Path(path).suffix.lower() in (".gml", ".citygml"):
            return 0.5  # broken XML named like CityGML: read() says what is wrong
        return 0.0

    def read(self, path: Path) -> Iterator[Union[Record, Reject]]:
        path = Path(path)
        root = xml_root(path)
        if root is None or root.error:
            raise InputError("BAD_CITYGML", f"{path.name}: not well-formed XML ({root.error if root else 'does not start with <'})",
                             where={"file": path.name}, hint="check the file is a complete CityGML document")
        version = VERSIONS.get(root.namespace)
        if version is None:
            raise InputError("NOT_CITYGML", f"{path.name}: root element {{{root.namespace}}}{root.local} is not CityGML 1.0, 2.0 or 3.0",
                             where={"file": path.name}, hint="pass --reader NAME for another format (kg-twin readers lists them)")
        bldg = root.namespace.replace("/citygml/", "/citygml/building/")
        gml = GML[version]
        member_tags = {f"{{{root.namespace}}}cityObjectMember", f"{{{gml}}}featureMember", f"{{{root.namespace}}}featureMember"}
        tags = [f"{{{bldg}}}Building", f"{{{gml}}}Envelope", *member_tags]
        layer = path.name.split(".")[0]
        model_srs: str | None = None
        buildings = 0
        try:
            for _ev, el in etree.iterparse(str(path), events=("end",), tag=tags, resolve_entities=False, no_network=True, huge_tree=True):
                ln = _local(el)
                if ln == "Envelope":
                    parent = el.getparent()
                    if model_srs is None and parent is not None and parent.getparent() is not None and parent.getparent().getparent() is None:
                        model_srs = el.get("srsName")
                    continue
                if ln == "Building":
                    buildings += 1
                    yield from self._building(path.name, layer, el, gml, model_srs)
                    continue
                # a city object member is done: free it and what came before it
                el.clear(keep_tail=False)
                while el.getprevious() is not None:
                    del el.getparent()[0]
        except etree.XMLSyntaxError as e:
            cut = "truncated" if "end of data" in str(e).lower() or "premature end" in str(e).lower() or "EndTag" in str(e) else "not well-formed"
            raise InputError("TRUNCATED_FILE" if cut == "truncated" else "BAD_CITYGML",
                             f"{path.name}: the CityGML file is {cut} (line {e.lineno}): {e.msg}; nothing was published",
                             where={"file": path.name, "line": e.lineno},
                             hint="the file was cut (interrupted download or copy): fetch or export it again" if cut == "truncated"
                             else "fix the XML (e.g. xmllint --noout FILE shows where)") from None
        if buildings == 0:
            raise InputError("NO_BUILDINGS", f"{path.name}: CityGML {version} without any bldg:Building",
                             where={"file": path.name}, hint="this reader structures buildings and building parts; other city objects are not read yet")

    def _building(self, fname: str, layer: str, el: Any, gml: str, model_srs: str | None) -> Iterator[Union[Record, Reject]]:
        gid = f"{{{gml}}}id"
        ids = {e.get(gid): e for e in el.iter() if isinstance(e.tag, str) and e.get(gid)}
        srs_name = next((e.get("srsName") for e in el.iter() if isinstance(e.tag, str) and e.get("srsName")), None) or model_srs
        dims = next((e.get("srsDimension") for e in el.iter() if isinstance(e.tag, str) and e.get("srsDimension")), None)
        crs = srs_of(srs_name) if srs_name else {"value": None, "confidence": 0.0, "reason": "no srsName on the building, its envelope or the city model's"}
        objects: list[tuple[Any, str, list[str]]] = [(el, "Building", [])]
        bid = el.get(gid) or f"building-{el.sourceline}"
        for part in el.iter():
            if isinstance(part.tag, str) and _local(part) == "BuildingPart":
                objects.append((part, "BuildingPart", [bid]))
        feet: dict[str, Any] = {}
        recs: list[tuple[str, Any, str, list[str], dict[str, Any], list[str], str, tuple[float | None, float | None]]] = []
        for obj, typ, parents in objects:
            oid = obj.get(gid) or f"{typ.lower()}-{obj.sourceline}"
            try:
                fp, how, zr = self._geometry(obj, ids, int(dims or 3))
            except (ValueError, IndexError, TypeError) as e:
                yield Reject(origin=Origin(file=fname, feature=oid, line=obj.sourceline), code="BAD_GEOMETRY", reason=f"geometry cannot be decoded: {e}")
                continue
            attrs, derived = self._attributes(obj)
            feet[oid] = fp
            recs.append((oid, obj, typ, parents, attrs, derived, how, zr))
        part_ids = [r[0] for r in recs if r[2] == "BuildingPart"]
        for oid, obj, typ, parents, attrs, derived, how, (zmin, zmax) in recs:
            fp = feet.get(oid)
            if fp is None and typ == "Building" and part_ids:
                kids = [feet[k] for k in part_ids if feet.get(k) is not None]
                if kids:
                    fp = shapely.unary_union(kids)
                    how = "union of the building parts' footprints"
            if "measuredHeight" not in attrs and zmin is not None and zmax is not None:
                attrs["measuredHeight"] = round(zmax - zmin, 3)
                derived.append("measuredHeight")
            fields: dict[str, Any] = {
                "layer": layer,
                "crs": crs,
                "id": oid,
                "type": typ,
                "geometry": mapping(fp) if fp is not None and not fp.is_empty else None,
                "properties": attrs,
                "parents": parents,
                "footprint": how,
            }
            if derived:
                fields["derived"] = derived
            yield Record(kind="feature", fields=fields, origin=Origin(file=fname, feature=oid, line=obj.sourceline))

    def _own_children(self, obj: Any) -> Iterator[Any]:
        """Direct property elements of a city object (its parts' are theirs)."""
        for child in obj:
            if isinstance(child.tag, str) and _local(child) not in ("consistsOfBuildingPart", "buildingPart"):
                yield child

    def _geometry(self, obj: Any, ids: dict[str, Any], dim: int) -> tuple[Any, str, tuple[float | None, float | None]]:
        g = _Geometry(ids, dim)
        ground: list[Any] = []
        lod0: list[Any] = []
        by_lod: dict[int, list[Any]] = {}
        for prop in self._own_children(obj):
            ln = _local(prop)
            m = _LOD_GEOM.match(ln)
            if m:
                polys = g.polygons(prop)
                if int(m.group(1)) == 0 and m.group(2) in ("FootPrint", "MultiSurface"):
                    lod0.extend(polys)
                elif m.group(2) in ("Solid", "MultiSurface", "Geometry"):
                    by_lod.setdefault(int(m.group(1)), []).extend(polys)
            elif ln in ("boundedBy", "boundary"):
                for surf in prop:
                    if isinstance(surf.tag, str):
                        polys = g.polygons(surf)
                        if _local(surf) == "GroundSurface":
                            ground.extend(polys)
                        else:
                            by_lod.setdefault(2, []).extend(polys)
        zr = (min(g.zs), max(g.zs)) if g.zs else (None, None)
        if ground:
            return _footprint(ground, False), "GroundSurface of LoD 2", zr
        if lod0:
            return _footprint(lod0, False), "LoD 0 footprint", zr
        for lod in sorted(by_lod):
            fp = _footprint(by_lod[lod], True)
            if fp is not None:
                return fp, f"non-vertical surfaces of LoD {lod}", zr
        return None, "no surface geometry", zr

    def _attributes(self, obj: Any) -> tuple[dict[str, Any], list[str]]:
        attrs: dict[str, Any] = {}
        derived: list[str] = []
        for prop in self._own_children(obj):
            ln = _local(prop)
            text = (prop.text or "").strip()
            if ln == "name" and text:
                attrs.setdefault("name", text)
            elif ln in ("function", "usage", "class", "roofType") and text:
                key = ln if ln not in attrs else f"{ln}_{sum(1 for k in attrs if k.startswith(ln + '_')) + 2}"
                attrs[key] = text
                if prop.get("codeSpace"):
                    attrs[f"{key}_codeSpace"] = prop.get("codeSpace")
            elif ln in ("storeysAboveGround", "storeysBelowGround") and text:
                attrs[ln] = _typed("int", text)
            elif ln == "yearOfConstruction" and text:
                attrs[ln] = _typed("int", text[:4])
            elif ln == "measuredHeight" and text:
                self._height(attrs, derived, text, prop.get("uom"))
            elif ln == "height":  # CityGML 3.0: con:height/con:Height/con:value
                val = next((v for v in prop.iter() if isinstance(v.tag, str) and _local(v) == "value"), None)
                if val is not None and (val.text or "").strip() and "measuredHeight" not in attrs:
                    self._height(attrs, derived, val.text.strip(), val.get("uom"))
            elif _GENERIC.match(ln) or ln == "genericAttribute":
                self._generic(prop, attrs)
            elif ln == "address":
                for leaf in prop.iter():
                    if isinstance(leaf.tag, str) and len(leaf) == 0 and (leaf.text or "").strip():
                        key = _ADDRESS.get(_local(leaf))
                        if key:
                            attrs.setdefault(key, leaf.text.strip())
        return attrs, derived

    @staticmethod
    def _height(attrs: dict[str, Any], derived: list[str], text: str, uom: str | None) -> None:
        value = float(text)
        unit = (uom or "m").rsplit(":", 1)[-1].strip().lower()
        factor = _LENGTH_UOM.get(unit)
        if factor is None:
            attrs["measuredHeight"] = value
            attrs["measuredHeight_uom"] = uom
            return
        if factor != 1.0:
            value = round(value * factor, 6)
            derived.append("measuredHeight")
            attrs["measuredHeight_uom"] = uom
        attrs["measuredHeight"] = value

    @staticmethod
    def _generic(prop: Any, attrs: dict[str, Any]) -> None:
        ln = _local(prop)
        if ln == "genericAttribute":  # 3.0: gen:genericAttribute/gen:StringAttribute/(gen:name, gen:value)
            for inner in prop:
                if isinstance(inner.tag, str):
                    CityGMLHandler._generic(inner, attrs)
            return
        kind = _GENERIC.match(ln[0].lower() + ln[1:])
        name = prop.get("name")
        value = None
        for child in prop:
            if not isinstance(child.tag, str):
                continue
            if _local(child) == "name" and not name:
                name = (child.text or "").strip()
            elif _local(child) == "value":
                value = child.text
        if name and value is not None and value.strip():
            attrs.setdefault(name, _typed(kind.group(1) if kind else "string", value))

    def propose(self, records: list[Record], ctx: MapContext) -> dict[str, Any]:
        from collections import Counter

        m = propose_features(records, ctx, self.name)
        derived = {d for r in records for d in r.fields.get("derived") or []}
        for c in m["columns"]:
            if c["column"] in derived:
                c["reason"] = "derived (from the geometry where the attribute is absent, or converted to metres); " + c["reason"]
        m["geometry"]["footprints"] = dict(sorted(Counter(str(r.fields.get("footprint")) for r in records).items()))
        # gml:id is the key: building parts point to their building by it (kgt:partOf)
        m["key"] = {"column": None, "confidence": 1.0, "reason": "the gml:id of each building / building part"}
        vertical = (records[0].fields.get("crs") or {}).get("vertical") if records else None
        if vertical and isinstance(m.get("crs"), dict):
            m["crs"].setdefault("vertical", vertical)
        return m

    def map(self, records: Iterable[Record], mapping: dict[str, Any], ctx: MapContext) -> Iterator[Union[Triple, Reject]]:
        return map_features(records, mapping, ctx)


HANDLER = register(CityGMLHandler())
