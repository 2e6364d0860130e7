"""W3C SPARQL 1.1 Protocol (34 tests) and Graph Store HTTP Protocol (14 tests), replayed over HTTP.

The manifests (``tests/data/w3c-sparql11``) describe request sequences; they run unchanged: same
methods, headers, bodies, query strings and graph IRIs (``http://kasei.us/...``, ``http://www.example/...``).
Each test runs on a fresh dataset of the server (``tests/w3c/servers.py``); the ``ut:graphData`` files are
first loaded into the graphs their ``rdfs:label`` names. Only the server part of the request path is
mapped, the way the suite expects an implementation to say where its endpoints are:

=================  =====================================  =====================================
suite path          kg-twin (project ``p``)                oxigraph serve
=================  =====================================  =====================================
``/sparql/?...``    ``/projects/p/sparql?...``             ``/query?...`` (``/update`` for updates)
``/gsp?...``        ``/projects/p/graphs?...``             ``/store?...``
``/gsp/<name>``     :data:`KG_TWIN_DIRECT_GSP` + ``<name>``  ``/store/<name>``
=================  =====================================  =====================================

Direct identification: the graph is the one whose IRI is the request URL, so ``/gsp/person/1.ttl`` names
a graph ``{server}/projects/p/graphs/person/1.ttl`` on kg-twin (one graph-store base URL, indirect and
direct). Expected status classes/codes, result formats, booleans, content types and RDF bodies
(isomorphism) are checked. Expected failures are listed with their cause in :data:`KNOWN`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin

import httpx
import pytest
from rdflib import Graph, Namespace
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS

from tests.conftest import DATA
from tests.w3c.conftest import backend, kg_twin_backend, kg_twin_on_oxigraph_backend, kg_twin_on_virtuoso_backend, oxigraph_backend, oxigraph_url  # noqa: F401 (fixtures)
from tests.w3c.servers import Backend, Target

W3C = DATA / "w3c-sparql11"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = "http://www.w3.org/2011/http-statusCodes#"

STATUS = {"OK": {200}, "Created": {201}, "NoContent": {204}, "NotFound": {404}}
for _k in range(1, 6):
    STATUS[f"StatusCode{_k}xx"] = set(range(_k * 100, _k * 100 + 100))

# Where a kg-twin project serves direct graph identification: the suite's ``/gsp/<name>`` goes to
# this path + ``<name>`` (``{p}`` is the project). The graph store base URL of the design: indirect
# identification is ``/projects/{p}/graphs?graph=``, direct is below the same URL.
KG_TWIN_DIRECT_GSP = "/projects/{p}/graphs/"

# Expected failures: backend -> test name -> cause (strict: remove an entry when the test passes).
OX_MULTIPART = "POST of multipart/form-data (the GSP's file upload) answered 415"
OX_HEAD = "HEAD of an existing graph answered without a Content-Type"
KNOWN: dict[str, dict[str, str]] = {
    "oxigraph": {
        "post_get_post_get_indirect": OX_MULTIPART,
        "post_get_post_get_direct": OX_MULTIPART,
        "head_existing_indirect": OX_HEAD,
        "head_existing_direct": OX_HEAD,
    },
    "kg-twin": {},
    "kg-twin@oxigraph": {},
    "kg-twin@virtuoso": {},
}


@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    encoding: str
    expect_status: set[int]
    expect_boolean: bool | None = None
    expect_format: str | None = None
    expect_content_type: str | None = None
    expect_body: str | None = None
    expect_location: str | None = None


@dataclass
class Case:
    name: str
    kind: str  # protocol | gsp
    requests: list[Req]
    graph_data: list[tuple[Path, str]] = field(default_factory=list)


def _headers(g: Graph, node: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    lst = g.value(node, HT.headers)
    if lst is None:
        return out
    for h in Collection(g, lst):
        out[str(g.value(h, HT.fieldName)).lower()] = str(g.value(h, HT.fieldValue))
    return out


def _load_cases(manifest: Path, kind: str) -> list[Case]:
    g = Graph()
    g.parse(manifest, format="turtle", publicID=manifest.as_uri())
    root = g.value(predicate=RDF.type, object=MF.Manifest)
    cases = []
    tests = list(Collection(g, g.value(root, MF.entries)))
    # manifest-direct.ttl defines head_non_existing_direct without listing it in mf:entries: run it too
    for t in (MF.ProtocolTest, MF.GraphStoreProtocolTest):
        tests += sorted(set(g.subjects(RDF.type, t)) - set(tests))
    for test in tests:
        name = str(test).rsplit("#", 1)[-1]
        action = g.value(test, MF.action)
        reqs = []
        for r in Collection(g, g.value(action, HT.requests)):
            resp = g.value(r, HT.resp)
            body_node = g.value(r, HT.body)
            statuses: set[int] = set()
            for s in g.objects(resp, MF.expectedStatus):
                statuses |= STATUS[str(s)[len(HTS) :]]
            rbody = g.value(resp, HT.body)
            eb = g.value(resp, MF.expectedBoolean)
            reqs.append(
                Req(
                    method=str(g.value(r, HT.methodName)),
                    path=str(g.value(r, HT.absolutePath)),
                    headers=_headers(g, r),
                    body=str(g.value(body_node, CNT.chars)) if body_node is not None else None,
                    encoding=str(g.value(body_node, CNT.characterEncoding) or "UTF-8") if body_node is not None else "UTF-8",
                    expect_status=statuses,
                    expect_boolean=None if eb is None else eb.toPython(),
                    expect_format=str(g.value(resp, MF.expectedFormat)) if g.value(resp, MF.expectedFormat) else None,
                    expect_content_type=_headers(g, resp).get("content-type"),
                    expect_body=str(g.value(rbody, CNT.chars)) if rbody is not None else None,
                    expect_location=str(g.value(resp, MF.expectedLocation)) if g.value(resp, MF.expectedLocation) else None,
                )
            )
        gd = []
        for d in g.objects(test, UT.graphData):
            f = Path(str(g.value(d, UT.graph))[len("file://") :])
            gd.append((f, str(g.value(d, RDFS.label))))
        cases.append(Case(name, kind, reqs, gd))
    return cases


PROTOCOL_CASES = _load_cases(W3C / "protocol" / "manifest.ttl", "protocol")
GSP_CASES = _load_cases(W3C / "graph-store-protocol" / "manifest-indirect.ttl", "gsp") + _load_cases(
    W3C / "graph-store-protocol" / "manifest-direct.ttl", "gsp"
)
ALL_CASES = PROTOCOL_CASES + GSP_CASES
BACKENDS = ["oxigraph", "kg-twin", "kg-twin@oxigraph", "kg-twin@virtuoso"]  # kg-twin@X: kg-twin on the external engine X


def test_suite_sizes() -> None:
    assert len(PROTOCOL_CASES) == 34
    assert len(GSP_CASES) == 14
    names = {c.name for c in ALL_CASES}
    for b in BACKENDS:
        assert set(KNOWN[b]) <= names, set(KNOWN[b]) - names


# ------------------------------------------------------------------ the server part of the path
def _is_update(req: Req, query_string: str) -> bool:
    """Whether a ``/sparql/`` request is an update (oxigraph serves updates on another path). The
    protocol sends updates by POST only: a GET goes to the query endpoint, whatever it carries."""
    if req.method != "POST":
        return False
    params = parse_qs(query_string, keep_blank_values=True)
    ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/sparql-update" or {"update", "using-graph-uri", "using-named-graph-uri"} & set(params):
        return True
    if ctype == "application/x-www-form-urlencoded" and req.body is not None:
        return "update" in parse_qs(req.body, keep_blank_values=True)
    return False


def map_path(backend: Backend, target: Target, req: Req, path: str) -> str:
    """The suite's request path on this server: only the endpoint prefix changes."""
    raw_path, sep, qs = path.partition("?")
    if raw_path.rstrip("/") == "/sparql":
        endpoint = target.update_url if _is_update(req, qs) else target.query_url
    elif raw_path == "/gsp":
        endpoint = target.store_url
    elif raw_path.startswith("/gsp/"):
        name = raw_path[len("/gsp/") :]
        if backend.name.startswith("kg-twin"):
            endpoint = backend.srv.url + KG_TWIN_DIRECT_GSP.format(p=target.project) + name  # type: ignore[attr-defined]
        else:
            endpoint = target.store_url + "/" + name
    else:  # pragma: no cover - the manifests only use these
        raise AssertionError(f"unexpected path {path}")
    return endpoint + (sep + qs if sep else "")


