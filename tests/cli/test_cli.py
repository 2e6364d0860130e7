"""The `kg-twin` command line, run as a subprocess (`python -m kg_twin`) on a temporary data dir.

Exit codes: 0 ok, 1 failure, 2 usage or runtime error; data on stdout, messages on stderr.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://twin.test/"

TTL = """@prefix ex: <http://example.org/> .
ex:ahu1 a ex:AHU ; ex:label "AHU 1" ; ex:feeds ex:vav1 .
ex:vav1 a ex:VAV ; ex:label "VAV, one" .
"""
NQ = f"""<http://example.org/s1> <http://example.org/p> "in sensors" <{BASE}graph/site/sensors> .
<http://example.org/s2> <http://example.org/p> <http://example.org/o> <{BASE}graph/site/links> .
"""


def kg(data_dir: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KG_TWIN_BASE_IRI": BASE}
    env.pop("KG_TWIN_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "kg_twin", *args, "--data-dir", str(data_dir)] if args and args[0] not in ("--help",) else [sys.executable, "-m", "kg_twin", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


def ok(p: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p


def quads(text: str) -> Graph:
    """N-Quads as one graph of triples plus (s, urn:in, g) markers (test data has no blank nodes)."""
    from rdflib import URIRef

    ds = Dataset()
    ds.parse(data=text, format="nquads")
    g = Graph()
    for s, p, o, c in ds.quads((None, None, None, None)):
        g.add((s, p, o))
        g.add((s, URIRef("urn:in"), URIRef(str(c))))
    return g


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with project 'site': Turtle in graph 'assets', N-Quads in 'sensors' and 'links'."""
    d = tmp_path_factory.mktemp("cli")
    files = tmp_path_factory.mktemp("files")
    (files / "assets.ttl").write_text(TTL)
    (files / "site.nq").write_text(NQ)
    p = ok(kg(d / "data", "project", "create", "site", "--title", "Site A", "--description", "demo"))
    assert "created project site" in p.stderr and p.stdout == ""
    ok(kg(d / "data", "load", str(files / "assets.ttl"), "-p", "site"))
    ok(kg(d / "data", "load", str(files / "site.nq"), "-p", "site"))
    return d / "data"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_project_lifecycle(tmp_path: Path) -> None:
    d = tmp_path / "data"
    ok(kg(d, "project", "create", "alpha", "--public", "--title", "Alpha"))
    ok(kg(d, "project", "create", "beta"))
    p = kg(d, "project", "create", "alpha")
    assert p.returncode == 2 and "PROJECT_EXISTS" in p.stderr and p.stdout == ""
    p = kg(d, "project", "create", "Bad Id!")
    assert p.returncode == 2 and "BAD_PROJECT_ID" in p.stderr and "hint" in p.stderr
    lines = ok(kg(d, "project", "list")).stdout.strip().splitlines()
    assert [ln.split("\t")[:3] for ln in lines] == [["alpha", "Alpha", "public"], ["beta", "beta", "private"]]
    listed = json.loads(ok(kg(d, "project", "list", "--json")).stdout)
    assert {x["id"] for x in listed} == {"alpha", "beta"}
    shown = json.loads(ok(kg(d, "project", "show", "alpha")).stdout)
    assert shown["id"] == "alpha" and shown["public"] is True and f"{BASE}graph/alpha/default" in shown["graphs"]
    p = kg(d, "project", "show", "nope")
    assert p.returncode == 2 and "PROJECT_NOT_FOUND" in p.stderr
    ok(kg(d, "project", "delete", "beta", "--yes"))
    p = kg(d, "project", "delete", "alpha", input="n\n")
    assert p.returncode == 1  # declined
    assert [ln.split("\t")[0] for ln in ok(kg(d, "project", "list")).stdout.strip().splitlines()] == ["alpha"]
    p = kg(d, "project", "delete", "beta", "--yes")
    assert p.returncode == 2 and "PROJECT_NOT_FOUND" in p.stderr


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_load_query_formats(site: Path, tmp_path: Path) -> None:
    q = "PREFIX ex: <http://example.org/> SELECT ?s ?l WHERE { ?s ex:label ?l } ORDER BY ?s"
    table = ok(kg(site, "query", q, "-p", "site")).stdout
    assert "AHU 1" in table and "VAV, one" in table
    doc = json.loads(ok(kg(site, "query", q, "-p", "site", "-f", "json")).stdout)
    assert [(b["s"]["value"], b["l"]["value"]) for b in doc["results"]["bindings"]] == [
        ("http://example.org/ahu1", "AHU 1"),
        ("http://example.org/vav1", "VAV, one"),
    ]
    rows = list(csv.reader(io.StringIO(ok(kg(site, "query", q, "-p", "site", "-f", "csv")).stdout)))
    assert rows == [["s", "l"], ["http://example.org/ahu1", "AHU 1"], ["http://example.org/vav1", "VAV, one"]]
    # named graphs from the N-Quads file
    qg = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    doc = json.loads(ok(kg(site, "query", qg, "-p", "site", "-f", "json")).stdout)
    counts = {b["g"]["value"]: int(b["n"]["value"]) for b in doc["results"]["bindings"]}
    assert counts == {f"{BASE}graph/site/assets": 5, f"{BASE}graph/site/links": 1, f"{BASE}graph/site/sensors": 1}
    assert ok(kg(site, "query", "ASK { ?s ?p \"in sensors\" }", "-p", "site")).stdout.strip() == "true"
    # CONSTRUCT as Turtle; query from a file
    (tmp_path / "c.rq").write_text("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <%sgraph/site/assets> { ?s ?p ?o } }" % BASE)
    out = ok(kg(site, "query", f"@{tmp_path / 'c.rq'}", "-p", "site", "-f", "turtle")).stdout
    assert isomorphic(Graph().parse(data=out, format="turtle"), Graph().parse(data=TTL, format="turtle"))
    # errors: syntax (stderr, exit 2), unknown project, N-Quads naming another project's graph
    p = kg(site, "query", "SELECT * {", "-p", "site")
    assert p.returncode == 2 and "SPARQL_SYNTAX" in p.stderr and p.stdout == ""
    p = kg(site, "query", "ASK {}", "-p", "nope")
    assert p.returncode == 2 and "PROJECT_NOT_FOUND" in p.stderr
    # a dataset file keeps its graph IRIs, whatever they are (a project is an RDF dataset)
    own = tmp_path / "own.trig"
    own.write_text(f'<urn:a> <urn:b> "in default" . <{BASE}graph/other/x> {{ <urn:a> <urn:b> "named like other" }} '
                   f'<http://example.org/g> {{ <urn:a> <urn:b> "ex-g" }}\n')
    ok(kg(site, "load", str(own), "-p", "site"))
    out = ok(kg(site, "query", "SELECT ?g ?o { { GRAPH ?g { <urn:a> <urn:b> ?o } } UNION { <urn:a> <urn:b> ?o FILTER(?o = \"in default\") } }", "-p", "site", "-f", "csv")).stdout
    rows = {tuple(r) for r in csv.reader(io.StringIO(out))}
    assert rows == {("g", "o"), (f"{BASE}graph/other/x", "named like other"), ("http://example.org/g", "ex-g"), ("", "in default")}, rows
    ok(kg(site, "update", f'DROP GRAPH <{BASE}graph/other/x> ; DROP GRAPH <http://example.org/g> ; DELETE DATA {{ <urn:a> <urn:b> "in default" }}', "-p", "site"))
    bad = tmp_path / "bad.nq"
    bad.write_text(f"<urn:a> <urn:b> <urn:c> <{BASE}graph/site/_staging/x> .\n")
    p = kg(site, "load", str(bad), "-p", "site")
    assert p.returncode == 2 and "RESERVED_GRAPH" in p.stderr
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix ex: <http://e/> .\nex:a ex:b .\n")
    p = kg(site, "load", str(broken), "-p", "site")
    assert p.returncode == 2 and "RDF_SYNTAX" in p.stderr and "line 2" in p.stderr
    p = kg(site, "load", str(tmp_path / "missing.ttl"), "-p", "site")
    assert p.returncode == 2 and "FILE_NOT_FOUND" in p.stderr


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_update_export_backup_restore(site: Path, tmp_path: Path) -> None:
    ok(kg(site, "update", 'INSERT DATA { <http://example.org/new> <http://example.org/label> "added" }', "-p", "site"))
    p = kg(site, "update", "DROP GRAPH <http://elsewhere/g>", "-p", "site")
    assert p.returncode == 2 and "GRAPH_NOT_FOUND" in p.stderr  # a graph of this project that does not exist
    p = kg(site, "update", "LOAD <http://example.org/x>", "-p", "site")
    assert p.returncode == 2 and "LOAD_DISABLED" in p.stderr
    exported = ok(kg(site, "export", "-p", "site")).stdout
    expected = quads(NQ)
    ds_ttl = Graph().parse(data=TTL, format="turtle")
    from rdflib import Literal, URIRef

    for s, pr, o in ds_ttl:
        expected.add((s, pr, o))
        expected.add((s, URIRef("urn:in"), URIRef(f"{BASE}graph/site/assets")))
    new = URIRef("http://example.org/new")
    expected.add((new, URIRef("http://example.org/label"), Literal("added")))
    # the project's unnamed default graph is the export's default graph
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    expected.add((new, URIRef("urn:in"), URIRef(str(DATASET_DEFAULT_GRAPH_ID))))
    assert isomorphic(quads(exported), expected)
    # TriG to a file
    out = tmp_path / "site.trig"
    ok(kg(site, "export", "-p", "site", "-f", "trig", "-o", str(out)))
    ds = Dataset()
    ds.parse(out, format="trig")
    nq = ds.serialize(format="nquads")
    assert isomorphic(quads(nq), expected)
    p = kg(site, "export", "-p", "site", "-f", "turtle")
    assert p.returncode == 2 and "BAD_FORMAT" in p.stderr
    # backup, change, restore: back to the exported state (tokens too)
    tok = ok(kg(site, "token", "create", "-p", "site", "-r", "reader")).stdout.strip()
    backup = tmp_path / "bk"
    ok(kg(site, "backup", str(backup)))
    p = kg(site, "backup", str(backup))
    assert p.returncode == 2 and "TARGET_EXISTS" in p.stderr
    ok(kg(site, "update", "DROP ALL", "-p", "site"))
    assert ok(kg(site, "query", "ASK { GRAPH ?g { ?s ?p ?o } }", "-p", "site")).stdout.strip() == "false"
    ok(kg(site, "restore", str(backup), "--yes"))
    assert isomorphic(quads(ok(kg(site, "export", "-p", "site")).stdout), expected)
    assert tok.split("_")[1] in ok(kg(site, "token", "list")).stdout
    p = kg(site, "restore", str(tmp_path / "nothing"), "--yes")
    assert p.returncode == 2 and "BAD_BACKUP" in p.stderr


