"""Haystack handler on carytown.json (py-brickschema test data)."""

from __future__ import annotations

import json

import pytest
import rdflib

from kg_twin.errors import InputError
from kg_twin.ingest.base import HANDLERS
from kg_twin.ingest.mappers.haystack import HAYSTACK
from kg_twin.models import Record

from .helpers import DATA, BRICK, ID, KGT, split, to_graph, without

CARY = DATA / "haystack" / "carytown.json"


@pytest.fixture(scope="module")
def mapped():
    from kg_twin.ingest.base import MapContext
    from kg_twin.terms import Naming

    ctx = MapContext(Naming("http://twin.test/"), "demo", "http://twin.test/source/demo/carytown", "carytown.json")
    items = list(HAYSTACK.read(CARY))
    m = HAYSTACK.propose([r for r in items if isinstance(r, Record)], ctx)
    triples, rejects = split(HAYSTACK.map(items, m, ctx))
    return items, m, to_graph(triples), rejects


def iri(kind, rid):
    return ID[f"{kind}/" + rid.replace(":", "%3A")]


def test_counts_add_up(mapped):
    items, m, g, rejects = mapped
    rows = json.loads(CARY.read_text())["rows"]
    assert len(items) == len(rows) == 22 and not rejects
    typed = set(g.subjects(rdflib.RDF.type, None))
    assert len(typed) == 22
    points = [r for r in rows if "point" in r]
    pts = {s for s in typed if "/point/" in str(s)}
    assert len(pts) == len(points) == 17


def test_classes_and_links(mapped):
    _, m, g, _ = mapped
    site = iri("site", "p:demo:r:23a44701-a89a6c66")
    rtu = iri("equipment", "p:demo:r:23a44701-7265b064")
    assert (site, rdflib.RDF.type, BRICK.Site) in g
    assert (rtu, rdflib.RDF.type, BRICK.Rooftop_Unit) in g
    assert (rtu, BRICK.hasLocation, site) in g
    zone_temp = iri("point", "p:demo:r:23a44701-27a8a001")
    assert (zone_temp, rdflib.RDF.type, BRICK.Zone_Air_Temperature_Sensor) in g
    assert (zone_temp, BRICK.isPointOf, rtu) in g
    assert (zone_temp, rdflib.RDFS.label, rdflib.Literal("Carytown RTU-1 ZoneTemp")) in g
    assert (zone_temp, BRICK.hasUnit, rdflib.URIRef("http://qudt.org/vocab/unit/DEG_F")) in g
    meter = iri("equipment", "p:demo:r:23a44701-092f16fa")
    assert (meter, rdflib.RDF.type, BRICK.Electrical_Meter) in g
    kw = iri("point", "p:demo:r:23a44701-3940e690")
    assert (kw, BRICK.isPointOf, meter) in g and (kw, BRICK.hasUnit, rdflib.URIRef("http://qudt.org/vocab/unit/KiloW")) in g
    # every entity carries its source and origin
    for s in set(g.subjects(rdflib.RDF.type, None)):
        assert (s, KGT.source, None) in g and (s, KGT.origin, None) in g
    # the proposal lists the converter's class per entity
    assert m["entities"]["p:demo:r:23a44701-7265b064"]["class"] == "brick:Rooftop_Unit"


def test_override_is_honoured(mapped):
    from kg_twin.ingest.base import MapContext
    from kg_twin.terms import Naming

    items, m, _, _ = mapped
    ctx = MapContext(Naming("http://twin.test/"), "demo", "http://twin.test/source/demo/carytown", "carytown.json")
    m2 = {**m, "overrides": {"p:demo:r:23a44701-3624929f": "brick:Space"}}
    g = to_graph(split(HAYSTACK.map(items, m2, ctx))[0])
    assert (iri("equipment", "p:demo:r:23a44701-3624929f"), rdflib.RDF.type, BRICK.Space) in g


