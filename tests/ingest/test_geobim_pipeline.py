"""GIS / IFC / document files through the whole ingest pipeline (receive, detect, read, propose,
map, stage, SHACL, publish) into a real in-memory store; then queries over the published graphs."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
import shapefile
from pypdf import PdfWriter

from kg_twin.errors import InputError
from kg_twin.ingest import pipeline
from kg_twin.service import create_twin
from kg_twin.settings import Settings

from .geobim_run import DATA

KGT = "https://w3id.org/kg-twin/ontology#"


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("geobim"), base_iri="http://twin.test/"))
    t.projects.create("olemps")
    yield t
    t.close()


def _ingest(twin, path, **options):
    return pipeline.ingest(twin, "olemps", path, pipeline.IngestOptions(options=options))


def test_gis_bim_and_documents_publish_and_link(twin, tmp_path):
    bati = _ingest(twin, DATA / "geo" / "bdtopo_batiment_olemps.zip")
    assert (bati.status, bati.reader, bati.records, bati.rejected) == ("published", "shapefile", 2273, 0)
    # no violation; BD TOPO's own implausible values are plausibility warnings (geo/plausibility):
    # HAUTEUR 0 (BD TOPO's "unknown"), and heights too low for NB_ETAGES storeys - counted here with pyshp
    v = bati.validation
    assert set(v.by_severity) == {"Warning"}
    with zipfile.ZipFile(DATA / "geo" / "bdtopo_batiment_olemps.zip") as zf:
        names = zf.namelist()
        parts = {ext: io.BytesIO(zf.read(next(n for n in names if n.lower().endswith(ext)))) for ext in (".shp", ".dbf", ".shx")}
        rows = [r.as_dict() for r in shapefile.Reader(shp=parts[".shp"], dbf=parts[".dbf"], shx=parts[".shx"]).records()]
    zero = sum(1 for r in rows if r["HAUTEUR"] is not None and r["HAUTEUR"] <= 0)
    per_storey = sum(1 for r in rows if r["HAUTEUR"] and r["HAUTEUR"] > 0 and r["NB_ETAGES"] and r["HAUTEUR"] / r["NB_ETAGES"] < 1.5)
    by_shape = {re.search(r"(\w+Shape)", k).group(1): n for k, n in v.by_shape.items()}  # CURIE or IRI form
    assert zero > 0 and by_shape == {"HeightPlausibleShape": zero, "HeightPerStoreyShape": per_storey}
    commune = _ingest(twin, DATA / "geo" / "COMMUNE.shp")  # the pipeline keeps the .shp's sidecars
    assert commune.status == "published" and commune.mapped == 1
    duplex = _ingest(twin, DATA / "ifc" / "Duplex_A.ifc")
    assert (duplex.status, duplex.reader, duplex.rejected) == ("published", "ifc", 0)
    with pytest.raises(InputError) as e:
        _ingest(twin, DATA / "cityjson" / "rotterdam_subset.json")
    assert e.value.code == "UNKNOWN_CRS"
    rdam = _ingest(twin, DATA / "cityjson" / "rotterdam_subset.json", crs="EPSG:28992")
    assert rdam.status == "published" and rdam.mapped == 16

    # a document named after a wall's GlobalId links to the wall through the project lookup
    pdf = tmp_path / "2O2Fr$t4X7Zf8NOew3FKau.pdf"
    w = PdfWriter()
    w.add_blank_page(width=100, height=100)
    with open(pdf, "wb") as fh:
        w.write(fh)
    doc = _ingest(twin, pdf)
    assert doc.reader == "document" and doc.status == "published"
    rows = twin.store.select(f"SELECT ?e WHERE {{ GRAPH ?g {{ ?d <{KGT}documents> ?e }} }}")
    assert [str(r["e"]) for r in rows] == ["http://twin.test/id/olemps/element/2O2Fr%24t4X7Zf8NOew3FKau"]

    # GeoSPARQL over the published graphs: every building touches the commune polygon
    q = """PREFIX geo: <http://www.opengis.net/ont/geosparql#> PREFIX geof: <http://www.opengis.net/def/function/geosparql/>
    PREFIX bot: <https://w3id.org/bot#> PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT (COUNT(DISTINCT ?b) AS ?n) WHERE {
      GRAPH ?g1 { ?b a bot:Building ; geo:hasDefaultGeometry/geo:asWKT ?w ; dcterms:identifier ?id FILTER(STRSTARTS(?id, "BATIMENT")) }
      GRAPH ?g2 { ?c dcterms:identifier "COMMUNE_0000000009757473" ; geo:hasDefaultGeometry/geo:asWKT ?cw }
      FILTER(geof:sfIntersects(?w, ?cw)) }"""
    assert int(twin.store.select(q)[0]["n"]) == 2273
