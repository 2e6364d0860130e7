"""W3C SPARQL 1.1 Protocol (34 tests) and Graph Store HTTP Protocol (14 tests), replayed over HTTP.

The manifests (``tests/data/w3c-sparql11``) describe request sequences; each test runs in a fresh
project of the live server. The requests are rewritten for kg-twin:

* ``/sparql/...``                 -> ``/projects/<p>/sparql...``
* ``/gsp?...`` (indirect)          -> ``/projects/<p>/graphs?...``
* ``/gsp/<name>`` (direct)         -> ``/graph/<p>/<name>`` (the graph ``{base}graph/<p>/<name>``)
* graph IRIs ``http://www.example/gsp/<name>``, ``http://kasei.us/2009/09/sparql/data/<name>``,
  ``http://example.org/<name>`` and ``http://example/<name>`` -> ``{base}graph/<p>/<name>``
  (in the URL query, raw and percent-encoded, and in bodies), because a project may only name its own graphs.
* the ``ut:graphData`` files are loaded into the mapped graphs first (with the same rewriting).

Expected status classes/codes, result formats, booleans, content types and RDF bodies (isomorphism)
are checked. Nothing is skipped unless listed in ``SKIP`` with a reason.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS

from tests.conftest import DATA, LiveServer, auth

W3C = DATA / "w3c-sparql11"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = "http://www.w3.org/2011/http-statusCodes#"

STATUS = {"OK": {200}, "Created": {201}, "NoContent": {204}, "NotFound": {404}}
for _k in range(1, 6):
    STATUS[f"StatusCode{_k}xx"] = set(range(_k * 100, _k * 100 + 100))

# test name -> reason. Keep it empty unless a test cannot apply to kg-twin.
SKIP: dict[str, str] = {}

# IRIs of the test suite that name graphs -> graph name inside the test's project
IRI_MAP = [
    ("http://www.example/gsp/", ""),
    ("http://kasei.us/2009/09/sparql/data/", ""),
    ("http://example.org/", "ex-org/"),
    ("http://example/", "ex/"),
]


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
            f = Path(str(g.value(d, UT.graph)).replace("file://", ""))
            gd.append((f, str(g.value(d, RDFS.label))))
        cases.append(Case(name, kind, reqs, gd))
    return cases


PROTOCOL_CASES = _load_cases(W3C / "protocol" / "manifest.ttl", "protocol")
GSP_CASES = _load_cases(W3C / "graph-store-protocol" / "manifest-indirect.ttl", "gsp") + _load_cases(
    W3C / "graph-store-protocol" / "manifest-direct.ttl", "gsp"
)
ALL_CASES = PROTOCOL_CASES + GSP_CASES


def test_suite_sizes() -> None:
    assert len(PROTOCOL_CASES) == 34
    assert len(GSP_CASES) == 14


# ------------------------------------------------------------------ rewriting
class Rewriter:
    def __init__(self, srv: LiveServer, project: str) -> None:
        self.srv = srv
        self.p = project
        prefix = srv.twin.naming.project_graph_prefix(project)
        self.pairs = [(old, prefix + new) for old, new in IRI_MAP]

    def text(self, s: str) -> str:
        for old, new in self.pairs:
            s = s.replace(old, new)
        return s

    def query_string(self, qs: str) -> str:
        # raw and percent-encoded forms; never decode (the server must decode exactly once)
        for old, new in self.pairs:
            qs = qs.replace(old, new)
            qs = qs.replace(quote(old, safe=""), quote(new, safe=""))
        return qs

    def path(self, path: str, kind: str) -> str:
        raw_path, sep, qs = path.partition("?")
        if raw_path.startswith("/sparql"):
            new = f"/projects/{self.p}/sparql"
        elif raw_path == "/gsp":
            new = f"/projects/{self.p}/graphs"
        elif raw_path.startswith("/gsp/"):
            new = f"/graph/{self.p}/" + raw_path[len("/gsp/") :]
        else:  # pragma: no cover - the manifests only use these
            raise AssertionError(f"unexpected path {path}")
        return new + (sep + self.query_string(qs) if sep else "")


# ------------------------------------------------------------------ checks
RESULT_TYPES = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
}
RDF_TYPES = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld"}


def _mt(ct: str | None) -> str:
    return (ct or "").split(";")[0].strip().lower()


def _boolean(r: httpx.Response) -> bool:
    mt = _mt(r.headers.get("content-type"))
    if mt == "application/sparql-results+json":
        return bool(json.loads(r.content)["boolean"])
    if mt == "application/sparql-results+xml":
        el = ET.fromstring(r.content).find("{http://www.w3.org/2005/sparql-results#}boolean")
        assert el is not None
        return el.text == "true"
    raise AssertionError(f"boolean result in unexpected media type {mt}")


def _check(req: Req, r: httpx.Response, base_for_rdf: str, rw: Rewriter) -> None:
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
        want = req.expect_content_type.replace(" ", "").lower()
        assert (r.headers.get("content-type") or "").replace(" ", "").lower() == want
    if req.expect_body is not None:
        assert mt in RDF_TYPES, mt
        got = Graph().parse(data=r.content, format=RDF_TYPES[mt], publicID=base_for_rdf)
        want_g = Graph().parse(data=rw.text(req.expect_body), format="turtle", publicID=base_for_rdf)
        assert isomorphic(got, want_g), f"graphs differ:\n{r.text}"


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_w3c(case: Case, live_server: LiveServer) -> None:
    if case.name in SKIP:
        pytest.skip(SKIP[case.name])
    srv = live_server
    project = srv.create_project("w3c")
    writer = srv.token(project, "writer")
    rw = Rewriter(srv, project)
    for f, label in case.graph_data:
        data = rw.text((W3C / "protocol" / f.name).read_text())
        srv.put_graph(project, rw.text(label)[len(srv.twin.naming.project_graph_prefix(project)) :], data, "application/n-triples")
    location: dict[str, str] = {}
    with httpx.Client(base_url=srv.url, timeout=30) as client:
        for req in case.requests:
            path = req.path
            body = req.body
            for var, val in location.items():
                path = path.replace(var, val)
                body = body.replace(var, val) if body is not None else None
            url = rw.path(path, case.kind)
            content = None
            if body is not None:
                text = rw.text(body)
                content = text.encode("utf-16" if req.encoding.upper() == "UTF-16" else "utf-8")
            headers = {k: v for k, v in req.headers.items()}
            headers.update(auth(writer))
            # send the URL as written (httpx would re-encode a parsed query string)
            r = client.send(client.build_request(req.method, httpx.URL(srv.url + url), headers=headers, content=content))
            _check(req, r, base_for_rdf=str(r.request.url), rw=rw)
            if req.expect_location:
                loc = r.headers.get("location")
                assert loc, "no Location header"
                location[req.expect_location] = loc
