"""Real SPARQL clients, unchanged, against /projects/{p}/sparql with a Bearer token:
SPARQLWrapper (JSON, XML, CSV, TSV, CONSTRUCT, updates) and rdflib's SPARQLStore / SPARQLUpdateStore."""

from __future__ import annotations

import csv
import io
import json

import pytest
from rdflib import XSD, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, JSON, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from tests.conftest import LiveServer

EX = Namespace("http://example.org/")
DATA = """@prefix ex: <http://example.org/> .
ex:ahu1 a ex:AHU ; ex:label "AHU 1" ; ex:feeds ex:vav1, ex:vav2 .
ex:vav1 a ex:VAV ; ex:label "VAV, one" .
ex:vav2 a ex:VAV ; ex:label "VAV \\"two\\"" ; ex:flow 42.5 .
"""


@pytest.fixture(scope="module")
def proj(live_server: LiveServer) -> tuple[LiveServer, str, str, str]:
    srv = live_server
    p = srv.create_project("cli")
    srv.put_graph(p, "default", DATA)
    return srv, p, srv.token(p, "reader"), srv.token(p, "writer")


def _wrapper(srv: LiveServer, p: str, token: str) -> SPARQLWrapper:
    sw = SPARQLWrapper(f"{srv.url}/projects/{p}/sparql")
    sw.addCustomHttpHeader("Authorization", f"Bearer {token}")
    return sw


SELECT = "PREFIX ex: <http://example.org/> SELECT ?s ?label WHERE { ?s ex:label ?label } ORDER BY ?s"
EXPECTED = [("http://example.org/ahu1", "AHU 1"), ("http://example.org/vav1", "VAV, one"), ("http://example.org/vav2", 'VAV "two"')]


def test_sparqlwrapper_json(proj: tuple[LiveServer, str, str, str]) -> None:
    srv, p, reader, _ = proj
    sw = _wrapper(srv, p, reader)
    sw.setQuery(SELECT)
    sw.setReturnFormat(JSON)
    res = sw.query()
    assert res.info()["content-type"].startswith("application/sparql-results+json")
    doc = res.convert()
    assert [(b["s"]["value"], b["label"]["value"]) for b in doc["results"]["bindings"]] == EXPECTED
    sw.setQuery("ASK { ?s ?p 42.5 }")
    assert sw.query().convert()["boolean"] is True


def test_sparqlwrapper_xml(proj: tuple[LiveServer, str, str, str]) -> None:
    srv, p, reader, _ = proj
    sw = _wrapper(srv, p, reader)
    sw.setQuery(SELECT)
    sw.setReturnFormat(XML)
    dom = sw.query().convert()
    ns = "http://www.w3.org/2005/sparql-results#"
    rows = []
    for result in dom.getElementsByTagNameNS(ns, "result"):
        vals = {b.getAttribute("name"): b.firstChild.firstChild.nodeValue for b in result.getElementsByTagNameNS(ns, "binding")}
        rows.append((vals["s"], vals["label"]))
    assert rows == EXPECTED


def test_sparqlwrapper_csv_tsv(proj: tuple[LiveServer, str, str, str]) -> None:
    srv, p, reader, _ = proj
    sw = _wrapper(srv, p, reader)
    sw.setQuery(SELECT)
    sw.setReturnFormat(CSV)
    text = sw.query().convert().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["s", "label"] and [tuple(r) for r in rows[1:]] == EXPECTED
    sw.setReturnFormat(TSV)
    lines = sw.query().convert().decode("utf-8").splitlines()
    assert lines[0] == "?s\t?label"
    assert lines[1] == '<http://example.org/ahu1>\t"AHU 1"'
    assert lines[3] == '<http://example.org/vav2>\t"VAV \\"two\\""'


@pytest.mark.parametrize("fmt", [TURTLE, RDFXML, N3])
def test_sparqlwrapper_construct(proj: tuple[LiveServer, str, str, str], fmt: str) -> None:
    srv, p, reader, _ = proj
    sw = _wrapper(srv, p, reader)
    sw.setQuery("CONSTRUCT WHERE { ?s ?p ?o }")
    sw.setReturnFormat(fmt)
    res = sw.query()
    body = res.response.read()
    ct = res.info()["content-type"].split(";")[0]
    got = Graph().parse(data=body, format={"text/turtle": "turtle", "application/rdf+xml": "xml", "application/n-triples": "nt", "text/n3": "n3"}[ct])
    assert isomorphic(got, Graph().parse(data=DATA, format="turtle"))


