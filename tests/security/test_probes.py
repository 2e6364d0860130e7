"""Issue 13 probes, kept as tests: hostile or careless input gets a 4xx, the server (its own
process) survives every one, and no request makes it open a connection the allow-list does not name."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

RQ = "application/sparql-query"
RU = "application/sparql-update"
DEEP = 3000  # measured: pyoxigraph's parser segfaults the process from ~2,200 nested braces


def nested_select(depth: int) -> str:
    return "SELECT ?this WHERE " + "{" * depth + " ?this ?p ?o " + "}" * depth


def sparql_shapes(select: str) -> str:
    return f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:Thing ;
  sh:sparql [ sh:message "probe" ; sh:select \"\"\"{select}\"\"\" ] .
"""


@pytest.fixture(scope="module")
def world(server: Any) -> dict[str, Any]:
    pub = server.create_project("pub", public=True)
    h = {"Authorization": f"Bearer {server.admin}"}
    r = httpx.put(f"{server.url}/projects/{pub}/graphs", params={"graph": f"{server.url}/graph/{pub}/data"},
                  content=b"<http://example.org/a> a <http://example.org/Thing> .", headers={"Content-Type": "text/turtle", **h}, timeout=30)
    assert r.status_code in (201, 204), r.text
    return {"pub": pub, "admin": h, "writer": {"Authorization": f"Bearer {server.token(pub, 'writer')}"}}


def expect_4xx(server: Any, r: httpx.Response, *codes: str) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    if codes:
        assert any(c in r.text for c in codes), r.text[:500]
    assert server.alive(), "the server died"


# ---------------------------------------------------------------- probe 1: nesting
def test_validate_deep_sh_select_anonymous(server: Any, world: dict) -> None:
    r = httpx.post(f"{server.url}/projects/{world['pub']}/validate", content=sparql_shapes(nested_select(DEEP)),
                   headers={"Content-Type": "text/turtle"}, timeout=30)
    expect_4xx(server, r, "SPARQL_TOO_DEEP")
    assert "KG_TWIN_MAX_SPARQL_DEPTH" in r.text


def test_deep_update_writer(server: Any, world: dict) -> None:
    text = "INSERT { ?s ?p ?o } WHERE " + "{" * DEEP + " ?s ?p ?o " + "}" * DEEP
    r = httpx.post(f"{server.url}/projects/{world['pub']}/sparql", content=text, headers={"Content-Type": RU, **world["writer"]}, timeout=30)
    expect_4xx(server, r, "SPARQL_TOO_DEEP")


@pytest.mark.parametrize("depth", [DEEP, 5000])
def test_deep_query(server: Any, world: dict, depth: int) -> None:
    r = httpx.post(f"{server.url}/projects/{world['pub']}/sparql", content=nested_select(depth), headers={"Content-Type": RQ}, timeout=30)
    expect_4xx(server, r, "SPARQL_TOO_DEEP")


def test_deep_named_query_put(server: Any, world: dict) -> None:
    text = "#+ summary: deep\n" + nested_select(DEEP)
    r = httpx.put(f"{server.url}/projects/{world['pub']}/queries/deep", content=text, headers={"Content-Type": RQ, **world["admin"]}, timeout=30)
    expect_4xx(server, r, "SPARQL_TOO_DEEP")


def test_deep_jsonld_upload(server: Any, world: dict) -> None:
    depth = 20000  # pyoxigraph's JSON-LD parser segfaults from ~10,000
    doc = '{"@id":"http://s","http://p":' + '{"http://p":' * depth + "1" + "}" * depth + "}"
    r = httpx.put(f"{server.url}/projects/{world['pub']}/graphs", params={"graph": f"{server.url}/graph/{world['pub']}/deep"},
                  content=doc.encode(), headers={"Content-Type": "application/ld+json", **world["writer"]}, timeout=60)
    expect_4xx(server, r, "RDF_TOO_DEEP")


@pytest.mark.parametrize("path", ["rules", "observations", "validate"])
def test_json_nested_100k(server: Any, world: dict, path: str) -> None:
    body = "[" * 100_000 + "]" * 100_000
    r = httpx.post(f"{server.url}/projects/{world['pub']}/{path}", content=body, headers={"Content-Type": "application/json", **world["writer"]}, timeout=30)
    expect_4xx(server, r, "JSON_TOO_DEEP")
    assert "KG_TWIN_MAX_NESTING_DEPTH" in r.text


# ---------------------------------------------------------------- probe 3: YAML alias bombs
BOMB = "\n".join(["x0: &a0 [y, y, y, y, y, y, y, y, y]"] + [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)])


