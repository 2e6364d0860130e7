"""The oxigraph store backend: atomic loads, datasets, row caps, killable queries."""

from __future__ import annotations

import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg_twin.errors import InputError, QueryTimeout
from kg_twin.settings import Settings
from kg_twin.store import Dataset, QueryRequest, open_store

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
    body = json.loads(mem.query(QueryRequest(q, dataset=ds)).body)
    assert {b["o"]["value"] for b in body["results"]["bindings"]} == {"1"}


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_row_cap_signals_truncation(mem, fmt):
    mem.load(b"".join(f"<http://s{i}> <http://p> \"{i}\" .\n".encode() for i in range(50)), format="ntriples", graph="http://g")
    r = mem.query(QueryRequest("SELECT * { GRAPH ?g { ?s ?p ?o } }", result_format=fmt, max_rows=10))
    assert r.truncated and r.count == 10
    r = mem.query(QueryRequest("SELECT * { GRAPH ?g { ?s ?p ?o } }", result_format=fmt, max_rows=100))
    assert not r.truncated and r.count == 50


def test_results_parse_back(mem):
    from rdflib.query import Result

    mem.load(TTL, format="turtle", graph="http://g")
    for fmt, parser in (("json", "json"), ("xml", "xml"), ("csv", "csv"), ("tsv", "tsv")):
        body = mem.query(QueryRequest("SELECT ?s ?o { GRAPH ?g { ?s <http://ex/p> ?o } } ORDER BY ?o", result_format=fmt)).body
        res = Result.parse(io.BytesIO(body), format=parser)
        assert [str(r[1]) for r in res] == ["1", "2"], fmt


def test_syntax_error_has_position(mem):
    with pytest.raises(InputError) as e:
        mem.query(QueryRequest("SELECT * WHERE {\n ?s ?p \n"))
    assert e.value.code == "SPARQL_SYNTAX" and e.value.where["line"] >= 2


def test_runaway_query_is_killed_and_others_continue(disk):
    disk.load(b"".join(f"<http://s{i}> <http://p> \"{i}\" .\n".encode() for i in range(3000)), format="ntriples", graph="http://g")
    ds = Dataset(("http://g",), ())
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout):
        disk.query(QueryRequest("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", dataset=ds, timeout_s=1))
    assert time.monotonic() - t0 < 5
    assert disk.workers_killed == 1
    r = disk.query(QueryRequest("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", dataset=ds, timeout_s=10))
    assert json.loads(r.body)["results"]["bindings"][0]["n"]["value"] == "3000"


def test_writes_are_visible_to_worker_queries(disk):
    ds = Dataset(("http://g",), ())
    for i in range(3):
        disk.update(f"INSERT DATA {{ GRAPH <http://g> {{ <http://s> <http://p> {i} }} }}")
        r = disk.query(QueryRequest("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", dataset=ds, timeout_s=10))
        assert json.loads(r.body)["results"]["bindings"][0]["n"]["value"] == str(i + 1)


def _nt(n: int, tag: str) -> str:
    return "".join(f'<http://ex/s{i}> <http://ex/p> "{tag}{i}" .\n' for i in range(n))


def _crashed_store(tmp_path, write) -> None:
    """Open the on-disk store raw and leave it as a process killed in the middle of ``write`` would."""
    import pyoxigraph as ox

    s = open_store(Settings(data_dir=tmp_path))
    store_dir = s.path
    s.close()
    raw = ox.Store(str(store_dir))
    write(raw, ox)
    raw.flush()
    del raw


def test_interrupted_replace_is_finished_when_the_store_opens(tmp_path):
    from kg_twin.store.pending import MARKS, Redo, mark

    redo = tmp_path / "publish.nt"
    redo.write_text(_nt(120, "new"))
    s = open_store(Settings(data_dir=tmp_path))
    s.load(_nt(300, "old"), format="ntriples", graph="http://g/1")
    s.close()

    def crash(raw, ox):  # marked with its source, old graph dropped, the new one a third loaded
        g = ox.NamedNode("http://g/1")
        mark(raw, g, Redo(redo, "ntriples"))
        raw.remove_graph(g)
        raw.bulk_load(input=_nt(40, "new").encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=g)

    _crashed_store(tmp_path, crash)
    s = open_store(Settings(data_dir=tmp_path))
    try:
        got = _graph(s.construct("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <http://g/1> { ?s ?p ?o } }"), "ntriples")
        assert isomorphic(got, _graph(redo.read_bytes(), "ntriples"))
        assert not s.has_graph(MARKS.value)
    finally:
        s.close()