def test_sparqlwrapper_post_and_update(proj: tuple[LiveServer, str, str, str]) -> None:
    srv, p, reader, writer = proj
    sw = _wrapper(srv, p, writer)
    sw.setMethod(POST)
    sw.setQuery("PREFIX ex: <http://example.org/> INSERT DATA { ex:sw ex:label \"from SPARQLWrapper\" }")
    sw.query()
    sw.setQuery("PREFIX ex: <http://example.org/> SELECT ?l { ex:sw ex:label ?l }")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["results"]["bindings"][0]["l"]["value"] == "from SPARQLWrapper"
    sw.setQuery("PREFIX ex: <http://example.org/> DELETE WHERE { ex:sw ?p ?o }")
    sw.query()
    # a reader's update is refused with the HTTP status, which SPARQLWrapper raises
    from urllib.error import HTTPError

    from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

    ro = _wrapper(srv, p, reader)
    ro.setMethod(POST)
    ro.setQuery("INSERT DATA { <urn:x> <urn:y> <urn:z> }")
    with pytest.raises((HTTPError, SPARQLWrapperException)):
        ro.query()


def _stores(srv: LiveServer, p: str, token: str) -> tuple[SPARQLStore, SPARQLUpdateStore]:
    ep = f"{srv.url}/projects/{p}/sparql"
    headers = {"Authorization": f"Bearer {token}"}
    q = SPARQLStore(ep, headers=dict(headers))
    u = SPARQLUpdateStore(ep, ep, headers=dict(headers))
    return q, u


def test_rdflib_sparqlstore_read(proj: tuple[LiveServer, str, str, str]) -> None:
    srv, p, reader, _ = proj
    q, _ = _stores(srv, p, reader)
    g = Graph(store=q)
    labels = sorted(str(o) for o in g.objects(None, EX.label))
    assert labels == sorted(label for _, label in EXPECTED)
    res = g.query(SELECT)
    assert [(str(r.s), str(r.label)) for r in res] == EXPECTED
    assert (EX.vav2, EX.flow, Literal("42.5", datatype=XSD.decimal)) in g
    assert len(list(g.triples((EX.ahu1, EX.feeds, None)))) == 2


def test_rdflib_sparqlupdatestore_named_graphs(proj: tuple[LiveServer, str, str, str]) -> None:
    srv, p, reader, writer = proj
    _, u = _stores(srv, p, writer)
    gname = URIRef(srv.graph_iri(p, "rdflib"))
    ds = Dataset(store=u)
    g = ds.graph(gname)
    g.add((EX.s1, EX.label, Literal("one")))
    g.add((EX.s2, EX.label, Literal("two", lang="en")))
    g.addN([(EX.s3, EX.label, Literal(3), g)])
    assert len(g) == 3
    assert (EX.s2, EX.label, Literal("two", lang="en")) in g
    g.remove((EX.s1, None, None))
    assert sorted(str(o) for o in g.objects(None, EX.label)) == ["3", "two"]
    # the server agrees (GSP read, reader token)
    with srv.client(reader) as c:
        r = c.get(f"/graph/{p}/rdflib", headers={"Accept": "text/turtle"})
        assert r.status_code == 200
        want = Graph()
        want.add((EX.s2, EX.label, Literal("two", lang="en")))
        want.add((EX.s3, EX.label, Literal(3)))
        assert isomorphic(Graph().parse(data=r.text, format="turtle"), want)
    # named graphs are listed (the project's unnamed default graph is not a named graph), graph-scoped queries see only that graph
    contexts = {str(c.identifier) for c in ds.graphs()}
    assert str(gname) in contexts and srv.graph_iri(p, "default") not in contexts
    res = list(g.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"))
    assert int(res[0][0]) == 2
    ds.remove_graph(g)
    with srv.client(reader) as c:
        assert c.get(f"/graph/{p}/rdflib").status_code == 404
    # any IRI names a graph of this project (a project is a dataset), even one that looks like
    # another project's: it is the caller's own graph, read back under the same name
    _, u3 = _stores(srv, p, writer)
    foreign_name = URIRef(srv.graph_iri("someone-else", "g"))
    foreign = Graph(store=u3, identifier=foreign_name)
    foreign.add((EX.x, EX.y, EX.z))
    q, _ = _stores(srv, p, reader)
    back = Graph(store=q, identifier=foreign_name)
    assert set(back) == {(EX.x, EX.y, EX.z)}
    assert not any(g.startswith(srv.graph_iri("someone-else", "")) for g in srv.twin.store.graphs())


def test_rdflib_batched_edits_with_prologues(proj: tuple[LiveServer, str, str, str]) -> None:
    """autocommit=False: rdflib joins several updates, each with its own PREFIX block, by ';'."""
    srv, p, reader, writer = proj
    ep = f"{srv.url}/projects/{p}/sparql"
    u = SPARQLUpdateStore(ep, ep, headers={"Authorization": f"Bearer {writer}"}, autocommit=False)
    g = Graph(store=u, identifier=URIRef(srv.graph_iri(p, "batch")))
    g.add((EX.b1, EX.label, Literal("b1")))
    g.add((EX.b2, EX.label, Literal("b2")))
    g.remove((EX.b1, None, None))
    u.commit()
    with srv.client(reader) as c:
        r = c.get(f"/graph/{p}/batch", headers={"Accept": "application/n-triples"})
        assert r.status_code == 200 and '"b2"' in r.text and '"b1"' not in r.text