# ------------------------------------------------------------------ checks
RESULT_TYPES = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
}
# RDF serializations a graph may come in (N-Quads holding one graph, without graph names, is N-Triples)
RDF_TYPES = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld", "application/n-quads": "nt"}


def _mt(ct: str | None) -> str:
    return (ct or "").split(";")[0].strip().lower()


def _charset(ct: str) -> str | None:
    for part in ct.split(";")[1:]:
        k, _, v = part.partition("=")
        if k.strip().lower() == "charset":
            return v.strip().strip('"').lower()
    return None


def _boolean(r: httpx.Response) -> bool:
    mt = _mt(r.headers.get("content-type"))
    if mt == "application/sparql-results+json":
        return bool(json.loads(r.content)["boolean"])
    if mt == "application/sparql-results+xml":
        el = ET.fromstring(r.content).find("{http://www.w3.org/2005/sparql-results#}boolean")
        assert el is not None
        return el.text == "true"
    raise AssertionError(f"boolean result in unexpected media type {mt}")


def _check(req: Req, r: httpx.Response, base_for_rdf: str) -> None:
    assert r.status_code in req.expect_status, f"{req.method} {r.request.url}: {r.status_code} not in {sorted(req.expect_status)[:5]}...: {r.text[:300]}"
    mt = _mt(r.headers.get("content-type"))
    if req.expect_format == "boolean":
        assert mt in ("application/sparql-results+json", "application/sparql-results+xml"), mt
        if req.expect_boolean is not None:
            assert _boolean(r) is req.expect_boolean, r.text
    elif req.expect_format == "tabular":
        assert mt in RESULT_TYPES, mt
        if mt.endswith("json"):
            doc = json.loads(r.content)
            assert doc["head"]["vars"] == ["value"] and doc["results"]["bindings"][0]["value"]["value"] == "1"
    elif req.expect_format == "RDF":
        assert mt in RDF_TYPES, mt
        Graph().parse(data=r.content, format=RDF_TYPES[mt])  # well-formed
    if req.expect_content_type:
        # the media type must match; a charset, when the response names one, too (text/turtle is UTF-8
        # by its registration, so "text/turtle" and "text/turtle; charset=utf-8" say the same)
        got_ct = r.headers.get("content-type") or ""
        assert _mt(got_ct) == _mt(req.expect_content_type), f"content type {got_ct!r}, expected {req.expect_content_type!r}"
        got_cs = _charset(got_ct)
        assert got_cs in (None, _charset(req.expect_content_type) or "utf-8"), f"content type {got_ct!r}, expected {req.expect_content_type!r}"
    if req.expect_body is not None:
        assert mt in RDF_TYPES, mt
        got = Graph().parse(data=r.content, format=RDF_TYPES[mt], publicID=base_for_rdf)
        want_g = Graph().parse(data=req.expect_body, format="turtle", publicID=base_for_rdf)
        assert isomorphic(got, want_g), f"graphs differ:\n{r.text}"


