"""CityGML reader: Potsdam LoD1 (CityGML 1.0, EPSG:25833 + DHHN92) checked against independent code
(lxml for the file's own values, pyproj + shapely for the footprints), small 2.0 / 3.0 documents for
LoD2 ground surfaces, building parts, xlinks and CityGML 3.0 heights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from lxml import etree
from shapely import wkt as shapely_wkt
from shapely.geometry import Polygon

from kg_twin.errors import InputError
from kg_twin.ingest.pipeline import detect
from kg_twin.ingest.readers.citygml import HANDLER as CITYGML
from kg_twin.ingest.readers.citygml import srs_of

from .geobim_run import DATA, run_handler

POTSDAM = DATA / "citygml" / "Potsdam_LoD1.gml"
NS = {"core": "http://www.opengis.net/citygml/1.0", "bldg": "http://www.opengis.net/citygml/building/1.0", "gml": "http://www.opengis.net/gml"}
GML_ID = "{http://www.opengis.net/gml}id"
# Potsdam (city limits, generous): lon 12.88..13.17, lat 52.33..52.52
POTSDAM_BOX = shapely.box(12.88, 52.33, 13.17, 52.52)


@pytest.fixture(scope="module")
def potsdam():
    return run_handler(CITYGML, POTSDAM)


@pytest.fixture(scope="module")
def truth():
    """The file's own values, read with lxml XPath (not the reader's code)."""
    doc = etree.parse(str(POTSDAM))
    out = {}
    t = pyproj.Transformer.from_crs("EPSG:25833", "OGC:CRS84", always_xy=True)

    def to84(c):
        return np.column_stack(t.transform(c[:, 0], c[:, 1]))
    for b in doc.iterfind(".//bldg:Building", NS):
        h = b.findtext("bldg:measuredHeight", namespaces=NS)
        st = b.findtext("bldg:storeysAboveGround", namespaces=NS)
        lists = b.findall(".//bldg:lod1Solid//gml:posList", NS)
        rings = []
        for pl in lists:
            v = [float(x) for x in pl.text.split()]
            pts = [(v[i], v[i + 1], v[i + 2]) for i in range(0, len(v), 3)]
            if len({round(p[2], 6) for p in pts}) == 1:  # a horizontal face (base or roof)
                rings.append(Polygon([p[:2] for p in pts]))
        base = shapely.unary_union(rings)
        out[b.get(GML_ID)] = {"height": float(h) if h else None, "storeys": int(st) if st else None,
                              "footprint84": shapely.transform(base, to84), "function": b.findtext("bldg:function", namespaces=NS)}
    return out


def test_detected_from_the_root_namespace():
    handler, conf, _ = detect(POTSDAM)
    assert handler.name == "citygml" and conf > 0.9


def test_97_buildings_with_the_files_ids_and_heights(potsdam, truth):
    assert len(truth) == 97
    assert not potsdam.rejects
    recs = {r.fields["id"]: r for r in potsdam.records}
    assert set(recs) == set(truth)
    for gid, t in truth.items():
        props = recs[gid].fields["properties"]
        assert props["measuredHeight"] == t["height"], gid  # as declared, 56890.0 included
        assert props.get("storeysAboveGround") == t["storeys"]
        assert props.get("function") == t["function"]
    assert any(t["height"] == 56890.0 for t in truth.values())


def test_footprints_inside_potsdam_after_reprojection(potsdam, truth):
    rows = potsdam.select("SELECT ?id ?wkt WHERE { ?b a bot:Building ; dcterms:identifier ?id ; geo:hasDefaultGeometry/geo:asWKT ?wkt }")
    assert len(rows) == 97
    for r in rows:
        got = shapely_wkt.loads(r["wkt"])
        assert POTSDAM_BOX.contains(got), r["id"]
        expected = truth[r["id"]]["footprint84"]
        assert got.hausdorff_distance(expected) < 1e-6, r["id"]  # ~ 10 cm


def test_heights_attributes_and_crs_in_the_graph(potsdam, truth):
    assert potsdam.mapping["crs"]["value"] == "EPSG:25833" and potsdam.mapping["crs"]["vertical"] == "EPSG:5783"
    rows = potsdam.select("SELECT ?id ?h WHERE { ?b dcterms:identifier ?id ; kgt:height ?h }")
    assert {r["id"]: float(r["h"]) for r in rows} == {k: v["height"] for k, v in truth.items()}
    rows = potsdam.select("SELECT ?b WHERE { ?b kgt:usage \"Gruppenhaus\" }")
    assert len(rows) == sum(1 for t in truth.values() if t["function"] == "Gruppenhaus") > 0
    rows = potsdam.select("SELECT ?pc WHERE { ?b kgt:postalCode ?pc }")
    assert len(rows) > 0


@pytest.mark.parametrize("name, expected", [
    ("urn:ogc:def:crs,crs:EPSG:6.12:25833,crs:EPSG:6.12:5783", ("EPSG:25833", "EPSG:5783")),
    ("urn:ogc:def:crs:EPSG::28992", ("EPSG:28992", None)),
    ("EPSG:25832+7837", ("EPSG:25832", "EPSG:7837")),
    ("urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH", ("EPSG:25832", "EPSG:7837")),
    ("http://www.opengis.net/def/crs/EPSG/0/7415", ("EPSG:7415", None)),
])
def test_srs_names(name, expected):
    d = srs_of(name)
    assert (d["value"], d.get("vertical")) == expected


LOD2_V2 = """<?xml version="1.0" encoding="UTF-8"?>
<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" xmlns:bldg="http://www.opengis.net/citygml/building/2.0"
  xmlns:gen="http://www.opengis.net/citygml/generics/2.0" xmlns:gml="http://www.opengis.net/gml" xmlns:xlink="http://www.w3.org/1999/xlink">
 <core:cityObjectMember>
  <bldg:Building gml:id="B1">
   <gen:stringAttribute name="owner"><gen:value>city</gen:value></gen:stringAttribute>
   <bldg:function codeSpace="http://example.org/functions">31001_1000</bldg:function>
   <bldg:measuredHeight uom="mm">9500</bldg:measuredHeight>
   <bldg:consistsOfBuildingPart>
    <bldg:BuildingPart gml:id="B1-P1">
     <bldg:boundedBy><bldg:GroundSurface gml:id="G1"><bldg:lod2MultiSurface><gml:MultiSurface>
      <gml:surfaceMember xlink:href="#poly1"/>
     </gml:MultiSurface></bldg:lod2MultiSurface></bldg:GroundSurface></bldg:boundedBy>
     <bldg:boundedBy><bldg:RoofSurface gml:id="R1"><bldg:lod2MultiSurface><gml:MultiSurface><gml:surfaceMember>
      <gml:Polygon srsName="EPSG:25833"><gml:exterior><gml:LinearRing><gml:posList srsDimension="3">
       367000 5808000 46 367010 5808000 46 367010 5808010 46 367000 5808010 46 367000 5808000 46</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon>
     </gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:RoofSurface></bldg:boundedBy>
     <bldg:lod2Solid><gml:Solid><gml:exterior><gml:CompositeSurface><gml:surfaceMember>
      <gml:Polygon gml:id="poly1" srsName="EPSG:25833"><gml:exterior><gml:LinearRing>
       <gml:pos>367000 5808000 40</gml:pos><gml:pos>367010 5808000 40</gml:pos><gml:pos>367010 5808010 40</gml:pos><gml:pos>367000 5808010 40</gml:pos><gml:pos>367000 5808000 40</gml:pos>
      </gml:LinearRing></gml:exterior></gml:Polygon>
     </gml:surfaceMember></gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod2Solid>
    </bldg:BuildingPart>
   </bldg:consistsOfBuildingPart>
  </bldg:Building>
 </core:cityObjectMember>
