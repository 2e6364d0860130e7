"""The ingest pipeline in-process: real store (in memory), real files, real SHACL.

The tiny ``test-points`` handler (tests/ingest/standin.py) keeps these tests independent of the
real table handler's heuristics; real handlers are exercised in test_pipeline_cli/api and the demo test.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

import tests.ingest.standin  # noqa: F401  (registers the test-points handler)
from kg_twin.errors import InputError, ShapeViolation
from kg_twin.ingest.mapping import dump_yaml, load_mapping_text
from kg_twin.ingest.pipeline import IngestOptions, ingest, receive, source_slug
from kg_twin.service import create_twin
from kg_twin.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "pipeline"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SHAPES = [str(DATA / "label.shapes.ttl")]
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
KGT = rdflib.Namespace("https://w3id.org/kg-twin/ontology#")
_ids = itertools.count()


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("pipe"), base_iri="http://twin.test/"))
    yield t
    t.close()


@pytest.fixture
def project(twin):
    p = f"p{next(_ids)}"
    twin.projects.create(p)
    return p


def opts(**kw):
    kw.setdefault("reader", "test-points")
    kw.setdefault("shapes", SHAPES)
    kw.setdefault("agent", "tester")
    return IngestOptions(**kw)


def graph_of(twin, iri: str) -> rdflib.Graph:
    buf = io.BytesIO()
    twin.store.dump(buf, format="ntriples", graphs=[iri])
    return rdflib.Graph().parse(data=buf.getvalue(), format="nt")


def project_dump(twin, project) -> dict[str, rdflib.Graph]:
    """Every graph of the project (hidden ones included), by IRI."""
    prefix = twin.naming.project_graph_prefix(project)
    return {g: graph_of(twin, g) for g in twin.store.graphs() if g.startswith(prefix)}


def same_dump(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(isomorphic(a[k], b[k]) for k in a)


def test_publish_counts_rejects_and_files(twin, project):
    rep = ingest(twin, project, DATA / "points.csv", opts())
    assert rep.status == "published"
    assert rep.graph == twin.naming.graph(project, "points.csv")
    # every input row is either mapped or rejected, with a reason
    assert (rep.records, rep.mapped, rep.rejected) == (7, 4, 3)
    assert rep.records == rep.mapped + rep.rejected
    assert {(r.origin.row, r.code) for r in rep.rejects} == {(5, "CELLS"), (6, "NO_KEY"), (8, "BAD_CLASS")}
    assert all(r.reason for r in rep.rejects)
    g = graph_of(twin, rep.graph)
    assert len(g) == rep.triples > 0
    s = rdflib.URIRef(twin.naming.mint(project, "point", "ZN-T-101"))
    assert (s, rdflib.RDF.type, rdflib.URIRef("https://brickschema.org/schema/Brick#Zone_Air_Temperature_Sensor")) in g
    # the original is kept under its hash, with the mapping, the report and the rejects next to it
    d = twin.settings.sources_path / project / rep.sha256
    assert (d / "points.csv").read_bytes() == (DATA / "points.csv").read_bytes()
    assert load_mapping_text((d / "mapping.yml").read_text()) == rep.mapping
    assert json.loads((d / "report.json").read_text())["triples"] == rep.triples
    rows = list(csv.DictReader((d / "rejects.csv").open()))
    assert len(rows) == rep.rejected and {r["code"] for r in rows} == {"CELLS", "NO_KEY", "BAD_CLASS"}
    assert rep.validation is not None and rep.validation.conforms


def test_reingest_replaces_without_duplicates(twin, project):
    first = ingest(twin, project, DATA / "points.csv", opts())
    g1 = graph_of(twin, first.graph)
    second = ingest(twin, project, DATA / "points.csv", opts())
    g2 = graph_of(twin, second.graph)
    assert second.graph == first.graph
    assert len(g2) == len(g1) == second.triples
    assert isomorphic(g1, g2) and set(g1) == set(g2)  # same IRIs, nothing duplicated
    assert twin.project_graphs(project).count(first.graph) == 1
    # the graph points to the newest activity only; both activities stay in the provenance
    pg = graph_of(twin, twin.naming.graph(project, "provenance"))
    assert list(pg.objects(rdflib.URIRef(first.graph), PROV.wasGeneratedBy)) == [rdflib.URIRef(second.activity)]
    assert {rdflib.URIRef(first.activity), rdflib.URIRef(second.activity)} <= set(pg.subjects(rdflib.RDF.type, PROV.Activity))


def test_reingest_of_changed_file_replaces_graph(twin, project, tmp_path):
    ingest(twin, project, DATA / "points.csv", opts())
    smaller = tmp_path / "points.csv"
    smaller.write_text("id,label,class,room\nZN-T-101,Zone temp 101,Zone_Air_Temperature_Sensor,\n")
    with pytest.raises(InputError) as e:  # 5 of 6 entities would go: refused without the explicit option
        ingest(twin, project, smaller, opts())
    assert e.value.code == "REMOVALS_NOT_ACCEPTED"
    rep = ingest(twin, project, smaller, opts(accept_removals=True))
    assert rep.diff is not None and rep.diff["removed"] == 5 and rep.diff["added"] == 0
    g = graph_of(twin, rep.graph)
    assert rep.triples == len(g) == 3  # type, label, source: the old rows are gone
    assert not any("ZN-T-102" in str(s) for s in g.subjects())


def test_dry_run_yaml_roundtrip_gives_isomorphic_graph(twin, project):
    dry = ingest(twin, project, DATA / "points.csv", opts(dry_run=True))
    assert dry.status == "dry-run" and dry.graph is None
    assert twin.project_graphs(project) == [twin.naming.default_graph(project)]  # nothing written
    assert not (twin.settings.sources_path / project).exists()
    text = dump_yaml(dry.mapping, source="points.csv", project=project)
    assert "confidence: 0.6" in text and text.startswith("# kg-twin ingest mapping")
    direct = ingest(twin, project, DATA / "points.csv", opts())
    g_direct = graph_of(twin, direct.graph)
    reviewed = ingest(twin, project, DATA / "points.csv", opts(reader=None, mapping=load_mapping_text(text)))
    assert reviewed.reader == "test-points"  # taken from the mapping file
    assert isomorphic(g_direct, graph_of(twin, reviewed.graph))


def test_edited_mapping_is_used(twin, project):
    dry = ingest(twin, project, DATA / "points.csv", opts(dry_run=True))
    m = dry.mapping
    m["room"]["relation"] = "https://brickschema.org/schema/Brick#isPartOf"
    rep = ingest(twin, project, DATA / "points.csv", opts(mapping=m))
    g = graph_of(twin, rep.graph)
    brick = rdflib.Namespace("https://brickschema.org/schema/Brick#")
    assert len(list(g.triples((None, brick.isPartOf, None)))) == 3
    assert not list(g.triples((None, brick.hasLocation, None)))


def test_provenance_activity(twin, project):
    rep = ingest(twin, project, DATA / "points.csv", opts())
    pg = twin.naming.graph(project, "provenance")
    assert pg in twin.project_graphs(project)
    rows = twin.store.select(
        f"""PREFIX prov: <{PROV}> PREFIX kgt: <{KGT}> PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX dcat: <http://www.w3.org/ns/dcat#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT * WHERE {{ GRAPH <{pg}> {{
          <{rep.graph}> prov:wasGeneratedBy ?a ; prov:wasDerivedFrom ?src .
          ?a a prov:Activity ; prov:startedAtTime ?t0 ; prov:endedAtTime ?t1 ; prov:used ?src, ?m ;
             prov:wasAssociatedWith ?agent ; kgt:records ?n ; kgt:rejected ?rej ; kgt:triples ?tr ; kgt:conforms ?ok ; kgt:mappingHash ?mh ;
             kgt:mapped ?mapped ; kgt:graph <{rep.graph}> ; kgt:project <{twin.naming.project_iri(project)}> .
          ?agent rdfs:label ?who .
          ?src a kgt:Source ; kgt:sha256 ?sha ; dcterms:title ?title ; dcat:byteSize ?size ; dcat:mediaType ?mt .
          ?m a kgt:Mapping ; kgt:sha256 ?mh .
        }} }}"""
    )
    assert len(rows) == 1
    r = rows[0]
    assert str(r["a"]) == rep.activity
    assert str(r["sha"]) == rep.sha256 and str(r["title"]) == "points.csv"
    assert int(r["size"]) == (DATA / "points.csv").stat().st_size
    assert (int(r["n"]), int(r["mapped"]), int(r["rej"]), int(r["tr"])) == (rep.records, rep.mapped, rep.rejected, rep.triples)
    assert str(r["who"]) == "tester" and r["ok"].toPython() is True
    assert r["t0"].toPython() <= r["t1"].toPython()


def test_quarantine_on_violations_then_accept(twin, project):
    good = ingest(twin, project, DATA / "points.csv", opts(name="points.csv"))
    before = graph_of(twin, good.graph)
    with pytest.raises(ShapeViolation) as ei:
        ingest(twin, project, DATA / "points-long-label.csv", opts(name="points.csv"))
    e = ei.value
    assert e.status == 422 and e.report.status == "quarantined" and e.report.graph is None
    assert any("labels are 1..24 characters" in x["result"] for x in e.errors)
    assert e.report.validation.by_severity == {"Violation": 1}
    assert isomorphic(graph_of(twin, good.graph), before)  # the published graph is unchanged
    q = graph_of(twin, twin.naming.quarantine_graph(project, "points.csv"))
    assert len(q) == e.report.triples > 0
    assert twin.naming.quarantine_graph(project, "points.csv") not in twin.project_graphs(project)
    d = twin.settings.sources_path / project / e.report.sha256
    assert b"http://www.w3.org/ns/shacl#ValidationReport" in (d / "validation.nt").read_bytes()
    # accepted: published, quarantine cleared
    rep = ingest(twin, project, DATA / "points-long-label.csv", opts(name="points.csv", accept="violations", accept_removals=True))
    assert rep.status == "published" and rep.validation.conforms is False
    assert len(graph_of(twin, rep.graph)) == rep.triples
    assert not twin.store.has_graph(twin.naming.quarantine_graph(project, "points.csv"))


def test_bad_input_leaves_project_unchanged(twin, project):
    ingest(twin, project, DATA / "points.csv", opts())
    before = project_dump(twin, project)
    with pytest.raises(InputError) as ei:
        ingest(twin, project, DATA / "points-latin1.csv", opts(name="points.csv"))
    assert ei.value.code == "ENCODING" and ei.value.where["file"] == "points.csv"
    after = project_dump(twin, project)
    assert same_dump(before, after)
    assert not any("_staging" in g for g in twin.store.graphs())


def test_bad_rdf_names_file_and_line(twin, project):
    before = project_dump(twin, project)
    with pytest.raises(InputError) as ei:
        ingest(twin, project, DATA / "truncated.ttl", IngestOptions(reader="rdf"))
    e = ei.value
    assert e.where.get("file", "").endswith("truncated.ttl") and ("line" in e.where or "line" in str(e))
    assert same_dump(before, project_dump(twin, project))


def test_mapping_for_another_reader_is_refused(twin, project):
    with pytest.raises(InputError) as ei:
        ingest(twin, project, DATA / "points.csv", opts(mapping={"handler": "ifc", "classes": {}}))
    assert ei.value.code == "MAPPING_READER_MISMATCH"


def test_unknown_reader_and_project(twin, project):
    with pytest.raises(InputError) as ei:
        ingest(twin, project, DATA / "points.csv", IngestOptions(reader="nope"))
    assert ei.value.code == "UNKNOWN_READER" and "test-points" in ei.value.hint
    with pytest.raises(Exception) as ei2:
        ingest(twin, "no-such-project", DATA / "points.csv", opts())
    assert getattr(ei2.value, "status", None) == 404


def test_rdf_passthrough_real_file(twin, project):
    src = Path(__file__).resolve().parents[1] / "data" / "rdf" / "g36-vav-a2.ttl"
    rep = ingest(twin, project, src, IngestOptions(accept="violations"))
    assert rep.reader == "rdf" and rep.status == "published"
    g = graph_of(twin, rep.graph)
    orig = rdflib.Graph().parse(src, format="turtle")
    assert len(g) == rep.triples and len(g) >= len(orig)
    # every original triple is there (the handler only adds kgt:source alignment triples)
    assert all(t in g for t in orig if not any(isinstance(x, rdflib.BNode) for x in t))


def test_shapefile_set_is_received_with_sidecars(twin, project, tmp_path):
    with zipfile.ZipFile(EXAMPLES / "olemps" / "COMMUNE.zip") as zf:
        zf.extractall(tmp_path)
    rec = receive(twin.settings.sources_path, project, tmp_path / "COMMUNE.shp")
    assert set(rec.parts) == {"COMMUNE.shp", "COMMUNE.shx", "COMMUNE.dbf", "COMMUNE.prj", "COMMUNE.cpg"}
    assert sorted(p.name for p in rec.dir.iterdir()) == sorted(rec.parts)
    # a changed sidecar changes the source hash
    (tmp_path / "COMMUNE.cpg").write_text("1252")
    assert receive(twin.settings.sources_path, project, tmp_path / "COMMUNE.shp", store=False).sha256 != rec.sha256
    shutil.rmtree(rec.dir)


def test_source_slug_is_stable_and_safe():
    assert source_slug("BATIMENT.shp") == "batiment.shp"
    assert source_slug("default") == "src-default"
    assert source_slug("_staging.csv") == "staging.csv"
    with pytest.raises(InputError):
        source_slug("???")


def test_broken_ifc_and_unknown_crs_are_clear_errors(twin, project, tmp_path):
    before = project_dump(twin, project)
    ifc = tmp_path / "model.ifc"
    ifc.write_bytes((EXAMPLES / "building" / "Duplex_A.ifc").read_bytes()[:5000])  # truncated mid-file
    with pytest.raises(InputError) as ei:
        ingest(twin, project, ifc, IngestOptions(reader="ifc"))
    assert ei.value.where["file"] == "model.ifc" and ei.value.hint
    # a shapefile set without its .prj: the CRS is unknown, the error says to pass one
    noprj = tmp_path / "noprj.zip"
    with zipfile.ZipFile(EXAMPLES / "olemps" / "COMMUNE.zip") as src, zipfile.ZipFile(noprj, "w") as dst:
        for n in src.namelist():
            if not n.lower().endswith(".prj"):
                dst.writestr(n, src.read(n))
    with pytest.raises(InputError) as ei:
        ingest(twin, project, noprj, IngestOptions(reader="shapefile"))
    assert ei.value.where["file"] == "noprj.zip" and "crs" in (ei.value.hint or "").lower()
    assert same_dump(before, project_dump(twin, project))
    # with the CRS given, the same file goes through
    rep = ingest(twin, project, noprj, IngestOptions(reader="shapefile", accept="violations", options={"crs": "EPSG:2154"}))
    assert rep.status == "published" and rep.triples > 0


def test_pyshacl_engine_gives_the_same_verdict_named(twin, project):
    """The reference engine (pyshacl) on the published graph gives the ingest's verdict, and says it ran."""
    from kg_twin.ingest import validate as v

    rep = ingest(twin, project, DATA / "points-long-label.csv", opts(accept="violations"))
    out = v.validate_staged(twin.store, twin.naming, project, [rep.graph], shapes=SHAPES, engine="pyshacl")
    assert "pyshacl" in out.summary.engine and out.violations == 1 and not out.summary.conforms
    assert out.summary.by_severity == rep.validation.by_severity == {"Violation": 1}
    assert "labels are 1..24 characters" in out.summary.results[0]