def test_interrupted_replace_without_its_source_leaves_no_graph(tmp_path):
    """The old content was dropped and the new one cannot be finished: no graph, never half of one."""
    from kg_twin.store.pending import Redo, mark

    s = open_store(Settings(data_dir=tmp_path))
    s.load(_nt(10, "old"), format="ntriples", graph="http://g/1")
    s.load(_nt(3, "keep"), format="ntriples", graph="http://g/keep")
    s.close()

    def crash(raw, ox):
        g = ox.NamedNode("http://g/1")
        mark(raw, g, Redo(tmp_path / "gone.nt", "ntriples"))
        raw.bulk_load(input=_nt(4, "new").encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=g)

    _crashed_store(tmp_path, crash)
    s = open_store(Settings(data_dir=tmp_path))
    try:
        assert not s.has_graph("http://g/1") and s.graph_size("http://g/keep") == 3
    finally:
        s.close()


def test_interrupted_append_leaves_the_graph_and_no_staging_graph(tmp_path):
    """A big append goes through a marked staging graph: a crash before its ADD changes nothing."""
    import pyoxigraph as ox

    from kg_twin.store.pending import STAGING_PREFIX, mark

    s = open_store(Settings(data_dir=tmp_path))
    s.load(_nt(10, "old"), format="ntriples", graph="http://g/1")
    store_dir = s.path
    s.close()

    def crash(raw, ox):
        staging = ox.NamedNode(STAGING_PREFIX + "0123")
        mark(raw, staging)
        raw.bulk_load(input=_nt(50, "more").encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=staging)

    _crashed_store(tmp_path, crash)
    s = open_store(Settings(data_dir=tmp_path))
    try:
        assert s.graph_size("http://g/1") == 10 and s.graphs() == ["http://g/1"]
    finally:
        s.close()
    raw = ox.Store.read_only(str(store_dir))
    assert [g.value for g in raw.named_graphs()] == ["http://g/1"]  # neither the staging graph nor the marks


def test_bulk_writes_leave_no_mark_or_staging_graph(tmp_path):
    """After every kind of bulk write returns, the store holds exactly the graphs written."""
    import pyoxigraph as ox

    from kg_twin.store.pending import MARKS

    s = open_store(Settings(data_dir=tmp_path))
    f = tmp_path / "d.nt"
    f.write_text(_nt(300, "v"))
    nq = tmp_path / "d.nq"
    nq.write_text(_nt(5, "q").replace(" .\n", " <http://g/4> .\n"))
    assert s.load(str(f), format="ntriples", graph="http://g/1", bulk=True) == 300  # new graph
    s.load(_nt(3, "old"), format="ntriples", graph="http://g/2")
    assert s.load(str(f), format="ntriples", graph="http://g/2", bulk=True) == 303  # append: staging + ADD
    s.load(_nt(3, "old"), format="ntriples", graph="http://g/3")
    assert s.load(str(f), format="ntriples", graph="http://g/3", bulk=True, replace=True) == 300  # replace: redo mark
    s.load(str(nq), format="nquads", graph=None, bulk=True)  # a dataset: its new graphs marked
    store_dir = s.path
    s.close()
    raw = ox.Store.read_only(str(store_dir))
    assert not list(raw.quads_for_pattern(None, None, None, MARKS))  # no mark left (its graph may stay, empty)
    assert sorted(g.value for g in raw.named_graphs() if g != MARKS) == ["http://g/1", "http://g/2", "http://g/3", "http://g/4"]


def test_big_ntriples_load_in_blocks_reports_the_line_in_the_whole_file(disk, tmp_path, monkeypatch):
    import kg_twin.store.bulk as oxs

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


# --- pending loads: a new graph loaded while the caller checks the data, kept only on commit ---


