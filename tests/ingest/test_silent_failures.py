"""No silent failure: late CityJSON types are found, cut or corrupt sources are refused without touching
the published graph, nothing-mapped ingests fail, unstructured files are reported, large removals
need an explicit option. Pipeline in process (real store, real files), the CLI through typer's runner,
the API through the app (TestClient)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import ifcopenshell.api
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kg_twin.api.app import create_app
from kg_twin.cli.main import app as cli_app
from kg_twin.errors import InputError
from kg_twin.ingest.handlers import SNIFF_BYTES
from kg_twin.ingest.pipeline import IngestOptions, detect, ingest
from kg_twin.ingest.readers.cityjson import HANDLER as CITYJSON
from kg_twin.ingest.readers.shapefile import HANDLER as SHP
from kg_twin.service import create_twin
from kg_twin.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data"
ROTTERDAM = DATA / "cityjson" / "rotterdam_subset.json"
DUPLEX = DATA / "ifc" / "Duplex_A.ifc"
POTSDAM = DATA / "citygml" / "Potsdam_LoD1.gml"
COMMUNE = DATA / "geo" / "COMMUNE.shp"
LATIN1 = DATA / "pipeline" / "points-latin1.csv"
BASE = "http://twin.test/"


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("silent"), base_iri=BASE))
    yield t
    t.close()


_n = iter(range(10_000))


@pytest.fixture
def project(twin):
    p = f"s{next(_n)}"
    twin.projects.create(p)
    return p


def _size(twin, project, name):
    g = twin.naming.graph(project, name)
    return twin.store.graph_size(g) if twin.store.has_graph(g) else 0


def late_cityjson(tmp_path: Path) -> Path:
    """Rotterdam's CityJSON with its members in another (valid) order: "type" last, after the vertices."""
    doc = json.loads(ROTTERDAM.read_text())
    order = ["CityObjects", "vertices", "transform", "appearance", "version", "type"]
    text = json.dumps({k: doc[k] for k in order if k in doc}, indent=2)
    p = tmp_path / "late.json"
    p.write_text(text)
    assert text.index('"type": "CityJSON"') > SNIFF_BYTES  # beyond any head window the pipeline reads
    return p


# ----------------------------------------------------------------------------- detection by content
def test_cityjson_whose_type_comes_late_is_structured(twin, project, tmp_path):
    p = late_cityjson(tmp_path)
    handler, conf, _ = detect(p)
    assert handler.name == "cityjson" and conf > 0.9
    rep = ingest(twin, project, p, IngestOptions(options={"crs": "EPSG:28992"}))
    assert rep.reader == "cityjson" and rep.mapped == rep.records == 16 and not rep.document_only


def test_truncated_cityjson_is_named_truncated(tmp_path):
    p = tmp_path / "cut.json"
    p.write_bytes(late_cityjson(tmp_path).read_bytes()[:40_000])
    assert detect(p)[0].name == "cityjson"
    with pytest.raises(InputError) as e:
        list(CITYJSON.read(p))
    assert e.value.code == "TRUNCATED_FILE" and "truncated" in e.value.message and "coordinate" not in e.value.message


def test_unstructured_file_is_a_document_only_and_strict_refuses_it(twin, project, tmp_path):
    p = tmp_path / "settings.json"
    p.write_text('{"hello": 1, "list": [1, 2]}')
    rep = ingest(twin, project, p, IngestOptions())
    assert rep.reader == "document" and rep.document_only
    rep = ingest(twin, project, p, IngestOptions(reader="document"))  # on purpose: not flagged
    assert not rep.document_only
    with pytest.raises(InputError) as e:
        ingest(twin, project, p, IngestOptions(structured_only=True, graph="strict"))
    assert e.value.code == "NOT_STRUCTURED" and "kg-twin readers" in e.value.hint
    assert _size(twin, project, "strict") == 0


# ----------------------------------------------------------------------------- corrupt or partial sources
def test_truncated_ifc_is_refused_and_the_published_graph_kept(twin, project, tmp_path):
    rep = ingest(twin, project, DUPLEX, IngestOptions())
    before = _size(twin, project, "duplex_a.ifc")
    assert rep.status == "published" and before > 1000
    cut = tmp_path / "half" / "Duplex_A.ifc"
    cut.parent.mkdir()
    data = DUPLEX.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as e:
        ingest(twin, project, cut, IngestOptions())
    assert e.value.code == "TRUNCATED_FILE" and "END-ISO-10303-21;" in e.value.message
    assert _size(twin, project, "duplex_a.ifc") == before