def test_dangling_ref_and_missing_id_are_rejects(tmp_path, ctx_for):
    grid = {"meta": {"ver": "3.0"}, "cols": [{"name": "id"}], "rows": [
        {"id": "r:a", "site": "m:", "dis": "s:Site A"},
        {"id": "r:p1", "point": "m:", "sensor": "m:", "temp": "m:", "air": "m:", "zone": "m:", "equipRef": "r:nowhere"},
        {"dis": "s:no id", "point": "m:"},
    ]}
    p = tmp_path / "g.json"
    p.write_text(json.dumps(grid))
    items = list(HAYSTACK.read(p))
    triples, rejects = split(HAYSTACK.map(items, {}, ctx_for("g.json")))
    assert sorted(r.code for r in rejects) == ["DANGLING_REF", "NO_ID"]
    assert to_graph(triples).value(None, rdflib.RDF.type, BRICK.Site) is not None


def test_truncated_json(tmp_path):
    p = tmp_path / "cut.json"
    p.write_text(CARY.read_text()[:500])
    with pytest.raises(InputError) as e:
        list(HAYSTACK.read(p))
    assert e.value.code == "BAD_JSON" and "line" in e.value.where


def test_sniff_and_registration(tmp_path):
    assert HANDLERS["haystack"] is HAYSTACK
    assert HAYSTACK.sniff(CARY, CARY.read_bytes()[:4096]) > 0.9
    other = tmp_path / "other.json"  # detection reads the file's top level, not the head it is given
    other.write_text('{"@context": {}, "note": "\"rows\" and \"cols\" in a string"}')
    assert HAYSTACK.sniff(other, other.read_bytes()) == 0.0


def _to_v4(v):
    """Re-encode a Haystack JSON v3 value the way Haystack 4 JSON writes it."""
    if v == "m:":
        return {"_kind": "marker"}
    if isinstance(v, str) and v.startswith("r:"):
        rid, _, dis = v[2:].partition(" ")
        return {"_kind": "ref", "val": rid, **({"dis": dis} if dis else {})}
    if isinstance(v, str) and v.startswith("n:"):
        num, _, unit = v[2:].partition(" ")
        return {"_kind": "number", "val": float(num), **({"unit": unit} if unit else {})}
    if isinstance(v, str) and v.startswith("s:"):
        return v[2:]
    return v


def test_haystack4_json_gives_the_same_graph(mapped, tmp_path, ctx_for):
    from kg_twin.ingest.base import MapContext
    from kg_twin.terms import Naming
    from rdflib.compare import isomorphic

    grid = json.loads(CARY.read_text())
    grid["meta"]["ver"] = "4.0"
    grid["rows"] = [{k: _to_v4(v) for k, v in r.items()} for r in grid["rows"]]
    p = tmp_path / "carytown4.json"
    p.write_text(json.dumps(grid))
    ctx = MapContext(Naming("http://twin.test/"), "demo", "http://twin.test/source/demo/carytown", "carytown.json")
    items = list(HAYSTACK.read(p))
    triples, rejects = split(HAYSTACK.map(items, {}, ctx))
    g4 = to_graph(triples)
    _, _, g3, _ = mapped
    assert not rejects and isomorphic(without(g3, KGT.origin), without(g4, KGT.origin))  # file name differs


def test_point_without_matching_tags_falls_back_to_its_name(tmp_path, ctx_for):
    grid = {"meta": {"ver": "3.0"}, "cols": [{"name": "id"}], "rows": [
        {"id": "r:ahu", "equip": "m:", "ahu": "m:", "dis": "s:AHU-1"},
        {"id": "r:p1", "point": "m:", "frobnicated": "m:", "navName": "s:SA-TEMP", "unit": "s:°F", "equipRef": "r:ahu"},
    ]}
    p = tmp_path / "g.json"
    p.write_text(json.dumps(grid))
    triples, rejects = split(HAYSTACK.map(list(HAYSTACK.read(p)), {}, ctx_for("g.json")))
    g = to_graph(triples)
    p1 = ID["point/p1"]
    assert not rejects
    assert (p1, rdflib.RDF.type, BRICK.Supply_Air_Temperature_Sensor) in g
    assert "class from the point name" in str(g.value(p1, KGT.reviewReason))
    assert (p1, BRICK.isPointOf, ID["equipment/ahu"]) in g
