"""GeoPackage reader: BD TOPO COMMUNE + ZONE_D_ACTIVITE_OU_D_INTERET written to a GeoPackage by GDAL
(see tests/data/README.md) give the same graph as the original shapefiles."""

from __future__ import annotations

import shutil
import sqlite3

import pytest
import rdflib
from rdflib.compare import isomorphic

from kg_twin.errors import InputError
from kg_twin.ingest.readers.geopackage import HANDLER as GPKG
from kg_twin.ingest.readers.shapefile import HANDLER as SHP

from .geobim_run import DATA, GEO, KGT, make_ctx, run_handler
from .helpers import without

GPKG_FILE = DATA / "geo" / "olemps_commune_zones.gpkg"
LAYERS = ("COMMUNE", "ZONE_D_ACTIVITE_OU_D_INTERET")


@pytest.fixture(scope="module")
def gpkg():
    return run_handler(GPKG, GPKG_FILE)


def test_sniff():
    head = GPKG_FILE.read_bytes()[:4096]
    assert GPKG.sniff(GPKG_FILE, head) > 0.95
    assert SHP.sniff(GPKG_FILE, head) == 0.0


def test_one_mapping_per_layer_and_crs_from_the_srs_table(gpkg):
    assert set(gpkg.mapping["layers"]) == set(LAYERS)
    for name in LAYERS:
        m = gpkg.mapping["layers"][name]
        assert m["crs"]["value"] == "EPSG:2154" and m["crs"]["confidence"] == 1.0
    assert gpkg.mapping["layers"]["ZONE_D_ACTIVITE_OU_D_INTERET"]["label"]["column"] == "TOPONYME"
    with sqlite3.connect(GPKG_FILE) as con:
        n = sum(con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in LAYERS)
    assert len(gpkg.records) == n == 22 and not gpkg.rejects
    origins = {str(o) for o in gpkg.graph.objects(None, KGT.origin)}
    assert "olemps_commune_zones.gpkg feature COMMUNE/1" in origins


def test_same_graph_as_the_shapefiles(gpkg):
    shp = rdflib.Graph()
    for name in LAYERS:
        shp += run_handler(SHP, DATA / "geo" / f"{name}.shp").graph
    assert isomorphic(without(gpkg.graph, KGT.origin), without(shp, KGT.origin))
    assert "EHPAD les Peyrières" in {str(o) for o in gpkg.graph.objects(None, rdflib.RDFS.label)}


def test_layer_option_reads_one_layer():
    items = list(GPKG.read(GPKG_FILE, layer="COMMUNE"))
    assert [r.fields["layer"] for r in items] == ["COMMUNE"]
    with pytest.raises(InputError) as e:
        list(GPKG.read(GPKG_FILE, layer="BATIMENT"))
    assert e.value.code == "GPKG_LAYER" and "COMMUNE" in e.value.hint


def test_undefined_srs_needs_an_explicit_crs(tmp_path):
    p = tmp_path / "nocrs.gpkg"
    shutil.copy(GPKG_FILE, p)
    with sqlite3.connect(p) as con:
        con.execute("UPDATE gpkg_geometry_columns SET srs_id = -1 WHERE table_name = 'COMMUNE'")
    items = list(GPKG.read(p, layer="COMMUNE"))
    with pytest.raises(InputError) as e:
        list(GPKG.map(items, GPKG.propose(items, _ctx()), _ctx()))
    assert e.value.code == "UNKNOWN_CRS" and "srs_id -1" in e.value.message
    forced = list(GPKG.map(items, GPKG.propose(items, _ctx(crs="EPSG:2154")), _ctx(crs="EPSG:2154")))
    assert any(t[1] == str(GEO.asWKT) for t in forced if isinstance(t, tuple))
    assert not [t for t in forced if not isinstance(t, tuple)]


def _ctx(**options):
    return make_ctx("nocrs.gpkg", **options)


def test_not_a_geopackage(tmp_path):
    p = tmp_path / "x.gpkg"
    with sqlite3.connect(p) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
    with pytest.raises(InputError) as e:
        list(GPKG.read(p))
    assert e.value.code == "BAD_GEOPACKAGE"


def test_zip_of_several_shapefiles_is_one_source_with_layers(tmp_path, gpkg):
    """A zip holding both BD TOPO layers gives the same graph as the GeoPackage of the same layers."""
    import zipfile

    z = tmp_path / "olemps.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for name in LAYERS:
            for part in (DATA / "geo").glob(f"{name}.*"):
                zf.write(part, f"BDTOPO/{part.name}")
    run = run_handler(SHP, z)
    assert set(run.mapping["layers"]) == set(LAYERS) and not run.rejects
    assert "olemps.zip feature COMMUNE/0" in {str(o) for o in run.graph.objects(None, KGT.origin)}
    assert isomorphic(without(run.graph, KGT.origin), without(gpkg.graph, KGT.origin))
    one = [r for r in SHP.read(z, layer="COMMUNE")]
    assert len(one) == 1 and one[0].origin.feature == "COMMUNE/0"
    with pytest.raises(InputError) as e:
        list(SHP.read(z, layer="BATIMENT"))
    assert e.value.code == "SHAPEFILE_LAYER" and "ZONE_D_ACTIVITE_OU_D_INTERET" in e.value.hint
