"""CityJSON handler on cjio's Rotterdam subset (CityJSON 2.0, 16 LoD2 buildings, no referenceSystem)."""

from __future__ import annotations

import json

import pytest
import shapely
from rdflib.compare import isomorphic

from kg_twin.errors import InputError
from kg_twin.ingest.readers.cityjson import HANDLER as CITYJSON

from .geobim_run import BOT, DATA, DCT, GEO, KGT, RDF, XSD, run_handler
from .helpers import without

ROTTERDAM = DATA / "cityjson" / "rotterdam_subset.json"


@pytest.fixture(scope="module")
def rdam():
    return run_handler(CITYJSON, ROTTERDAM, crs="EPSG:28992")


def test_file_without_reference_system_asks_for_crs():
    with pytest.raises(InputError) as e:
        run_handler(CITYJSON, ROTTERDAM)
    assert e.value.code == "UNKNOWN_CRS"
    assert "referenceSystem" in e.value.message and "--crs" in e.value.hint


def test_sixteen_buildings_with_footprints_in_rotterdam(rdam):
    doc = json.loads(ROTTERDAM.read_text())
    g = rdam.graph
    buildings = set(g.subjects(RDF.type, BOT.Building))
    assert len(buildings) == 16 == len(doc["CityObjects"])
    assert not rdam.rejects
    ids = {str(g.value(b, DCT.identifier)) for b in buildings}
    assert ids == set(doc["CityObjects"])
    for b in buildings:
        geom = g.value(b, GEO.hasDefaultGeometry)
        wkt = g.value(geom, GEO.asWKT)
        assert wkt.datatype == GEO.wktLiteral
        fp = shapely.from_wkt(str(wkt))
        assert fp.is_valid and fp.geom_type in ("Polygon", "MultiPolygon") and fp.area > 0
        # CRS84 lon/lat around Rotterdam Noord (4.46 E, 51.9 N)
        assert 4.4 < fp.centroid.x < 4.5 and 51.85 < fp.centroid.y < 51.95
        assert str(g.value(b, KGT.sourceCrs)) == "http://www.opengis.net/def/crs/EPSG/0/28992"
        h = g.value(b, KGT.height)
        assert h.datatype == XSD.decimal and 2 < float(h) < 100


def test_derived_height_is_max_minus_min_z(rdam):
    doc = json.loads(ROTTERDAM.read_text())
    oid, obj = next(iter(doc["CityObjects"].items()))
    sz, tz = doc["transform"]["scale"][2], doc["transform"]["translate"][2]
    idx = set()

    def walk(x):
        if isinstance(x, list):
            for y in x:
                walk(y)
        else:
            idx.add(x)

    for geom in obj["geometry"]:
        walk(geom["boundaries"])
    zs = [doc["vertices"][i][2] * sz + tz for i in idx]
    g = rdam.graph
    (b,) = [s for s, o in g.subject_objects(DCT.identifier) if str(o) == oid]
    assert abs(float(g.value(b, KGT.height)) - (max(zs) - min(zs))) < 1e-3
    cols = {c["column"]: c for c in rdam.mapping["columns"]}
    assert "derived from the geometry" in cols["measuredHeight"]["reason"]
    assert rdam.mapping["geometry"]["footprints"] == {"GroundSurface of LoD 2": 16}


def test_crs_in_metadata_is_used(tmp_path, rdam):
    doc = json.loads(ROTTERDAM.read_text())
    doc["metadata"] = {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/28992"}
    p = tmp_path / "rotterdam_subset.json"
    p.write_text(json.dumps(doc))
    run = run_handler(CITYJSON, p)
    assert run.mapping["crs"]["confidence"] == 1.0
    assert isomorphic(run.graph, rdam.graph)


def test_not_cityjson_is_an_input_error(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"type": "CityJSON", "version": "0.9", "CityObjects": {}, "vertices": []}))
    with pytest.raises(InputError) as e:
        list(CITYJSON.read(p))
    assert e.value.code == "BAD_CITYJSON" and "0.9" in e.value.message


def test_cityjson_seq_gives_the_same_graph(tmp_path, rdam):
    """CityJSON Text Sequence (.city.jsonl): header line + one CityJSONFeature per building."""
    doc = json.loads(ROTTERDAM.read_text())
    header = {k: v for k, v in doc.items() if k not in ("CityObjects", "vertices", "appearance")}
    header.update(CityObjects={}, vertices=[])
    lines = [json.dumps(header)]
    for oid, obj in doc["CityObjects"].items():
        remap: dict[int, int] = {}
        verts = []

        def walk(x):
            if isinstance(x, list):
                return [walk(y) for y in x]
            if x not in remap:
                remap[x] = len(verts)
                verts.append(doc["vertices"][x])
            return remap[x]

        geoms = [dict({k: v for k, v in g.items() if k != "texture"}, boundaries=walk(g["boundaries"])) for g in obj["geometry"]]
        lines.append(json.dumps({"type": "CityJSONFeature", "id": oid,
                                 "CityObjects": {oid: dict(obj, geometry=geoms)}, "vertices": verts}))
    p = tmp_path / "rotterdam_subset.city.jsonl"
    p.write_text("\n".join(lines) + "\n")
    head = p.read_bytes()[:4096]
    assert CITYJSON.sniff(p, head) > 0.9
    run = run_handler(CITYJSON, p, crs="EPSG:28992")
    assert len(run.records) == 16 and not run.rejects
    a, b = run.graph, rdam.graph
    assert {str(o).split(" feature ")[1] for o in a.objects(None, KGT.origin)} == set(doc["CityObjects"])
    assert isomorphic(without(a, KGT.origin), without(b, KGT.origin))  # same graph but for the file name in kgt:origin


def test_wrong_crs_is_caught_by_the_area_of_use():
    """RD New coordinates declared as Lambert-93 land in the Atlantic: every building is rejected."""
    run = run_handler(CITYJSON, ROTTERDAM, crs="EPSG:2154")
    assert len(run.rejects) == 16 and {r.code for r in run.rejects} == {"OUT_OF_RANGE"}
    assert "outside the area of use of RGF93 v1 / Lambert-93" in run.rejects[0].reason
    assert b"geosparql#Feature" not in run.nt


def test_object_without_surfaces_is_rejected_with_the_reason(tmp_path):
    doc = json.loads(ROTTERDAM.read_text())
    oid = next(iter(doc["CityObjects"]))
    doc["CityObjects"][oid]["geometry"] = [{"type": "MultiPoint", "lod": "1", "boundaries": [0, 1, 2]}]
    p = tmp_path / "rotterdam_subset.json"
    p.write_text(json.dumps(doc))
    run = run_handler(CITYJSON, p, crs="EPSG:28992")
    (rej,) = run.rejects
    assert rej.origin.feature == oid and rej.code == "NO_GEOMETRY" and "no surface geometry" in rej.reason
    assert len(run.records) - len(run.rejects) == 15