def test_tokens(tmp_path: Path) -> None:
    d = tmp_path / "data"
    ok(kg(d, "project", "create", "t1"))
    p = ok(kg(d, "token", "create", "-p", "t1", "-r", "writer", "--label", "ci"))
    secret = p.stdout.strip()
    assert secret.startswith("kgt_") and len(p.stdout.strip().splitlines()) == 1 and "not shown again" in p.stderr
    tid = secret.split("_")[1]
    star = ok(kg(d, "token", "create", "-p", "*", "-r", "admin")).stdout.strip()
    rows = [ln.split("\t") for ln in ok(kg(d, "token", "list")).stdout.strip().splitlines()]
    assert {(r[0], r[1], r[2], r[3]) for r in rows} == {(tid, "t1", "writer", "active"), (star.split("_")[1], "*", "admin", "active")}
    assert secret not in ok(kg(d, "token", "list")).stdout
    assert [r[0] for r in (ln.split("\t") for ln in ok(kg(d, "token", "list", "-p", "t1")).stdout.strip().splitlines())] == [tid]
    ok(kg(d, "token", "revoke", tid))
    assert f"{tid}\tt1\twriter\trevoked" in ok(kg(d, "token", "list")).stdout
    p = kg(d, "token", "revoke", "doesnotexist")
    assert p.returncode == 1 and "TOKEN_NOT_FOUND" in p.stderr
    p = kg(d, "token", "create", "-p", "t1", "-r", "superuser")
    assert p.returncode == 2 and "BAD_ROLE" in p.stderr and p.stdout == ""
    p = kg(d, "token", "create", "-p", "Not Valid", "-r", "reader")
    assert p.returncode == 2 and "BAD_PROJECT_ID" in p.stderr


def test_usage_errors(tmp_path: Path) -> None:
    p = kg(tmp_path, "query")  # missing argument
    assert p.returncode == 2 and "Missing argument" in p.stderr and p.stdout == ""
    p = kg(tmp_path, "no-such-command")
    assert p.returncode == 2
    p = kg(tmp_path, "load", "x.ttl")  # missing --project
    assert p.returncode == 2 and "--project" in p.stderr
    p = subprocess.run([sys.executable, "-m", "kg_twin", "--help"], cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0 and "project" in p.stdout and "token" in p.stdout