def test_big_sources_are_staged_in_the_project_store(twin, project, monkeypatch):
    """Above STAGE_IN_MEMORY_BYTES the staging graph lives in the project store and one MOVE publishes it."""
    import kg_twin.ingest.pipeline as pipeline

    small = ingest(twin, project, DATA / "points.csv", opts(graph="mem"))
    monkeypatch.setattr(pipeline, "STAGE_IN_MEMORY_BYTES", 0)
    rep = ingest(twin, project, DATA / "points.csv", opts(graph="disk"))
    assert rep.status == "published" and rep.triples == small.triples
    assert isomorphic(graph_of(twin, rep.graph), graph_of(twin, small.graph))
    again = ingest(twin, project, DATA / "points.csv", opts(graph="disk"))
    assert len(graph_of(twin, again.graph)) == rep.triples
    with pytest.raises(ShapeViolation) as ei:
        ingest(twin, project, DATA / "points-long-label.csv", opts(graph="disk"))
    assert len(graph_of(twin, ei.value.quarantine)) == ei.value.report.triples
    assert len(graph_of(twin, rep.graph)) == rep.triples  # published graph unchanged
    assert not any("_staging" in g for g in twin.store.graphs())
    rdf = ingest(twin, project, Path(__file__).resolve().parents[1] / "data" / "rdf" / "g36-vav-a2.ttl", IngestOptions(accept="violations"))
    assert rdf.triples == len(graph_of(twin, rdf.graph)) > 0


