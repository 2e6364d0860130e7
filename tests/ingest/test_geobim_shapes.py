"""The handlers' output conforms to the project's shape sets (core entity, GeoSPARQL feature, BOT
topology, DCAT document), checked with the project's SHACL engine; a broken geometry does not."""

from __future__ import annotations

import pytest
from .geobim_run import DATA, run_handler
from pypdf import PdfWriter

from kg_twin.ingest.readers.cityjson import HANDLER as CITYJSON
from kg_twin.ingest.readers.document import HANDLER as DOC
from kg_twin.ingest.readers.geopackage import HANDLER as GPKG
from kg_twin.ingest.readers.ifc import HANDLER as IFC_HANDLER
from kg_twin.ingest.readers.shapefile import HANDLER as SHP
from kg_twin.validation.shapes import load_shapes
from kg_twin.validation.validator import validate_files

SETS = ["core/entity", "geo/feature", "bot/topology", "dcat/document"]


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(SETS)


def _validate(tmp_path, nt: bytes, shapes):
    f = tmp_path / "out.nt"
    f.write_bytes(nt)
    return validate_files([f], [], shapes=shapes).summary


@pytest.mark.parametrize(
    "handler, rel, options",
    [
        (SHP, "geo/bdtopo_batiment_olemps.zip", {}),
        (SHP, "geo/COMMUNE.shp", {}),
        (SHP, "geo/ZONE_D_ACTIVITE_OU_D_INTERET.shp", {}),
        (GPKG, "geo/olemps_commune_zones.gpkg", {}),
        (CITYJSON, "cityjson/rotterdam_subset.json", {"crs": "EPSG:28992"}),
        (IFC_HANDLER, "ifc/Duplex_A.ifc", {}),
    ],
    ids=["bdtopo-batiment", "bdtopo-commune", "bdtopo-zones", "geopackage", "cityjson", "ifc-duplex"],
)
def test_output_conforms(tmp_path, shapes, handler, rel, options):
    run = run_handler(handler, DATA / rel, **options)
    summary = _validate(tmp_path, run.nt, shapes)
    assert summary.conforms, summary.results[:5]


def test_document_conforms(tmp_path, shapes):
    p = tmp_path / "manual.pdf"
    w = PdfWriter()
    w.add_blank_page(width=100, height=100)
    with open(p, "wb") as fh:
        w.write(fh)
    summary = _validate(tmp_path, run_handler(DOC, p).nt, shapes)
    assert summary.conforms, summary.results[:5]


def test_projected_wkt_in_default_geometry_is_caught(tmp_path, shapes):
    """Guard for the CRS84 rule: a default geometry written with its Lambert-93 IRI violates geo/feature."""
    run = run_handler(SHP, DATA / "geo" / "COMMUNE.shp")
    bad = run.nt.replace(b'geosparql#asWKT> "POLYGON', b'geosparql#asWKT> "<http://www.opengis.net/def/crs/EPSG/0/2154> POLYGON')
    assert bad != run.nt
    summary = _validate(tmp_path, bad, shapes)
    assert not summary.conforms and "kgt-sh:WktShape" in " ".join(summary.results)


@pytest.mark.parametrize(
    "handler, rel, options",
    [
        (SHP, "geo/COMMUNE.shp", {}),
        (GPKG, "geo/olemps_commune_zones.gpkg", {}),
        (CITYJSON, "cityjson/rotterdam_subset.json", {"crs": "EPSG:28992"}),
        (IFC_HANDLER, "ifc/Duplex_A.ifc", {}),
        (DOC, "ifc/Duplex_A.ifc", {"subjects": ["http://twin.test/id/test/site/S"]}),
    ],
    ids=["shapefile", "geopackage", "cityjson", "ifc", "document"],
)
def test_mapping_round_trips_through_yaml_and_gives_the_same_graph(handler, rel, options):
    """A proposal saved as YAML, reloaded and used as the reviewed mapping gives the same graph."""
    import yaml

    first = run_handler(handler, DATA / rel, **options)
    reloaded = yaml.safe_load(yaml.safe_dump(first.mapping, allow_unicode=True, sort_keys=False))
    assert reloaded == first.mapping
    again = run_handler(handler, DATA / rel, mapping=reloaded, **options)
    assert set(again.nt.splitlines()) == set(first.nt.splitlines())
