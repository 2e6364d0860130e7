"""Build the labelled link sets of ``tests/data/links/`` from the shared data (deterministic, seed 19).

    python -m bench.links_data            # rewrites tests/data/links/*

Sets (each: data to link + a gold CSV of the true pairs; what the noise is and why in docs/links.md):

* ``duplex-brick-refs.ttl`` / ``duplex-brick-gold.csv``: a Brick model of Duplex_A.ifc's site,
  building, storeys and spaces that references the IFC objects the way Brick's IFC example does
  (``ref:hasExternalReference [ ref:ifcGlobalID ... ]``); a third of the references are written as
  UUIDs (as Revit and other tools export them), a few point at objects missing from the file.
* ``olemps-footprints-noisy.ttl`` / ``olemps-footprints-gold.csv``: footprints derived from BD TOPO's
  BATIMENT layer (Olemps) with realistic noise: a dataset-wide offset and a per-building shift,
  simplification or re-digitising (vertex jitter), 4 % of the buildings missing, 2 % extra buildings;
  geometries in Lambert-93 (EPSG:2154) WKT, so linking them to the ingested BD TOPO (CRS84) reprojects.
* ``olemps-zones-gold.csv``: BD TOPO buildings inside activity zones (ZONE_D_ACTIVITE_OU_D_INTERET):
  at least half of the building's area inside the zone, computed with shapely in Lambert-93.
* ``duplex-points.ttl`` / ``duplex-points-gold.csv``: a point list naming Duplex rooms the way point
  lists do ("RM-A101 ZN-T", "Rm A 101 CO2", "ROOM B205 Occ", "A101.SAT", "Salle R301 Temp"), some with the
  room number only ("RM101" for A101), plus plant points and rooms missing from the IFC.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from pathlib import Path

import ifcopenshell
import ifcopenshell.guid
import shapefile
import shapely
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
OUT = DATA / "links"
EX = "http://example.org/"
L93 = "<http://www.opengis.net/def/crs/EPSG/0/2154> "
PREFIXES = """@prefix brick: <https://brickschema.org/schema/Brick#> .
@prefix ref: <https://brickschema.org/schema/Brick/ref#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
@prefix bot: <https://w3id.org/bot#> .
"""


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def brick_refs(rng: random.Random) -> None:
    f = ifcopenshell.open(str(DATA / "ifc" / "Duplex_A.ifc"))
    kinds = [("IfcSite", "brick:Site"), ("IfcBuilding", "brick:Building"), ("IfcBuildingStorey", "brick:Floor"), ("IfcSpace", "brick:Space")]
    lines = [PREFIXES, f"@prefix bldg: <{EX}duplex#> .", "", "bldg:ifc_project a ref:ifcProject ; ref:ifcProjectID \"Duplex_A\" ; ref:ifcFileLocation \"Duplex_A.ifc\" .", ""]
    gold = []
    n = 0
    for ifc_class, brick_class in kinds:
        for el in sorted(f.by_type(ifc_class), key=lambda e: e.GlobalId):
            n += 1
            gid = el.GlobalId
            written = gid
            if rng.random() < 1 / 3:  # the UUID form, upper or lower case, sometimes in braces
                u = ifcopenshell.guid.split(ifcopenshell.guid.expand(gid))
                written = rng.choice([u, u.upper(), "{" + u.upper() + "}"])
            name = " ".join(x for x in (el.Name, getattr(el, "LongName", None)) if x)
            lines.append(f"bldg:e{n} a {brick_class} ; rdfs:label {_q(name or ifc_class)} ;\n"
                         f"    ref:hasExternalReference [ a ref:IFCReference ; ref:hasIfcProjectReference bldg:ifc_project ;\n"
                         f"        ref:ifcGlobalID {_q(written)} ; ref:ifcName {_q(el.Name or '')} ] .")
            gold.append((f"{EX}duplex#e{n}", gid))
    for k in range(5):  # references to objects deleted from the model: no link is right
        n += 1
        stale = ifcopenshell.guid.new()
        lines.append(f"bldg:e{n} a brick:Space ; rdfs:label \"Removed space {k}\" ;\n"
                     f"    ref:hasExternalReference [ a ref:IFCReference ; ref:ifcGlobalID {_q(stale)} ] .")
    (OUT / "duplex-brick-refs.ttl").write_text("\n".join(lines) + "\n")
    _gold(OUT / "duplex-brick-gold.csv", ("brick_entity", "ifc_globalid"), gold)


def _buildings() -> list[tuple[str, shapely.Geometry]]:
    with zipfile.ZipFile(DATA / "geo" / "bdtopo_batiment_olemps.zip") as zf:
        names = zf.namelist()
        parts = {ext: io.BytesIO(zf.read(next(n for n in names if n.lower().endswith(ext)))) for ext in (".shp", ".dbf", ".shx")}
        r = shapefile.Reader(shp=parts[".shp"], dbf=parts[".dbf"], shx=parts[".shx"])
        return [(rec.as_dict()["ID"], shapely.force_2d(shape(sh.__geo_interface__))) for sh, rec in zip(r.shapes(), r.records())]


def _ring(coords: list[tuple[float, float]], rng: random.Random) -> list[tuple[float, float]]:
    pts = [(x + rng.gauss(0, 0.3), y + rng.gauss(0, 0.3)) for x, y in coords[:-1]]
    return pts + pts[:1]


def _redigitise(g: shapely.Geometry, rng: random.Random) -> shapely.Geometry:
    polys = list(g.geoms) if g.geom_type == "MultiPolygon" else [g]
    out = [shapely.Polygon(_ring(list(p.exterior.coords), rng), [_ring(list(i.coords), rng) for i in p.interiors]) for p in polys]
    return out[0] if len(out) == 1 else shapely.MultiPolygon(out)


def footprints(rng: random.Random) -> None:
    buildings = _buildings()
    dx0, dy0 = 0.6, -0.4  # dataset-wide offset (another georeferencing), metres
    lines = [PREFIXES, ""]
    gold = []
    n = 0

    def emit(geom: shapely.Geometry) -> str:
        nonlocal n
        n += 1
        way = f"way/{100000 + n}"
        lines.append(f"<{EX}osm/{way}> a bot:Building, geo:Feature ; dcterms:identifier {_q(way)} ;\n"
                     f"    geo:hasDefaultGeometry <{EX}osm/{way}/geom> .\n"
                     f"<{EX}osm/{way}/geom> a geo:Geometry ; geo:asWKT {_q(L93 + shapely.to_wkt(geom, rounding_precision=2))}^^geo:wktLiteral .")
        return f"{EX}osm/{way}"

    for bid, g in buildings:
        if rng.random() < 0.04:  # missing from the derived set
            continue
        g = shapely.affinity.translate(g, dx0 + rng.gauss(0, 0.5), dy0 + rng.gauss(0, 0.5))
        kind = rng.random()
        if kind < 0.4:  # simplified
            g = g.simplify(0.7, preserve_topology=True)
        elif kind < 0.8:  # re-digitised: every vertex placed again, within ~0.3 m
            g = shapely.make_valid(_redigitise(g, rng))
        gold.append((emit(g), bid))
    for _ in range(int(len(buildings) * 0.02)):  # buildings BD TOPO does not have (new, or demolished since)
        _, g = rng.choice(buildings)
        g = shapely.affinity.rotate(shapely.affinity.translate(g, rng.uniform(40, 80) * rng.choice((-1, 1)), rng.uniform(40, 80) * rng.choice((-1, 1))), rng.uniform(0, 90))
        emit(g)
    (OUT / "olemps-footprints-noisy.ttl").write_text("\n".join(lines) + "\n")
    _gold(OUT / "olemps-footprints-gold.csv", ("derived_feature", "bdtopo_id"), gold)


def zones() -> None:
    r = shapefile.Reader(str(DATA / "geo" / "ZONE_D_ACTIVITE_OU_D_INTERET.shp"))
    zs = [(rec.as_dict()["ID"], shape(sh.__geo_interface__)) for sh, rec in zip(r.shapes(), r.records())]
    gold = []
    for bid, g in _buildings():
        for zid, z in zs:
            if g.area > 0 and g.intersection(z).area / g.area >= 0.5:
                gold.append((zid, bid))
    _gold(OUT / "olemps-zones-gold.csv", ("zone_id", "bdtopo_id"), gold)


def points(rng: random.Random) -> None:
    f = ifcopenshell.open(str(DATA / "ifc" / "Duplex_A.ifc"))
    spaces = sorted(f.by_type("IfcSpace"), key=lambda s: s.Name)
    kinds = [("Zone_Air_Temperature_Sensor", "ZN-T"), ("CO2_Sensor", "CO2"), ("Relative_Humidity_Sensor", "RH"), ("Occupancy_Sensor", "Occ"),
             ("Supply_Air_Temperature_Sensor", "SAT"), ("Zone_Air_Temperature_Setpoint", "ZN-SP")]
    styles = [lambda c: f"RM-{c} {{k}}", lambda c: f"Rm {c[0]} {c[1:]} {{k}}", lambda c: f"ROOM {c} {{k}}", lambda c: f"{c}.{{k}}",
              lambda c: f"Salle {c} {{k}}", lambda c: f"{c[0]}-{c[1:]}_{{k}}"]
    lines = [PREFIXES, f"@prefix pts: <{EX}points#> .", ""]
    gold = []
    n = 0
    for sp in spaces:
        for cls, k in rng.sample(kinds, rng.randint(2, 4)):
            n += 1
            code = sp.Name
            name = (f"RM{code[1:]} {k}" if rng.random() < 0.1 else rng.choice(styles)(code).format(k=k))  # number only: ambiguous (A101/B101)
            lines.append(f"pts:p{n} a brick:{cls} ; rdfs:label {_q(name)} .")
            gold.append((f"{EX}points#p{n}", sp.GlobalId))
    for name, cls in [("AHU-1 SAT", "Supply_Air_Temperature_Sensor"), ("AHU-1 RAT", "Return_Air_Temperature_Sensor"), ("CH-2 CHWST", "Chilled_Water_Supply_Temperature_Sensor"),
                      ("Main Meter kWh", "Electrical_Energy_Sensor"), ("RM C101 ZN-T", "Zone_Air_Temperature_Sensor"), ("Room C205 CO2", "CO2_Sensor"),
                      ("OAT", "Outside_Air_Temperature_Sensor"), ("Boiler-1 HWST", "Hot_Water_Supply_Temperature_Sensor")]:
        n += 1
        lines.append(f"pts:p{n} a brick:{cls} ; rdfs:label {_q(name)} .")
    (OUT / "duplex-points.ttl").write_text("\n".join(lines) + "\n")
    _gold(OUT / "duplex-points-gold.csv", ("point", "ifc_space_globalid"), gold)


def _gold(path: Path, header: tuple[str, str], rows: list[tuple[str, str]]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    brick_refs(random.Random(19))
    footprints(random.Random(19))
    zones()
    points(random.Random(19))
    for p in sorted(OUT.iterdir()):
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