def _params() -> list[object]:
    out = []
    for b in BACKENDS:
        for c in ALL_CASES:
            marks = [pytest.mark.xfail(reason=KNOWN[b][c.name], strict=True)] if c.name in KNOWN[b] else []
            out.append(pytest.param(b, c, id=f"{b}-{c.name}", marks=marks))
    return out


@pytest.mark.parametrize(("backend", "case"), _params(), indirect=["backend"])
def test_w3c(backend: Backend, case: Case) -> None:
    target = backend.fresh()
    for f, label in case.graph_data:  # loaded as published: the graph its rdfs:label names
        target.load(label, W3C / "protocol" / f.name, replace=True)
    location: dict[str, str] = {}
    with httpx.Client(timeout=30) as client:  # the test's ht:Connection
        _replay(backend, target, case, client, location)


def _replay(backend: Backend, target: Target, case: Case, client: httpx.Client, location: dict[str, str]) -> None:
    for req in case.requests:
        path = req.path
        body = req.body
        for var, val in location.items():
            path = path.replace(var, val)
            body = body.replace(var, val) if body is not None else None
        url = map_path(backend, target, req, path)
        content = None
        if body is not None:
            content = body.encode("utf-16" if req.encoding.upper() == "UTF-16" else "utf-8")
        headers = {**req.headers, **target.headers}
        # send the URL as written (httpx would re-encode a parsed query string)
        r = client.send(client.build_request(req.method, httpx.URL(url), headers=headers, content=content))
        _check(req, r, base_for_rdf=str(r.request.url))
        if req.expect_location:
            loc = r.headers.get("location")
            assert loc, "no Location header"
            location[req.expect_location] = urljoin(str(r.request.url), loc)
