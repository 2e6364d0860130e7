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
