"""IFC handler: the buildingSMART Duplex (IFC2X3), an IFC4 model built with ifcopenshell, an unreadable file."""

from __future__ import annotations

from collections import Counter

import ifcopenshell
import ifcopenshell.api
import ifcopenshell.util.element
import pyproj
import pytest
import shapely

from kg_twin.errors import InputError
from kg_twin.ingest.readers.ifc import HANDLER as IFC_HANDLER
from kg_twin.ingest.readers.ifc import SKIP_CLASSES

from .geobim_run import BRICK, BOT, DATA, DCT, GEO, IFC, KGT, QUDT, RDF, RDFS, REF, UNIT, XSD, run_handler

DUPLEX = DATA / "ifc" / "Duplex_A.ifc"


@pytest.fixture(scope="module")
def duplex():
    return run_handler(IFC_HANDLER, DUPLEX)


@pytest.fixture(scope="module")
def model():
    return ifcopenshell.open(str(DUPLEX))


def _by_gid(g):
    return {str(o): s for s, o in g.subject_objects(DCT.identifier)}


def test_storeys_and_spaces_match_ifcopenshell(duplex, model):
    g = duplex.graph
    storeys = model.by_type("IfcBuildingStorey")
    spaces = model.by_type("IfcSpace")
    assert len(set(g.subjects(RDF.type, BOT.Storey))) == len(storeys) == 4
    assert len(set(g.subjects(RDF.type, BOT.Space))) == len(spaces) == 21
    ids = _by_gid(g)
    (building,) = model.by_type("IfcBuilding")
    (site,) = model.by_type("IfcSite")
    assert (ids[site.GlobalId], BOT.hasBuilding, ids[building.GlobalId]) in g
    for st in storeys:
        assert (ids[building.GlobalId], BOT.hasStorey, ids[st.GlobalId]) in g
        assert (ids[st.GlobalId], RDF.type, IFC.IfcBuildingStorey) in g
    for sp in spaces:
        parent = sp.Decomposes[0].RelatingObject
        assert (ids[parent.GlobalId], BOT.hasSpace, ids[sp.GlobalId]) in g
    assert not duplex.rejects


def test_elements_typed_with_ifcowl_and_contained(duplex, model):
    g = duplex.graph
    ids = _by_gid(g)
    elements = [e for e in model.by_type("IfcElement") if e.is_a() not in SKIP_CLASSES]
    assert len(set(g.subjects(RDF.type, BOT.Element))) == len(elements)
    for e in elements:
        s = ids[e.GlobalId]
        assert (s, RDF.type, IFC[e.is_a()]) in g
        if e.ContainedInStructure:
            c = e.ContainedInStructure[0].RelatingStructure
            assert (ids[c.GlobalId], BOT.containsElement, s) in g
        elif e.Decomposes:  # part of an aggregate (stair flight of a stair, slab of a roof)
            parent = e.Decomposes[0].RelatingObject
            assert (ids[parent.GlobalId], BOT.hasSubElement, s) in g
        else:
            raise AssertionError(f"{e} is neither contained nor aggregated")
    counts = Counter(str(o).split("#")[1] for s, o in g.subject_objects(RDF.type) if str(o).startswith(str(IFC)))
    assert counts["IfcWallStandardCase"] == 56 and counts["IfcDoor"] == 14 and counts["IfcWindow"] == 24
    # windows and doors sit in their host walls; spaces are bounded by elements
    assert len(set(g.subject_objects(BOT.hostsElement))) > 30
    assert len(set(g.subjects(BOT.adjacentElement, None))) == 21


def test_global_ids_kept_as_brick_ifc_references(duplex, model):
    g = duplex.graph
    (project,) = model.by_type("IfcProject")
    proj = next(g.subjects(REF.ifcProjectID, None))
    assert str(g.value(proj, REF.ifcProjectID)) == project.GlobalId
    assert str(g.value(proj, REF.ifcFileLocation)) == "Duplex_A.ifc"
    assert str(g.value(proj, KGT.ifcSchema)) == "IFC2X3"
    expected = {e.GlobalId for e in model.by_type("IfcProduct") if e.is_a() not in SKIP_CLASSES}
    found = {}
    for s, ref in g.subject_objects(REF.hasExternalReference):
        assert (ref, RDF.type, REF.IFCReference) in g
        assert (ref, REF.hasIfcProjectReference, proj) in g
        found[str(g.value(ref, REF.ifcGlobalID))] = s
    assert expected <= set(found)
    assert all(str(g.value(s, DCT.identifier)) == gid for gid, s in found.items())


