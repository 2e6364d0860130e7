"""The oxigraph store backend: atomic loads, datasets, row caps, killable queries."""

from __future__ import annotations

import io
import json
import time

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg_twin.errors import InputError, QueryTimeout
from kg_twin.settings import Settings
from kg_twin.store import Dataset, open_store

TTL = b"""@prefix ex: <http://ex/> .
ex:a ex:p 1 ; ex:q "x"@en .
ex:b ex:p 2 .
"""


@pytest.fixture
def mem():
    s = open_store(Settings(store="memory"))
    yield s
    s.close()


@pytest.fixture
def disk(tmp_path):
    s = open_store(Settings(data_dir=tmp_path, query_workers=2))
    yield s
    s.close()


def _graph(data: bytes, fmt: str = "turtle") -> Graph:
    return Graph().parse(data=data, format=fmt)


def test_load_and_dump_roundtrip(mem):
    assert mem.load(TTL, format="turtle", graph="http://g/1") == 3
    out = io.BytesIO()
    mem.dump(out, format="turtle", graphs=["http://g/1"])
    assert isomorphic(_graph(out.getvalue()), _graph(TTL))


def test_failed_load_leaves_graph_unchanged(mem):
    mem.load(TTL, format="turtle", graph="http://g/1")
    before = mem.dump_bytes(format="ntriples", graphs=["http://g/1"])
    bad = TTL + b"\nex:c ex:p ."  # truncated triple
    for replace in (False, True):
        with pytest.raises(InputError) as e:
            mem.load(bad, format="turtle", graph="http://g/1", replace=replace)
        assert e.value.code == "RDF_SYNTAX"
        assert e.value.where.get("line") == 5
    assert mem.dump_bytes(format="ntriples", graphs=["http://g/1"]) == before


def test_bulk_load_into_staging_then_replace(disk, tmp_path):
    f = tmp_path / "big.nt"
    f.write_text("".join(f"<http://ex/s{i}> <http://ex/p> \"{i}\" .\n" for i in range(5000)))
    disk.load(TTL, format="turtle", graph="http://g/1")
    assert disk.load(str(f), format="ntriples", graph="http://g/1", replace=True, bulk=True) == 5000
    assert disk.graphs() == ["http://g/1"]  # no staging graph left behind
    bad = tmp_path / "bad.nt"
    bad.write_text("<http://ex/a> <http://ex/p> 1 .\n<http://ex/b> <http://ex/p> .\n")
    with pytest.raises(InputError):
        disk.load(str(bad), format="ntriples", graph="http://g/1", replace=True, bulk=True)
    assert disk.graph_size("http://g/1") == 5000
    assert disk.graphs() == ["http://g/1"]


def test_dataset_restricts_graphs_and_from_clauses(mem):
    mem.load(b"<http://a> <http://p> \"1\" .", format="ntriples", graph="http://g/1")
    mem.load(b"<http://a> <http://p> \"2\" .", format="ntriples", graph="http://g/2")
    ds = Dataset(("http://g/1",), ("http://g/1",))
    q = "SELECT ?o FROM <http://g/2> FROM NAMED <http://g/2> { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    body = json.loads(mem.query(q, dataset=ds).body)
    assert {b["o"]["value"] for b in body["results"]["bindings"]} == {"1"}


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_row_cap_signals_truncation(mem, fmt):
    mem.load(b"".join(f"<http://s{i}> <http://p> \"{i}\" .\n".encode() for i in range(50)), format="ntriples", graph="http://g")
    r = mem.query("SELECT * { GRAPH ?g { ?s ?p ?o } }", result_format=fmt, max_rows=10)
    assert r.truncated and r.count == 10
    r = mem.query("SELECT * { GRAPH ?g { ?s ?p ?o } }", result_format=fmt, max_rows=100)
    assert not r.truncated and r.count == 50


def test_results_parse_back(mem):
    from rdflib.query import Result

    mem.load(TTL, format="turtle", graph="http://g")
    for fmt, parser in (("json", "json"), ("xml", "xml"), ("csv", "csv"), ("tsv", "tsv")):
        body = mem.query("SELECT ?s ?o { GRAPH ?g { ?s <http://ex/p> ?o } } ORDER BY ?o", result_format=fmt).body
        res = Result.parse(io.BytesIO(body), format=parser)
        assert [str(r[1]) for r in res] == ["1", "2"], fmt