@pytest.fixture
def small_ifc(tmp_path):
    run = ifcopenshell.api.run
    f = run("project.create_file", version="IFC4")
    project = run("root.create_entity", f, ifc_class="IfcProject", name="Demo")
    run("unit.assign_unit", f)
    site = run("root.create_entity", f, ifc_class="IfcSite", name="Campus")
    run("aggregate.assign_object", f, products=[site], relating_object=project)
    p = tmp_path / "small.ifc"
    f.write(str(p))
    return p, site.id()


def test_ifc_with_a_dangling_reference_is_refused(twin, project, small_ifc):
    p, site_id = small_ifc
    lines = [ln for ln in p.read_text().splitlines() if not ln.startswith(f"#{site_id}=")]
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as e:
        ingest(twin, project, p, IngestOptions())
    assert e.value.code == "IFC_DANGLING_REFERENCES" and f"#{site_id}" in e.value.message


def _commune_copy(tmp_path: Path) -> Path:
    d = tmp_path / "commune"
    d.mkdir()
    for f in COMMUNE.parent.glob("COMMUNE.*"):
        shutil.copy(f, d / f.name)
    return d / "COMMUNE.shp"


@pytest.mark.parametrize("ext, keep", [(".shp", 8000), (".dbf", 1000), (".shx", 50)])
def test_truncated_shapefile_is_named_truncated(tmp_path, ext, keep):
    shp = _commune_copy(tmp_path)
    part = shp.with_suffix(ext)
    part.write_bytes(part.read_bytes()[:keep])
    with pytest.raises(InputError) as e:
        list(SHP.read(shp))
    assert e.value.code == "TRUNCATED_FILE" and ext in e.value.message and "coordinate" not in e.value.message


def test_wrong_crs_rejecting_every_feature_is_an_error(twin, project, tmp_path):
    shp = _commune_copy(tmp_path)
    with pytest.raises(InputError) as e:
        ingest(twin, project, shp, IngestOptions(options={"crs": "EPSG:28992"}))
    assert e.value.code == "NOTHING_MAPPED" and "--crs" in e.value.hint and e.value.errors
    assert _size(twin, project, "commune.shp") == 0


# ----------------------------------------------------------------------------- re-ingest review
def _first_buildings(tmp_path: Path, n: int) -> Path:
    """Potsdam with only its first n city object members (a well-formed, partial export)."""
    text = POTSDAM.read_text(encoding="utf-8")
    head, _, rest = text.partition("  <cityObjectMember>")
    members = ("  <cityObjectMember>" + rest).split("  <cityObjectMember>")[1:]
    body = "".join("  <cityObjectMember>" + m for m in members[:n]).split("</CityModel>")[0]
    p = tmp_path / "partial" / POTSDAM.name
    p.parent.mkdir(exist_ok=True)
    p.write_text(head + body + "</CityModel>\n", encoding="utf-8")
    return p


def test_reingest_removing_many_entities_needs_accept_removals(twin, project, tmp_path):
    first = ingest(twin, project, POTSDAM, IngestOptions())
    assert first.diff is None and first.mapped == 97
    before = _size(twin, project, "potsdam_lod1.gml")
    same = ingest(twin, project, POTSDAM, IngestOptions())
    assert same.diff == {"previous": same.diff["previous"], "staged": same.diff["previous"], "added": 0, "removed": 0, "changed": 0,
                         "unchanged": same.diff["previous"]}
    partial = _first_buildings(tmp_path, 60)
    with pytest.raises(InputError) as e:
        ingest(twin, project, partial, IngestOptions())
    assert e.value.code == "REMOVALS_NOT_ACCEPTED" and e.value.status == 409 and "--accept-removals" in e.value.hint
    assert _size(twin, project, "potsdam_lod1.gml") == before
    rep = ingest(twin, project, partial, IngestOptions(accept_removals=True))
    assert rep.status == "published" and rep.mapped == 60
    assert rep.diff["removed"] == rep.diff["previous"] - rep.diff["unchanged"] > 0 and rep.diff["added"] == 0
    more = ingest(twin, project, _first_buildings(tmp_path, 70), IngestOptions())  # additions need no option
    assert more.diff["added"] > 0 and more.diff["removed"] == 0