def test_fast_report_equals_validation_package_report(twin, tmp_path):
    """The ingest writes the report as N-Triples itself; it must be the validation package's report."""
    from kg_twin.ingest import validate as v
    from kg_twin.validation import validate_graphs

    data = """@prefix ex: <http://ex/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ex:a a ex:Room ; rdfs:label "a label that is far too long for the shape" .
    ex:b a ex:Room ; rdfs:label "ok", "two"@en .
    ex:s ex:hasSpace ex:b ."""
    shapes = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://ex/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ex:RoomShape a sh:NodeShape ; sh:targetClass ex:Room ;
      sh:property [ sh:path rdfs:label ; sh:maxLength 10 ; sh:maxCount 1 ; sh:message "short, single label" ] ;
      sh:property [ sh:path [ sh:inversePath ex:hasSpace ] ; sh:minCount 1 ; sh:severity sh:Warning ] ."""
    g = "http://twin.test/graph/fastreport/data"
    twin.store.load(data.encode(), format="turtle", graph=g)
    sg = rdflib.Graph().parse(data=shapes, format="turtle")
    ref_bytes, ref_summary = validate_graphs(twin.store, [g], sg, format="ntriples")
    shapes_file = tmp_path / "room.shapes.ttl"
    shapes_file.write_text(shapes)
    out = v.validate_staged(twin.store, twin.naming, "fastreport", [g], shapes=[shapes_file])
    fast_bytes, fast_summary = out.report, out.summary
    ref = rdflib.Graph().parse(data=ref_bytes, format="nt")
    fast = rdflib.Graph().parse(data=fast_bytes, format="nt")
    assert len(ref) > 20 and isomorphic(ref, fast)
    assert fast_summary.by_severity == ref_summary.by_severity == {"Violation": 2, "Warning": 1}
    twin.store.drop_graphs([g])


@pytest.fixture
def pending_from_zero(monkeypatch):
    """Every new graph takes the pending-load path (the project store loads the file while the
    staged copy is validated); normally only sources from PENDING_LOAD_BYTES up do."""
    import kg_twin.ingest.pipeline as pipeline

    monkeypatch.setattr(pipeline, "PENDING_LOAD_BYTES", 0)


def test_pending_publish_gives_the_same_graph_as_staged_publish(twin, project, pending_from_zero, monkeypatch):
    import kg_twin.ingest.pipeline as pipeline

    rdf = Path(__file__).resolve().parents[1] / "data" / "rdf" / "g36-vav-a2.ttl"
    for src, o in ((rdf, IngestOptions(accept="violations")), (DATA / "points.csv", opts())):
        fast = ingest(twin, project, src, o)
        monkeypatch.setattr(pipeline, "PENDING_LOAD_BYTES", 1 << 60)
        staged = ingest(twin, project, src, IngestOptions(**{**o.__dict__, "graph": "staged-" + fast.graph.rsplit("/", 1)[-1]}))
        monkeypatch.setattr(pipeline, "PENDING_LOAD_BYTES", 0)
        assert fast.status == staged.status == "published"
        assert fast.triples == staged.triples == twin.store.graph_size(fast.graph) > 0
        assert isomorphic(graph_of(twin, fast.graph), graph_of(twin, staged.graph))
    assert not any("_staging" in g for g in twin.store.graphs())


def test_pending_publish_quarantines_and_leaves_no_graph(twin, project, pending_from_zero):
    with pytest.raises(ShapeViolation) as ei:
        ingest(twin, project, DATA / "points-long-label.csv", opts(name="points.csv"))
    e = ei.value
    assert e.report.status == "quarantined"
    assert not twin.store.has_graph(twin.naming.graph(project, "points.csv"))  # the pending graph was removed
    assert len(graph_of(twin, e.quarantine)) == e.report.triples > 0
    # accepted: published from the pending load, the quarantine cleared in the same step
    rep = ingest(twin, project, DATA / "points-long-label.csv", opts(name="points.csv", accept="violations", accept_removals=True))
    assert rep.status == "published" and len(graph_of(twin, rep.graph)) == rep.triples
    assert not twin.store.has_graph(e.quarantine)


def test_pending_publish_of_bad_rdf_leaves_the_project_unchanged(twin, project, pending_from_zero):
    before = project_dump(twin, project)
    with pytest.raises(InputError) as ei:
        ingest(twin, project, DATA / "truncated.ttl", IngestOptions(reader="rdf"))
    assert ei.value.where.get("file", "").endswith("truncated.ttl")
    assert same_dump(before, project_dump(twin, project))
    assert not twin.store.has_graph(twin.naming.graph(project, "truncated.ttl"))


def test_quad_file_publishes_the_same_graph_pending_or_staged(twin, project, tmp_path, monkeypatch):
    """A quad file is flattened by the handler's file_load; both publish paths give the same graph."""
    import kg_twin.ingest.pipeline as pipeline

    src = Path(__file__).resolve().parents[1] / "data" / "rdf" / "g36-vav-a2.ttl"
    ds = rdflib.Dataset()
    g1 = ds.graph(rdflib.URIRef("http://ex/g1"))
    for t in rdflib.Graph().parse(src):
        g1.add(t)
    nq = tmp_path / "vav.nq"
    nq.write_text(ds.serialize(format="nquads"))
    got = {}
    for name, limit in (("pending", 0), ("staged", 1 << 60)):
        monkeypatch.setattr(pipeline, "PENDING_LOAD_BYTES", limit)
        rep = ingest(twin, project, nq, IngestOptions(accept="violations", graph=f"quads-{name}"))
        assert rep.status == "published" and rep.triples == twin.store.graph_size(rep.graph) > 0
        got[name] = graph_of(twin, rep.graph)
    assert isomorphic(got["pending"], got["staged"])
    assert not any("_staging" in g for g in twin.store.graphs())
    assert not list((twin.settings.sources_path / project).glob("*/.flat-*"))  # the flattened copy is removed


def test_alignment_switched_off_in_the_mapping_publishes_the_file_as_is(twin, project):
    src = Path(__file__).resolve().parents[1] / "data" / "rdf" / "g36-vav-a2.ttl"
    mapping = {"version": 1, "handler": "rdf", "passthrough": {"value": True}, "align": {"source_on_typed_subjects": False}}
    rep = ingest(twin, project, src, IngestOptions(accept="violations", graph="no-align", mapping=mapping))
    assert isomorphic(graph_of(twin, rep.graph), rdflib.Graph().parse(src))
