"""GIS handlers on real BD TOPO v3 data (Olemps, Lambert-93) and small generated GeoJSON cases."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pyproj
import pytest
import shapefile
import shapely
from rdflib.compare import isomorphic

from kg_twin.errors import InputError
from kg_twin.ingest.readers.geojson import HANDLER as GEOJSON
from kg_twin.ingest.readers.shapefile import HANDLER as SHP

from .geobim_run import BOT, DATA, GEO, KGT, RDF, RDFS, SOURCE, UNIT, XSD, run_handler

BATI_ZIP = DATA / "geo" / "bdtopo_batiment_olemps.zip"
COMMUNE = DATA / "geo" / "COMMUNE.shp"
ZONES = DATA / "geo" / "ZONE_D_ACTIVITE_OU_D_INTERET.shp"


@pytest.fixture(scope="module")
def bati():
    return run_handler(SHP, BATI_ZIP)


@pytest.fixture(scope="module")
def commune():
    return run_handler(SHP, COMMUNE)


def _default_wkts(g):
    out = {}
    for f, geom in g.subject_objects(GEO.hasDefaultGeometry):
        (lit,) = list(g.objects(geom, GEO.asWKT))
        out[f] = lit
    return out


def test_every_building_is_mapped_or_rejected_with_a_reason(bati):
    with shapefile.Reader(str(BATI_ZIP)) as r:  # independent count with pyshp
        n_features = len(r)
    assert n_features == 2273
    assert all(rej.reason and rej.code for rej in bati.rejects)
    rows = bati.select("""
        SELECT ?b ?source ?origin ?label (COUNT(?t) AS ?types) WHERE {
          ?b a bot:Building ; kgt:source ?source ; kgt:origin ?origin ; rdfs:label ?label ; a ?t .
        } GROUP BY ?b ?source ?origin ?label""")
    assert len(rows) == n_features - len(bati.rejects)
    assert len({r["b"] for r in rows}) == len(rows)  # one source, origin and label each
    assert all(r["source"] == SOURCE for r in rows)
    assert all(r["origin"].startswith("bdtopo_batiment_olemps.zip feature ") for r in rows)
    assert {int(r["types"]) for r in rows} == {2}  # geo:Feature + bot:Building
    features = bati.select("SELECT ?f WHERE { ?f a geo:Feature }")
    assert {r["f"] for r in features} == {r["b"] for r in rows}


def _wkts(run):
    return {r["f"]: r for r in run.select("""
        SELECT ?f ?wkt (DATATYPE(?wkt) AS ?dt) ?id WHERE {
          ?f geo:hasDefaultGeometry ?g . ?g geo:asWKT ?wkt . OPTIONAL { ?f dcterms:identifier ?id } }""")}


def test_buildings_lie_in_the_olemps_commune_after_reprojection(bati, commune):
    (commune_row,) = _wkts(commune).values()
    olemps = shapely.from_wkt(commune_row["wkt"])
    assert olemps.is_valid and olemps.geom_type in ("Polygon", "MultiPolygon")
    # CRS84 axis order: Olemps is at about 2.55 E, 44.34 N
    c = olemps.centroid
    assert 2.5 < c.x < 2.6 and 44.3 < c.y < 44.4
    wkts = _wkts(bati)
    assert len(wkts) == 2273 - len(bati.rejects)
    for row in wkts.values():
        assert row["dt"] == str(GEO.wktLiteral)
        assert not row["wkt"].startswith("<")  # CRS84: no CRS IRI prefix
        b = shapely.from_wkt(row["wkt"])
        assert b.is_valid
        assert olemps.contains(b.representative_point())
        # two buildings straddle the commune boundary in BD TOPO itself; none by more than 1 %
        assert shapely.area(shapely.difference(b, olemps)) <= 0.01 * b.area


def test_reprojection_matches_pyproj_on_a_vertex(bati):
    with shapefile.Reader(str(BATI_ZIP)) as r:
        rec = r.shapeRecord(0)
    x, y = rec.shape.points[0]
    lon, lat = pyproj.Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True).transform(x, y)
    by_id = {row["id"]: row["wkt"] for row in _wkts(bati).values()}
    coords = list(shapely.get_coordinates(shapely.from_wkt(by_id[rec.record["ID"]])))
    assert min(abs(cx - lon) + abs(cy - lat) for cx, cy in coords) < 2e-7


def test_attributes_have_datatypes_and_units(bati):
    with shapefile.Reader(str(BATI_ZIP)) as r:
        rows = {rec["ID"]: rec.as_dict() for rec in r.iterRecords()}
    got = {r["id"]: r for r in bati.select("""
        SELECT ?id ?h (DATATYPE(?h) AS ?hdt) ?n (DATATYPE(?n) AS ?ndt) ?created (DATATYPE(?created) AS ?cdt) ?usage WHERE {
          ?b a bot:Building ; dcterms:identifier ?id ; dcterms:created ?created ; kgt:usage ?usage .
          OPTIONAL { ?b kgt:height ?h } OPTIONAL { ?b kgt:storeysAboveGround ?n } }""")}
    assert set(got) == set(rows)
    checked = 0
    for bid, row in rows.items():
        g = got[bid]
        if row["HAUTEUR"] is not None:
            assert g["hdt"] == str(XSD.decimal) and Decimal(g["h"]) == Decimal(repr(row["HAUTEUR"]))
        else:
            assert g["h"] is None
        if row["NB_ETAGES"] is not None:
            assert g["ndt"] == str(XSD.integer) and int(g["n"]) == row["NB_ETAGES"]
            checked += 1
        assert g["cdt"] == str(XSD.dateTime) and g["created"] == row["DATE_CREAT"].replace(" ", "T")
        assert g["usage"] == row["USAGE1"]
    assert checked == 1334
    # generic columns: project properties described with range and unit
    (zmin,) = bati.select("""SELECT ?p ?range ?unit WHERE { ?p rdfs:label "Z_MIN_SOL" ; rdfs:range ?range ; qudt:hasUnit ?unit }""")
    assert zmin["range"] == str(XSD.decimal) and zmin["unit"] == str(UNIT.M)
    assert zmin["p"].endswith("/id/test/prop/BATIMENT/Z_MIN_SOL")
    # Oui/Non -> boolean
    dts = bati.select("""SELECT DISTINCT (DATATYPE(?v) AS ?dt) WHERE { ?p rdfs:label "LEGER" . ?b ?p ?v }""")
    assert [r["dt"] for r in dts] == [str(XSD.boolean)]


def test_proposal_is_a_reviewable_table(bati):
    m = bati.mapping
    assert m["crs"]["value"] == "EPSG:2154" and m["crs"]["confidence"] == 1.0 and ".prj" in m["crs"]["reason"]
    assert m["classes"]["value"] == ["geo:Feature", "bot:Building"]
    assert m["key"]["column"] == "ID"
    cols = {c["column"]: c for c in m["columns"]}
    assert cols["HAUTEUR"]["property"] == "kgt:height" and cols["HAUTEUR"]["unit"] == "unit:M"
    assert cols["NB_LOGTS"]["datatype"] == "xsd:integer"
    assert cols["DATE_APP"]["datatype"] == "xsd:date"
    assert cols["INSEE_COM"]["datatype"] == "xsd:string"  # codes keep their leading zeros
    assert cols["Z_MAX_SOL"]["property"] is None  # empty everywhere
    assert all(0 <= c["confidence"] <= 1 and c["reason"] for c in m["columns"])
    import yaml

    assert yaml.safe_load(yaml.safe_dump(m, allow_unicode=True)) == m


def test_same_file_same_mapping_same_graph(bati):
    again = run_handler(SHP, BATI_ZIP, mapping=bati.mapping)
    assert again.nt == bati.nt
    # the output has no blank nodes, so graph isomorphism is equality of the N-Triples line sets
    # (rdflib's isomorphic() needs ~20 s on these 115k triples; it is used on the smaller graphs)
    assert b"_:" not in bati.nt
    assert set(again.nt.splitlines()) == set(bati.nt.splitlines())


def test_missing_prj_needs_an_explicit_crs(tmp_path, commune):
    for ext in (".shp", ".shx", ".dbf", ".cpg"):
        shutil.copy(COMMUNE.with_suffix(ext), tmp_path / f"COMMUNE{ext}")
    with pytest.raises(InputError) as e:
        run_handler(SHP, tmp_path / "COMMUNE.shp")
    assert e.value.code == "UNKNOWN_CRS"
    assert "--crs" in e.value.hint and "COMMUNE.prj" in e.value.message
    forced = run_handler(SHP, tmp_path / "COMMUNE.shp", crs="EPSG:2154")
    assert forced.mapping["crs"]["reason"] == "given by the caller (--crs)"
    assert isomorphic(forced.graph, commune.graph)


def test_bad_crs_spelling_is_an_input_error(tmp_path):
    for ext in (".shp", ".shx", ".dbf", ".cpg"):
        shutil.copy(COMMUNE.with_suffix(ext), tmp_path / f"COMMUNE{ext}")
    with pytest.raises(InputError) as e:
        run_handler(SHP, tmp_path / "COMMUNE.shp", crs="EPSG:99999999")
    assert e.value.code == "BAD_CRS"


def test_zones_are_features_named_by_toponym():
    run = run_handler(SHP, ZONES)
    g = run.graph
    zones = set(g.subjects(RDF.type, GEO.Feature))
    assert len(zones) == 21 and not set(g.subjects(RDF.type, BOT.Building))
    assert run.mapping["label"]["column"] == "TOPONYME"
    assert "Salle Polyvalente" in {str(g.value(z, RDFS.label)) for z in zones}


def test_dbf_text_in_another_encoding_needs_a_cpg(tmp_path):
    w = shapefile.Writer(str(tmp_path / "pts"), shapeType=shapefile.POINT, encoding="latin-1")
    w.field("NOM", "C", 20)
    w.point(664275.2, 6360036.3)
    w.record("Église")
    w.close()
    shutil.copy(COMMUNE.with_suffix(".prj"), tmp_path / "pts.prj")
    with pytest.raises(InputError) as e:
        list(SHP.read(tmp_path / "pts.shp"))
    assert e.value.code == "DBF_ENCODING" and ".cpg" in e.value.hint
    (tmp_path / "pts.cpg").write_text("ISO-8859-1")
    run = run_handler(SHP, tmp_path / "pts.shp")
    assert {str(o) for o in run.graph.objects(None, RDFS.label)} == {"Église"}


def _fc(features, **extra):
    return {"type": "FeatureCollection", "features": features, **extra}


def _feat(i, geom, **props):
    return {"type": "Feature", "id": i, "geometry": geom, "properties": props}


def test_invalid_geometry_rejected_with_reason_or_repaired(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[2.0, 44.0], [2.1, 44.1], [2.1, 44.0], [2.0, 44.1], [2.0, 44.0]]]}
    square = {"type": "Polygon", "coordinates": [[[2.0, 44.0], [2.1, 44.0], [2.1, 44.1], [2.0, 44.1], [2.0, 44.0]]]}
    p = tmp_path / "parcels.geojson"
    p.write_text(json.dumps(_fc([_feat("a", square, name="ok"), _feat("b", bowtie, name="bowtie"), _feat("c", None, name="nothing")])))
    run = run_handler(GEOJSON, p)
    assert len(set(run.graph.subjects(RDF.type, GEO.Feature))) == 1
    codes = {r.origin.feature: (r.code, r.reason) for r in run.rejects}
    assert codes["1"][0] == "INVALID_GEOMETRY" and "Self-intersection" in codes["1"][1]
    assert codes["2"][0] == "NO_GEOMETRY"
    m = dict(run.mapping, geometry={"invalid": "repair"})
    fixed = run_handler(GEOJSON, p, mapping=m)
    g = fixed.graph
    assert len(set(g.subjects(RDF.type, GEO.Feature))) == 2
    (repaired,) = list(g.subjects(KGT.geometryRepaired, None))
    assert shapely.from_wkt(str(_default_wkts(g)[repaired])).is_valid


def test_projected_geojson_without_crs_member_is_refused(tmp_path):
    p = tmp_path / "l93.geojson"
    p.write_text(json.dumps(_fc([_feat(1, {"type": "Point", "coordinates": [664275.2, 6360036.3]})])))
    with pytest.raises(InputError) as e:
        run_handler(GEOJSON, p)
    assert e.value.code == "UNKNOWN_CRS" and "not longitude/latitude" in e.value.message
    # the legacy crs member is honoured
    p.write_text(json.dumps(_fc([_feat(1, {"type": "Point", "coordinates": [664275.2, 6360036.3]})],
                                crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}})))
    run = run_handler(GEOJSON, p)
    (wkt,) = _default_wkts(run.graph).values()
    pt = shapely.from_wkt(str(wkt))
    assert abs(pt.x - 2.5519) < 1e-3 and abs(pt.y - 44.3384) < 1e-3
    assert str(next(run.graph.objects(None, KGT.sourceCrs))) == "http://www.opengis.net/def/crs/EPSG/0/2154"


def test_bad_value_for_an_edited_datatype_rejects_the_feature(tmp_path):
    p = tmp_path / "b.geojson"
    pt = {"type": "Point", "coordinates": [2.5, 44.3]}
    p.write_text(json.dumps(_fc([_feat(1, pt, levels="3"), _feat(2, pt, levels="three")])))
    run = run_handler(GEOJSON, p)
    m = run.mapping
    for c in m["columns"]:
        if c["column"] == "levels":
            c["datatype"] = "xsd:integer"
    again = run_handler(GEOJSON, p, mapping=m)
    assert [r.code for r in again.rejects] == ["BAD_VALUE"] and "levels" in again.rejects[0].reason
    assert len(set(again.graph.subjects(RDF.type, GEO.Feature))) == 1


def test_unknown_prefix_in_an_edited_mapping_is_a_bad_mapping(commune):
    m = json.loads(json.dumps(commune.mapping))
    m["classes"]["value"].append("foo:Commune")
    with pytest.raises(InputError) as e:
        run_handler(SHP, COMMUNE, mapping=m)
    assert e.value.code == "BAD_MAPPING" and "foo:Commune" in e.value.message


def test_keep_source_geometry_in_lambert93(commune):
    m = json.loads(json.dumps(commune.mapping))
    m["geometry"]["keep_source"] = True
    run = run_handler(SHP, COMMUNE, mapping=m)
    g = run.graph
    (src,) = list(g.objects(None, KGT.sourceWKT))
    assert src.datatype == GEO.wktLiteral and str(src).startswith("<http://www.opengis.net/def/crs/EPSG/0/2154> POLYGON")
    with shapefile.Reader(str(COMMUNE)) as r:
        x, y = r.shape(0).points[0]
    body = str(src).split("> ", 1)[1]
    assert shapely.from_wkt(body).exterior.coords[0] == pytest.approx((x, y), abs=1e-3)
    # the default geometry stays CRS84
    (wkt,) = [row["wkt"] for row in _wkts(run).values()]
    assert not wkt.startswith("<")


def test_prepare_many_equals_prepare_one_by_one():
    from kg_twin.geo.crs import ToCRS84
    from kg_twin.geo.geometry import GeometryError, prepare, prepare_many

    cases = [
        {"type": "Polygon", "coordinates": [[[664275.2, 6360036.3], [664276.2, 6360036.5], [664276.4, 6360034.4], [664275.2, 6360036.3]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]]]},  # bowtie
        None,
        {"type": "Point", "coordinates": [1e12, 1e12]},  # not in Lambert-93's domain
        {"type": "LineString", "coordinates": [[664275.2, 6360036.3], [664275.2, 6360036.3005]]},  # collapses at 1e-7 deg
        {"type": "MultiPoint", "coordinates": [[664275.2, 6360036.3, 12.0], [664285.2, 6360046.3, 13.0]]},
    ]
    t = ToCRS84("EPSG:2154")
    for invalid in ("reject", "repair"):
        many = prepare_many(cases, t, invalid=invalid, keep_source=True)
        for case, got in zip(cases, many):
            try:
                one = prepare(case, t, invalid=invalid, keep_source=True)
            except GeometryError as e:
                assert isinstance(got, GeometryError) and (got.code, got.reason) == (e.code, e.reason)
            else:
                assert got == one
    codes = [x.code if isinstance(x, GeometryError) else "ok" for x in prepare_many(cases, t)]
    assert codes == ["ok", "INVALID_GEOMETRY", "NO_GEOMETRY", "OUT_OF_RANGE", "GEOMETRY_COLLAPSED", "ok"]


def test_geojson_text_sequence(tmp_path):
    """RFC 8142 (RS-led records) and newline-delimited GeoJSON give the same features; a bad line is a reject."""
    pt = {"type": "Point", "coordinates": [2.55, 44.34]}
    feats = [_feat(i, pt, name=f"P{i}") for i in range(3)]
    rs = tmp_path / "points.geojsons"
    rs.write_bytes(b"".join(b"\x1e" + json.dumps(f).encode() + b"\n" for f in feats))
    nd = tmp_path / "points.geojsonl"
    nd.write_text("\n".join(json.dumps(f) for f in feats) + "\n{not json\n")
    a, b = run_handler(GEOJSON, rs), run_handler(GEOJSON, nd)
    assert GEOJSON.sniff(rs, rs.read_bytes()[:4096]) >= 0.9
    assert len(a.records) == len(b.records) == 3 and not a.rejects
    assert [r.code for r in b.rejects] == ["BAD_FEATURE"] and b.rejects[0].origin.line == 4
    strip = lambda run: {t for t in run.nt.splitlines() if b"ontology#origin" not in t}  # noqa: E731
    assert strip(a) == strip(b)