def _size_in_snapshot(store, graph: str) -> int:
    r = store.query(QueryRequest(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", timeout_s=10))
    return int(json.loads(r.body)["results"]["bindings"][0]["n"]["value"])


def test_pending_load_is_kept_on_commit_with_added_triples(disk, tmp_path):
    f = tmp_path / "data.nt"
    f.write_text(_nt(500, "v"))
    extra = b'<http://ex/s0> <http://ex/q> "extra" .\n'
    assert _size_in_snapshot(disk, "http://g/new") == 0
    with disk.pending_load(f, format="ntriples", graph="http://g/new") as pending:
        pending.wait()
        assert disk.graph_size("http://g/new") == 500  # loaded (in-process view) ...
        with ThreadPoolExecutor(1) as pool:  # ... but a snapshot reader (another thread) does not see it yet
            assert pool.submit(_size_in_snapshot, disk, "http://g/new").result(timeout=20) == 0
        pending.add(extra)
        pending.commit()
    want = _graph(f.read_bytes() + extra, "ntriples")
    got = _graph(disk.construct("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <http://g/new> { ?s ?p ?o } }"), "ntriples")
    assert isomorphic(got, want)
    assert _size_in_snapshot(disk, "http://g/new") == 501
    assert disk.graphs() == ["http://g/new"]  # the pending mark is gone (and hidden anyway)


@pytest.mark.parametrize("how", ["no commit", "error in the block"])
def test_pending_load_is_removed_unless_committed(disk, tmp_path, how):
    f = tmp_path / "data.nt"
    f.write_text(_nt(200, "v"))
    disk.load(_nt(3, "keep"), format="ntriples", graph="http://g/other")
    with pytest.raises(RuntimeError) if how == "error in the block" else _nullcontext():
        with disk.pending_load(f, format="ntriples", graph="http://g/new") as pending:
            pending.wait()
            assert disk.graph_size("http://g/new") == 200  # loaded (in-process view)
            if how == "error in the block":
                raise RuntimeError("validation failed")
    assert not disk.has_graph("http://g/new")
    assert disk.graph_size("http://g/other") == 3
    assert disk.graphs() == ["http://g/other"]


def test_pending_load_syntax_error_names_the_line_and_leaves_nothing(disk, tmp_path):
    f = tmp_path / "bad.nt"
    f.write_text(_nt(5, "v") + "<http://ex/s> <http://ex/p> oops .\n")
    with pytest.raises(InputError) as ei:
        with disk.pending_load(f, format="ntriples", graph="http://g/new") as pending:
            pending.commit()
    assert ei.value.code == "RDF_SYNTAX" and "6" in str(ei.value.where.get("line"))
    assert not disk.has_graph("http://g/new")


def test_pending_load_refuses_an_existing_graph(disk, tmp_path):
    f = tmp_path / "data.nt"
    f.write_text(_nt(2, "v"))
    disk.load(_nt(3, "old"), format="ntriples", graph="http://g/1")
    with pytest.raises(InputError) as ei:
        with disk.pending_load(f, format="ntriples", graph="http://g/1"):
            pass
    assert ei.value.code == "PENDING_LOAD_TARGET"
    assert disk.graph_size("http://g/1") == 3


def test_interrupted_pending_load_is_removed_when_the_store_opens(tmp_path):
    """A crash inside the block: the graph is loaded and still marked pending; opening removes it."""
    import pyoxigraph as ox

    from kg_twin.store.pending import MARKS, mark

    s = open_store(Settings(data_dir=tmp_path))
    s.load(_nt(4, "keep"), format="ntriples", graph="http://g/other")
    s.close()

    def crash(raw, ox):  # what the block had written when the process died
        mark(raw, ox.NamedNode("http://g/new"))
        raw.bulk_load(input=_nt(50, "unchecked").encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("http://g/new"))

    _crashed_store(tmp_path, crash)
    s = open_store(Settings(data_dir=tmp_path))
    try:
        assert not s.has_graph("http://g/new") and s.graph_size("http://g/other") == 4
        assert not s.has_graph(MARKS.value)
    finally:
        s.close()


def test_commit_update_and_keep_are_one_transaction(disk, tmp_path):
    """A failing commit update keeps nothing: neither its effects nor the graph."""
    f = tmp_path / "data.nt"
    f.write_text(_nt(20, "v"))
    with pytest.raises(InputError):
        with disk.pending_load(f, format="ntriples", graph="http://g/new") as pending:
            pending.commit('INSERT DATA { GRAPH <http://g/prov> { <http://a> <http://b> "c" } } ; SYNTAX ERROR HERE')
    assert not disk.has_graph("http://g/new") and not disk.has_graph("http://g/prov")


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