def test_property_sets_become_typed_properties(duplex, model):
    g = duplex.graph
    ids = _by_gid(g)
    wall = model.by_type("IfcWall")[0]
    psets = ifcopenshell.util.element.get_psets(wall)
    p = next(s for s in g.subjects(RDFS.label, None) if str(g.value(s, RDFS.label)) == "Pset_WallCommon.IsExternal")
    assert str(p).endswith("/id/test/prop/Pset_WallCommon/IsExternal")
    v = g.value(ids[wall.GlobalId], p)
    assert v.datatype == XSD.boolean and v.toPython() == psets["Pset_WallCommon"]["IsExternal"]
    # a length measure carries the project length unit
    storey = model.by_type("IfcBuildingStorey")[0]
    assert g.value(ids[storey.GlobalId], KGT.elevation).datatype == XSD.decimal
    units = {g.value(p, QUDT.hasUnit) for p in g.subjects(RDF.type, None) if g.value(p, QUDT.hasUnit) is not None}
    assert units and units <= {UNIT.M, UNIT.M2, UNIT.M3, UNIT.DEG, UNIT.KiloGM, UNIT.DEG_C, UNIT.W, UNIT.SEC}


def test_site_reference_point_in_crs84(duplex, model):
    g = duplex.graph
    (site,) = model.by_type("IfcSite")
    s = _by_gid(g)[site.GlobalId]
    assert (s, RDF.type, GEO.Feature) in g
    wkt = g.value(g.value(s, GEO.hasDefaultGeometry), GEO.asWKT)
    assert wkt.datatype == GEO.wktLiteral
    pt = shapely.from_wkt(str(wkt))
    d, m, sec, us = site.RefLongitude
    assert abs(pt.x - (d + m / 60 + (sec + us / 1e6) / 3600)) < 1e-7  # lon first
    assert 41.8 < pt.y < 41.9


def test_unreadable_ifc_names_file_and_what_to_do():
    with pytest.raises(InputError) as e:
        list(IFC_HANDLER.read(DATA / "ifc" / "brick-example-building.ifc"))
    assert e.value.code == "IFC_NO_HEADER"  # a 2-line fragment: no ISO-10303-21; header
    assert "brick-example-building.ifc" in e.value.message
    assert "IFC4" in e.value.hint and "STEP" in e.value.hint


@pytest.fixture()
def ifc4_file(tmp_path):
    run = ifcopenshell.api.run
    f = run("project.create_file", version="IFC4")
    project = run("root.create_entity", f, ifc_class="IfcProject", name="Demo")
    run("unit.assign_unit", f)
    site = run("root.create_entity", f, ifc_class="IfcSite", name="Campus")
    building = run("root.create_entity", f, ifc_class="IfcBuilding", name="B1")
    storey = run("root.create_entity", f, ifc_class="IfcBuildingStorey", name="L0")
    space = run("root.create_entity", f, ifc_class="IfcSpace", name="R101")
    storey.Elevation = 3000.0  # in the project length unit (millimetres by default)
    run("aggregate.assign_object", f, relating_object=project, products=[site])
    run("aggregate.assign_object", f, relating_object=site, products=[building])
    run("aggregate.assign_object", f, relating_object=building, products=[storey])
    run("aggregate.assign_object", f, relating_object=storey, products=[space])
    ahu = run("root.create_entity", f, ifc_class="IfcUnitaryEquipment", name="AHU-1", predefined_type="AIRHANDLER")
    run("spatial.assign_container", f, relating_structure=space, products=[ahu])
    pset = run("pset.add_pset", f, product=ahu, name="Pset_UnitaryEquipmentTypeCommon")
    run("pset.edit_pset", f, pset=pset, properties={"Reference": "AHU-1"})
    status = f.createIfcPropertyEnumeratedValue("Status", None, [f.createIfcLabel("NEW")], None)
    pset.HasProperties = list(pset.HasProperties) + [status]
    dup = run("root.create_entity", f, ifc_class="IfcUnitaryEquipment", name="AHU-1 copy")
    dup.GlobalId = ahu.GlobalId
    site.RefLatitude, site.RefLongitude = (48, 51, 24, 0), (2, 21, 7, 0)
    zone = run("root.create_entity", f, ifc_class="IfcZone", name="Fire zone 1")
    run("group.assign_group", f, group=zone, products=[space])
    p = tmp_path / "demo4.ifc"
    f.write(str(p))
    return p, ahu.GlobalId