</core:CityModel>
"""

LOD_V3 = """<?xml version="1.0" encoding="UTF-8"?>
<core:CityModel xmlns:core="http://www.opengis.net/citygml/3.0" xmlns:bldg="http://www.opengis.net/citygml/building/3.0"
  xmlns:con="http://www.opengis.net/citygml/construction/3.0" xmlns:gen="http://www.opengis.net/citygml/generics/3.0"
  xmlns:gml="http://www.opengis.net/gml/3.2">
 <gml:boundedBy><gml:Envelope srsName="http://www.opengis.net/def/crs/EPSG/0/25833" srsDimension="3">
  <gml:lowerCorner>367000 5808000 40</gml:lowerCorner><gml:upperCorner>367010 5808010 52</gml:upperCorner></gml:Envelope></gml:boundedBy>
 <core:cityObjectMember>
  <bldg:Building gml:id="B3">
   <core:genericAttribute><gen:IntAttribute><gen:name>floors_total</gen:name><gen:value>4</gen:value></gen:IntAttribute></core:genericAttribute>
   <con:height><con:Height><con:highReference>highestRoofEdge</con:highReference><con:lowReference>lowestGroundPoint</con:lowReference>
    <con:status>measured</con:status><con:value uom="m">12.0</con:value></con:Height></con:height>
   <bldg:storeysAboveGround>4</bldg:storeysAboveGround>
   <core:lod0MultiSurface><gml:MultiSurface><gml:surfaceMember><gml:Polygon><gml:exterior><gml:LinearRing>
    <gml:posList>367000 5808000 40 367010 5808000 40 367010 5808010 40 367000 5808000 40</gml:posList>
   </gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember></gml:MultiSurface></core:lod0MultiSurface>
  </bldg:Building>
 </core:cityObjectMember>