def test_named_query_alias_bomb(server: Any, world: dict) -> None:
    deco = ["#+ summary: bomb", "#+ x0: &a0 [y, y, y, y, y, y, y, y, y]"]
    deco += [f"#+ x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    text = "\n".join(deco + ["#+ tags: *a8", "SELECT * WHERE { ?s ?p ?o }"])
    t0 = time.monotonic()
    r = httpx.put(f"{server.url}/projects/{world['pub']}/queries/bomb", content=text, headers={"Content-Type": RQ, **world["admin"]}, timeout=30)
    expect_4xx(server, r, "YAML_TOO_LARGE")
    assert "KG_TWIN_MAX_YAML_NODES" in r.text
    assert time.monotonic() - t0 < 10
    assert len(httpx.get(f"{server.url}/projects/{world['pub']}/queries", headers=world["admin"], timeout=30).content) < 1_000_000


def test_ingest_mapping_alias_bomb(server: Any, world: dict) -> None:
    files = [("file", ("points.csv", b"name,type\nT1,temp\n", "text/csv")), ("mapping", ("mapping.yml", (BOMB + "\nhandler: table\n").encode(), "application/yaml"))]
    r = httpx.post(f"{server.url}/projects/{world['pub']}/ingest", files=files, headers=world["writer"], timeout=60)
    expect_4xx(server, r, "YAML_TOO_LARGE")


# ---------------------------------------------------------------- probe 2: one outbound policy
def test_validate_service_to_loopback_is_refused_before_any_connection(server: Any, world: dict, listener: Any) -> None:
    select = f"SELECT ?this WHERE {{ SERVICE <{listener.url}sparql> {{ ?this ?p ?o }} }}"
    for engine in ("auto", "pyshacl"):
        body = json.dumps({"shapes": sparql_shapes(select), "engine": engine})
        r = httpx.post(f"{server.url}/projects/{world['pub']}/validate", content=body, headers={"Content-Type": "application/json"}, timeout=30)
        # SHACL-SPARQL forbids SERVICE in sh:select (SHACL 5.2.1): refused on that ground before the allow-list is asked
        expect_4xx(server, r, "SHACL_SPARQL_UNSUPPORTED_SYNTAX", "SERVICE_NOT_ALLOWED")
    time.sleep(0.3)
    assert listener.connections == []


def test_jsonld_shapes_remote_context_is_never_fetched(server: Any, world: dict, listener: Any) -> None:
    doc = json.dumps({"@context": listener.url + "ctx.jsonld", "@id": "http://example.org/S", "@type": "http://www.w3.org/ns/shacl#NodeShape"})
    r = httpx.post(f"{server.url}/projects/{world['pub']}/validate", content=doc, headers={"Content-Type": "application/ld+json"}, timeout=30)
    assert r.status_code < 500, r.text
    assert server.alive()
    time.sleep(0.3)
    assert listener.connections == []


def test_named_query_check_does_not_call_an_allowlisted_service(make_server: Any, listener: Any) -> None:
    srv = make_server(service_allowlist=[listener.url])
    pid = srv.create_project("fed")
    h = {"Authorization": f"Bearer {srv.admin}", "Content-Type": RQ}
    text = f"#+ summary: remote\nSELECT ?s WHERE {{ SERVICE <{listener.url}sparql> {{ ?s ?p ?o }} }}"
    r = httpx.put(f"{srv.url}/projects/{pid}/queries/remote", content=text, headers=h, timeout=30)
    assert r.status_code in (200, 201), r.text
    time.sleep(0.3)
    assert listener.connections == [], "checking a named query called its SERVICE"
    # running it does call the allow-listed endpoint; a non-SPARQL answer is a 502, never a 500
    listener.reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\nConnection: close\r\n\r\n<html></html>"
    r = httpx.get(f"{srv.url}/projects/{pid}/queries/remote", headers={"Authorization": h["Authorization"]}, timeout=30)
    assert r.status_code in (400, 502), r.text
    r = httpx.post(f"{srv.url}/projects/{pid}/sparql", content=f"SELECT * {{ SERVICE <{listener.url}sparql> {{ ?s ?p ?o }} }}",
                   headers=h, timeout=30)
    assert r.status_code in (400, 502), r.text
    assert srv.alive()


def test_update_service_and_load_to_loopback_refused(server: Any, world: dict, listener: Any) -> None:
    for text in (f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}", f"LOAD <{listener.url}data.ttl>"):
        r = httpx.post(f"{server.url}/projects/{world['pub']}/sparql", content=text, headers={"Content-Type": RU, **world["writer"]}, timeout=30)
        expect_4xx(server, r)
    rule = {"id": "probe", "kind": "sparql", "query": f"ASK {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"}
    r = httpx.post(f"{server.url}/projects/{world['pub']}/rules", json=rule, headers=world["writer"], timeout=30)
    expect_4xx(server, r, "SERVICE_NOT_ALLOWED")
    time.sleep(0.3)
    assert listener.connections == []


# ---------------------------------------------------------------- probe 6: bad parameters
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "-inf", "0"])
def test_timeout_not_a_positive_number(server: Any, world: dict, value: str) -> None:
    r = httpx.get(f"{server.url}/projects/{world['pub']}/sparql", params={"query": "ASK {}", "timeout": value}, timeout=30)
    expect_4xx(server, r, "BAD_TIMEOUT")


def test_pyshacl_with_graph_variable(server: Any, world: dict) -> None:
    select = "SELECT ?this WHERE { GRAPH ?g { ?this ?p ?o } }"
    body = json.dumps({"shapes": sparql_shapes(select), "engine": "pyshacl"})
    r = httpx.post(f"{server.url}/projects/{world['pub']}/validate", content=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code < 500, r.text
    assert server.alive()


# ---------------------------------------------------------------- probe 7: tokens
def test_token_for_missing_project_is_refused(server: Any) -> None:
    r = server.cli("token", "create", "--project", "nosuchproj", "--role", "admin")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "nosuchproj" in r.stderr and "PROJECT_NOT_FOUND" in r.stderr
    assert r.stdout.strip() == ""