def test_ifc4_model_and_duplicate_global_id(ifc4_file):
    path, gid = ifc4_file
    run = run_handler(IFC_HANDLER, path)
    g = run.graph
    assert run.mapping["schema"] == "IFC4"
    assert run.mapping["project"]["units"]["LENGTHUNIT"] == "unit:MilliM"
    (elev,) = list(g.objects(None, KGT.elevation))
    assert elev.datatype == XSD.decimal and float(elev) == 3.0  # stated in metres
    ahu = _by_gid(g)[gid]
    assert (ahu, RDF.type, IFC.IfcUnitaryEquipment) in g and (ahu, RDF.type, BOT.Element) in g
    assert str(g.value(ahu, KGT.ifcPredefinedType)) == "AIRHANDLER"
    assert (ahu, RDF.type, BRICK.Air_Handling_Unit) in g
    status_prop = next(p for p in g.subjects(RDFS.label, None) if str(g.value(p, RDFS.label)) == "Pset_UnitaryEquipmentTypeCommon.Status")
    assert str(g.value(ahu, status_prop)) == "NEW"
    assert run.mapping["brick_equipment"]["IfcUnitaryEquipment/AIRHANDLER"]["class"] == "brick:Air_Handling_Unit"
    space = next(g.subjects(RDF.type, BOT.Space))
    assert (space, BOT.containsElement, ahu) in g
    assert [r.code for r in run.rejects] == ["DUPLICATE_GLOBALID"]
    (zone,) = list(g.subjects(RDF.type, BOT.Zone))
    assert (zone, RDF.type, IFC.IfcZone) in g and str(g.value(zone, RDFS.label)) == "Fire zone 1"
    assert list(g.objects(zone, BOT.containsZone)) == [space]
    assert gid in run.rejects[0].reason and run.rejects[0].origin.element == gid
    pt = shapely.from_wkt(str(next(g.objects(None, GEO.asWKT))))
    assert abs(pt.x - (2 + 21 / 60 + 7 / 3600)) < 1e-7 and abs(pt.y - (48 + 51 / 60 + 24 / 3600)) < 1e-7


IFC2X3_PANEL = """ISO-10303-21;
HEADER;
FILE_DESCRIPTION(('ViewDefinition [CoordinationView]'),'2;1');
FILE_NAME('old.ifc','2020-01-01T00:00:00',(''),(''),'hand written','','');
FILE_SCHEMA(('IFC2X3'));
ENDSEC;
DATA;
#1=IFCPROJECT('0YvctVUKr0kugbFTf53O9L',$,'Old',$,$,$,$,$,$);
#2=IFCBUILDING('2FCZDorxHDT8NI01kdXi8P',$,'B',$,$,$,$,$,.ELEMENT.,$,$,$);
#3=IFCRELAGGREGATES('1dWYlTvNvFrxm0hgVNoGk9',$,$,$,#1,(#2));
#4=IFCELECTRICDISTRIBUTIONPOINT('3yC8zx7NX0lQ7rsB9Xjgd7',$,'DB-1',$,$,$,$,$,.DISTRIBUTIONBOARD.,$);
#5=IFCRELCONTAINEDINSPATIALSTRUCTURE('0x8mQ6JvT1Ew5q9jQ6v2cA',$,$,$,(#4),#2);
ENDSEC;
END-ISO-10303-21;
"""


def test_ifc2x3_class_missing_from_ifc4_is_typed_with_its_ifc4_supertype(tmp_path):
    p = tmp_path / "old.ifc"
    p.write_text(IFC2X3_PANEL)
    run = run_handler(IFC_HANDLER, p)
    g = run.graph
    ids = _by_gid(g)
    s = ids["3yC8zx7NX0lQ7rsB9Xjgd7"]
    assert (s, RDF.type, IFC.IfcFlowController) in g and (s, RDF.type, IFC.IfcElectricDistributionPoint) not in g
    assert str(g.value(s, KGT.ifcClass)) == "IfcElectricDistributionPoint"
    assert (ids["2FCZDorxHDT8NI01kdXi8P"], BOT.containsElement, s) in g
    c = run.mapping["classes"]["IfcElectricDistributionPoint"]
    assert c["types"] == ["bot:Element", "ifc:IfcFlowController"] and c["confidence"] < 1