</core:CityModel>
"""


def test_citygml2_lod2_parts_xlinks_and_units(tmp_path):
    p = tmp_path / "lod2.gml"
    p.write_text(LOD2_V2)
    assert detect(p)[0].name == "citygml"
    recs = {r.fields["id"]: r for r in CITYGML.read(p)}
    b, part = recs["B1"], recs["B1-P1"]
    assert part.fields["type"] == "BuildingPart" and part.fields["parents"] == ["B1"]
    assert part.fields["footprint"] == "GroundSurface of LoD 2"  # the xlinked polygon, not the roof
    assert shapely.geometry.shape(part.fields["geometry"]).area == pytest.approx(100.0)
    assert part.fields["properties"]["measuredHeight"] == 6.0 and "measuredHeight" in part.fields["derived"]  # 46 - 40
    assert b.fields["footprint"] == "union of the building parts' footprints"
    assert b.fields["properties"]["measuredHeight"] == 9.5  # 9500 mm
    assert b.fields["properties"]["function_codeSpace"] == "http://example.org/functions"
    assert b.fields["properties"]["owner"] == "city"
    run = run_handler(CITYGML, p)
    assert run.select("SELECT ?p WHERE { ?p kgt:partOf ?b . ?b dcterms:identifier \"B1\" }")


def test_citygml3_height_lod0_and_model_crs(tmp_path):
    p = tmp_path / "v3.gml"
    p.write_text(LOD_V3)
    (r,) = list(CITYGML.read(p))
    assert r.fields["crs"]["value"] == "EPSG:25833"
    assert r.fields["footprint"] == "LoD 0 footprint"
    assert r.fields["properties"]["measuredHeight"] == 12.0 and r.fields["properties"]["floors_total"] == 4
    assert r.fields["properties"]["storeysAboveGround"] == 4


def test_truncated_citygml_is_named_truncated(tmp_path):
    cut = tmp_path / "Potsdam_cut.gml"
    cut.write_bytes(POTSDAM.read_bytes()[:300_000])
    with pytest.raises(InputError) as e:
        list(CITYGML.read(cut))
    assert e.value.code == "TRUNCATED_FILE" and "truncated" in e.value.message


def test_other_xml_is_not_citygml(tmp_path):
    p = tmp_path / "other.xml"
    p.write_text('<?xml version="1.0"?><root xmlns="http://example.org/x"><a>1</a></root>')
    assert CITYGML.sniff(p, p.read_bytes()) == 0.0