def test_potsdam_heights_are_warnings_not_violations(twin, project):
    rep = ingest(twin, project, POTSDAM, IngestOptions())
    v = rep.validation
    assert rep.status == "published" and v.by_severity.get("Warning", 0) >= 1 and not v.by_severity.get("Violation")
    assert any("56890" in line and "HeightPlausibleShape" in line for line in v.results)


# ----------------------------------------------------------------------------- CLI exit codes
@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cli-silent")
    runner = CliRunner()
    env = {"KG_TWIN_DATA_DIR": str(data_dir), "KG_TWIN_BASE_IRI": BASE}

    def run(*args: str):
        return runner.invoke(cli_app, list(args), env=env)

    assert run("project", "create", "c").exit_code == 0
    return run


def test_cli_exit_codes(cli, tmp_path):
    shp = _commune_copy(tmp_path)
    r = cli("ingest", str(shp), "-p", "c", "--crs", "EPSG:28992")
    assert r.exit_code == 2 and "NOTHING_MAPPED" in r.output
    doc = tmp_path / "notes.json"
    doc.write_text('{"a": 1}')
    r = cli("ingest", str(doc), "-p", "c")
    assert r.exit_code == 3 and "stored as a document only" in r.output
    r = cli("ingest", str(doc), "-p", "c", "--strict")
    assert r.exit_code == 2 and "NOT_STRUCTURED" in r.output
    r = cli("ingest", str(doc), "-p", "c", "--reader", "document")
    assert r.exit_code == 0


def test_cli_dry_run_with_encoding_proposes_a_mapping(cli, tmp_path):
    r = cli("ingest", str(LATIN1), "-p", "c", "--dry-run")
    assert r.exit_code == 2 and "--encoding" in r.output
    r = cli("ingest", str(LATIN1), "-p", "c", "--dry-run", "--encoding", "latin-1")
    assert r.exit_code == 0, r.output
    assert "encoding: latin-1" in r.stdout
    m = tmp_path / "mapping.yml"
    m.write_text(r.stdout.split("---\n")[0])
    r = cli("ingest", str(LATIN1), "-p", "c", "--mapping", str(m), "--accept-violations")
    assert r.exit_code == 0, r.output
    assert "2/2 records mapped" in r.output


# ----------------------------------------------------------------------------- API statuses
@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings = Settings(store="memory", data_dir=tmp_path_factory.mktemp("api-silent"), base_iri=BASE)
    t = create_twin(settings)
    t.projects.create("a")
    with TestClient(create_app(settings, twin=t)) as c:
        c.headers["Authorization"] = f"Bearer {t.access.tokens.create('a', 'writer', 'w').secret}"
        yield c
    t.close()


def _post(api, path: Path, **params):
    return api.post("/projects/a/ingest", files=[("file", (path.name, path.read_bytes(), "application/octet-stream"))], params=params)


def test_api_refuses_nothing_mapped_cut_files_and_large_removals(api, tmp_path):
    files = [("file", (p.name, p.read_bytes(), "application/octet-stream")) for p in sorted(COMMUNE.parent.glob("COMMUNE.*"))]
    r = api.post("/projects/a/ingest", files=files, params={"crs": "EPSG:28992"})
    assert r.status_code == 400 and r.json()["code"] == "NOTHING_MAPPED"
    cut = tmp_path / "Duplex_A.ifc"
    cut.write_bytes(DUPLEX.read_bytes()[:500_000])
    r = _post(api, cut)
    assert r.status_code == 400 and r.json()["code"] == "TRUNCATED_FILE"
    assert _post(api, POTSDAM).status_code == 200
    partial = _first_buildings(tmp_path, 50)
    r = _post(api, partial)
    assert r.status_code == 409 and r.json()["code"] == "REMOVALS_NOT_ACCEPTED"
    r = _post(api, partial, accept_removals="true")
    assert r.status_code == 200 and r.json()["diff"]["removed"] > 0
    doc = tmp_path / "x.json"
    doc.write_text('{"x": 1}')
    r = _post(api, doc)
    assert r.status_code == 200 and r.json()["document_only"] is True
    r = _post(api, doc, structured_only="true")
    assert r.status_code == 400 and r.json()["code"] == "NOT_STRUCTURED"