def test_brick_equipment_table_names_real_classes():
    """Every Brick class of the IFC -> Brick table exists in the bundled Brick ontology, every IFC class in IFC4."""
    import ifcopenshell.ifcopenshell_wrapper as w
    import pyoxigraph

    from kg_twin.ingest.mappers.ifcowl import BRICK_EQUIPMENT

    brick = pyoxigraph.Store()
    brick.bulk_load(path=str(DATA.parent.parent / "ontologies" / "brick" / "Brick.ttl"), format=pyoxigraph.RdfFormat.TURTLE)
    ifc4 = w.schema_by_name("IFC4")
    for key, cls in BRICK_EQUIPMENT.items():
        iri = pyoxigraph.NamedNode("https://brickschema.org/schema/Brick#" + cls.split(":", 1)[1])
        owl_class = pyoxigraph.NamedNode("http://www.w3.org/2002/07/owl#Class")
        rdf_type = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        assert list(brick.quads_for_pattern(iri, rdf_type, owl_class)), cls
        ifc4.declaration_by_name(key.split("/")[0])  # raises for an unknown IFC4 entity


def _georef_file(tmp_path, crs_name):
    run_api = ifcopenshell.api.run
    f = run_api("project.create_file", version="IFC4")
    project = run_api("root.create_entity", f, ifc_class="IfcProject", name="Olemps school")
    run_api("unit.assign_unit", f)
    run_api("context.add_context", f, context_type="Model")
    site = run_api("root.create_entity", f, ifc_class="IfcSite", name="Site")
    run_api("aggregate.assign_object", f, relating_object=project, products=[site])
    site.RefLatitude, site.RefLongitude = (48, 51, 24, 0), (2, 21, 7, 0)  # Paris: deliberately not Olemps
    run_api("georeference.add_georeferencing", f)
    run_api("georeference.edit_georeferencing", f, projected_crs={"Name": crs_name},
            coordinate_operation={"Eastings": 664275.2, "Northings": 6360036.3, "OrthogonalHeight": 600.0,
                                  "XAxisAbscissa": 0.0, "XAxisOrdinate": 1.0, "Scale": 0.001})  # local x = north, mm
    import numpy as np

    m = np.eye(4)
    m[0, 3] = 100000.0  # the site is 100 m along local x (project unit: mm) = 100 m north
    run_api("geometry.edit_object_placement", f, product=site, matrix=m, is_si=False)
    p = tmp_path / f"georef-{crs_name.replace(':', '')}.ifc"
    f.write(str(p))
    return p, site.GlobalId


def test_ifc4_map_conversion_places_the_site(tmp_path):
    p, gid = _georef_file(tmp_path, "EPSG:2154")
    run = run_handler(IFC_HANDLER, p)
    geo = run.mapping["georeference"]
    assert geo["method"] == "IfcMapConversion" and geo["site"] == gid
    g = run.graph
    s = _by_gid(g)[gid]
    pt = shapely.from_wkt(str(g.value(g.value(s, GEO.hasDefaultGeometry), GEO.asWKT)))
    lon, lat = pyproj.Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True).transform(664275.2, 6360036.3 + 100.0)
    assert abs(pt.x - lon) < 1e-7 and abs(pt.y - lat) < 1e-7  # Olemps: E/N of the site after rotation and scale
    assert geo["reason"].startswith("site placement at E 664275.2 N 6360136.3")
    assert str(g.value(s, KGT.georeferenceMethod)) == "IfcMapConversion"


def test_unknown_map_crs_falls_back_to_ref_latitude_and_says_so(tmp_path):
    p, gid = _georef_file(tmp_path, "Local site grid")
    run = run_handler(IFC_HANDLER, p)
    geo = run.mapping["georeference"]
    assert geo["method"] == "RefLatitude/RefLongitude" and geo["confidence"] < 0.9
    assert "not understood" in geo["reason"]
    pt = shapely.from_wkt(str(next(run.graph.objects(None, GEO.asWKT))))
    assert abs(pt.y - (48 + 51 / 60 + 24 / 3600)) < 1e-7