def test_syntax_error_has_position(mem):
    with pytest.raises(InputError) as e:
        mem.query("SELECT * WHERE {\n ?s ?p \n")
    assert e.value.code == "SPARQL_SYNTAX" and e.value.where["line"] >= 2


def test_runaway_query_is_killed_and_others_continue(disk):
    disk.load(b"".join(f"<http://s{i}> <http://p> \"{i}\" .\n".encode() for i in range(3000)), format="ntriples", graph="http://g")
    ds = Dataset(("http://g",), ())
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout):
        disk.query("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", dataset=ds, timeout_s=1)
    assert time.monotonic() - t0 < 5
    assert disk.workers_killed == 1
    r = disk.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", dataset=ds, timeout_s=10)
    assert json.loads(r.body)["results"]["bindings"][0]["n"]["value"] == "3000"


def test_writes_are_visible_to_worker_queries(disk):
    ds = Dataset(("http://g",), ())
    for i in range(3):
        disk.update(f"INSERT DATA {{ GRAPH <http://g> {{ <http://s> <http://p> {i} }} }}")
        r = disk.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", dataset=ds, timeout_s=10)
        assert json.loads(r.body)["results"]["bindings"][0]["n"]["value"] == str(i + 1)


def _nt(n: int, tag: str) -> str:
    return "".join(f'<http://ex/s{i}> <http://ex/p> "{tag}{i}" .\n' for i in range(n))


def test_interrupted_replace_is_finished_when_the_store_opens(tmp_path):
    from kg_twin.store.oxigraph import JOURNAL_SUFFIX

    s = open_store(Settings(data_dir=tmp_path))
    s.load(_nt(300, "old"), format="ntriples", graph="http://g/1")
    store_dir = s.path
    s.close()
    # a crash after the journal was written: the old graph may be dropped or not, the new not loaded
    redo = tmp_path / "publish.nt"
    redo.write_text(_nt(120, "new"))
    journal = store_dir.with_name(store_dir.name + JOURNAL_SUFFIX)
    journal.write_text(json.dumps({"graph": "http://g/1", "path": str(redo), "format": "ntriples", "base_iri": None}))
    s = open_store(Settings(data_dir=tmp_path))
    try:
        assert not journal.exists()
        got = _graph(s.construct("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <http://g/1> { ?s ?p ?o } }"), "ntriples")
        assert isomorphic(got, _graph(redo.read_bytes(), "ntriples"))
    finally:
        s.close()


def test_interrupted_replace_without_its_source_keeps_the_graph(tmp_path):
    from kg_twin.store.oxigraph import JOURNAL_SUFFIX

    s = open_store(Settings(data_dir=tmp_path))
    s.load(_nt(10, "old"), format="ntriples", graph="http://g/1")
    store_dir = s.path
    s.close()
    journal = store_dir.with_name(store_dir.name + JOURNAL_SUFFIX)
    journal.write_text(json.dumps({"graph": "http://g/1", "path": str(tmp_path / "gone.nt"), "format": "ntriples", "base_iri": None}))
    s = open_store(Settings(data_dir=tmp_path))
    try:
        assert s.graph_size("http://g/1") == 10
        assert not journal.exists() and journal.with_suffix(".failed").exists()
    finally:
        s.close()


def test_big_ntriples_load_in_blocks_reports_the_line_in_the_whole_file(disk, tmp_path, monkeypatch):
    import kg_twin.store.oxigraph as oxs

    monkeypatch.setattr(oxs, "BULK_DIRECT_BYTES", 4096)  # force the block-wise path on a small file
    monkeypatch.setattr(oxs, "BULK_BLOCK_BYTES", 2000)  # lines cut across blocks
    f = tmp_path / "big.nt"
    f.write_text(_nt(2000, "v"))
    assert disk.load(str(f), format="ntriples", graph="http://g/new", bulk=True) == 2000
    assert disk.load(str(f), format="ntriples", graph="http://g/new", bulk=True, replace=True) == 2000
    bad = tmp_path / "bad.nt"
    bad.write_text(_nt(1500, "v") + "<http://ex/x> <http://ex/p> .\n" + _nt(10, "w"))
    with pytest.raises(InputError) as e:
        disk.load(str(bad), format="ntriples", graph="http://g/other", bulk=True)
    assert e.value.where.get("line") == 1501, e.value.where
    assert not disk.has_graph("http://g/other")
    assert disk.graph_size("http://g/new") == 2000
