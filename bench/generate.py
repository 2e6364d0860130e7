"""Deterministic generator of realistic territorial twin data.

A district of buildings with GeoSPARQL footprints (CRS84), BOT storeys and spaces,
Brick equipment (AHUs, VAVs, meters) and points with units and last known values,
SOSA sensors, and DCAT documents — shaped like the structuring pipeline's output.

    python -m bench.generate --triples 100000 -o district.nt
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path
from typing import Iterator

BASE = "http://localhost:8000/id/bench/"
BRICK = "https://brickschema.org/schema/Brick#"
BOT = "https://w3id.org/bot#"
GEO = "http://www.opengis.net/ont/geosparql#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
KGT = "https://w3id.org/kg-twin/ontology#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
SOSA = "http://www.w3.org/ns/sosa/"
UNIT = "http://qudt.org/vocab/unit/"

POINTS = [
    ("Zone_Air_Temperature_Sensor", "ZN-T", "DEG_C"),
    ("Zone_Air_Temperature_Setpoint", "ZN-T-SP", "DEG_C"),
    ("CO2_Level_Sensor", "CO2", "PPM"),
    ("Zone_Air_Humidity_Sensor", "RH", "PERCENT_RH"),
    ("Occupancy_Sensor", "OCC", None),
]
AHU_POINTS = [
    ("Supply_Air_Temperature_Sensor", "SA-TEMP", "DEG_C"),
    ("Supply_Air_Temperature_Setpoint", "SA-TEMP-SP", "DEG_C"),
    ("Return_Air_Temperature_Sensor", "RA-TEMP", "DEG_C"),
    ("Supply_Fan_Speed_Command", "SF-SPD", "PERCENT"),
]


def _iri(x: str) -> str:
    return f"<{x}>"


def _lit(v: str, dt: str | None = None) -> str:
    return f'"{v}"^^<{dt}>' if dt else f'"{v}"'


def triples(target: int, seed: int = 42) -> Iterator[str]:
    """Yield N-Triples lines until about ``target`` triples were produced."""
    rng = random.Random(seed)
    n = 0
    b = 0
    src = BASE + "source/bench-generator"
    while n < target:
        bid = f"{BASE}building/B{b:05d}"
        lon = 2.35 + (b % 100) * 0.0012
        lat = 44.35 + (b // 100) * 0.0010
        w, h = 0.0004 + rng.random() * 0.0003, 0.0003 + rng.random() * 0.0003
        wkt = f"POLYGON(({lon:.6f} {lat:.6f},{lon + w:.6f} {lat:.6f},{lon + w:.6f} {lat + h:.6f},{lon:.6f} {lat + h:.6f},{lon:.6f} {lat:.6f}))"
        geom = bid + "/geom"
        out = [
            (bid, RDF_TYPE, _iri(BOT + "Building")),
            (bid, RDF_TYPE, _iri(GEO + "Feature")),
            (bid, RDF_TYPE, _iri(BRICK + "Building")),
            (bid, RDFS_LABEL, _lit(f"Building {b}")),
            (bid, KGT + "source", _iri(src)),
            (bid, GEO + "hasDefaultGeometry", _iri(geom)),
            (geom, RDF_TYPE, _iri(GEO + "Geometry")),
            (geom, GEO + "asWKT", _lit(wkt, GEO + "wktLiteral")),
            (bid, BRICK + "buildingPrimaryFunction", _lit(rng.choice(["Office", "Residential", "School", "Retail"]))),
        ]
        ahu = f"{bid}/AHU-1"
        out += [(ahu, RDF_TYPE, _iri(BRICK + "AHU")), (ahu, RDFS_LABEL, _lit(f"AHU-1 B{b}")), (ahu, BRICK + "hasLocation", _iri(bid)), (ahu, KGT + "source", _iri(src))]
        for cls, name, unit in AHU_POINTS:
            p = f"{ahu}/{name}"
            out += [(p, RDF_TYPE, _iri(BRICK + cls)), (p, RDFS_LABEL, _lit(f"B{b} AHU-1 {name}")), (p, BRICK + "isPointOf", _iri(ahu)), (p, KGT + "source", _iri(src))]
            if unit:
                out.append((p, BRICK + "hasUnit", _iri(UNIT + unit)))
        meter = f"{bid}/METER"
        out += [(meter, RDF_TYPE, _iri(BRICK + "Electrical_Meter")), (meter, RDFS_LABEL, _lit(f"Meter B{b}")), (meter, BRICK + "meters", _iri(bid)), (meter, KGT + "source", _iri(src))]
        doc = f"{bid}/doc/manual"
        out += [
            (doc, RDF_TYPE, _iri(DCAT + "Resource")),
            (doc, RDF_TYPE, _iri(KGT + "Document")),
            (doc, DCT + "title", _lit(f"AHU-1 manual, building {b}")),
            (doc, DCAT + "mediaType", _lit("application/pdf")),
            (doc, DCT + "subject", _iri(ahu)),
        ]
        for s in range(rng.randint(2, 5)):
            st = f"{bid}/storey/{s}"
            out += [(bid, BOT + "hasStorey", _iri(st)), (st, RDF_TYPE, _iri(BOT + "Storey")), (st, RDFS_LABEL, _lit(f"B{b} level {s}"))]
            for r in range(rng.randint(3, 8)):
                sp = f"{st}/space/{r}"
                out += [
                    (st, BOT + "hasSpace", _iri(sp)),
                    (sp, RDF_TYPE, _iri(BOT + "Space")),
                    (sp, RDF_TYPE, _iri(BRICK + "Room")),
                    (sp, RDFS_LABEL, _lit(f"Room {s}{r:02d} B{b}")),
                    (sp, KGT + "source", _iri(src)),
                ]
                vav = f"{sp}/VAV"
                out += [(vav, RDF_TYPE, _iri(BRICK + "VAV")), (vav, BRICK + "feeds", _iri(sp)), (ahu, BRICK + "feeds", _iri(vav)), (vav, RDFS_LABEL, _lit(f"VAV {s}-{r} B{b}"))]
                for cls, name, unit in POINTS:
                    p = f"{sp}/{name}"
                    out += [
                        (p, RDF_TYPE, _iri(BRICK + cls)),
                        (p, RDFS_LABEL, _lit(f"RM{s}{r:02d} {name}")),
                        (p, BRICK + "isPointOf", _iri(vav)),
                        (p, BRICK + "hasLocation", _iri(sp)),
                        (p, RDF_TYPE, _iri(SOSA + "Sensor")),
                    ]
                    if unit:
                        out.append((p, BRICK + "hasUnit", _iri(UNIT + unit)))
                    val = round(20 + 3 * math.sin(b + s + r) + rng.random(), 2)
                    out.append((p, BRICK + "lastKnownValue", _lit(str(val), XSD + "decimal")))
        for s_, p_, o_ in out:
            yield f"<{s_}> <{p_}> {o_} .\n"
        n += len(out)
        b += 1


def write(path: Path, target: int, seed: int = 42) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for line in triples(target, seed):
            fh.write(line)
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--triples", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("-o", "--output", type=Path, required=True)
    a = ap.parse_args()
    print(write(a.output, a.triples, a.seed))


if __name__ == "__main__":
    main()
