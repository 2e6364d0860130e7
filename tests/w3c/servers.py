"""The servers the W3C replays run against, behind one small adapter.

A :class:`Backend` hands out fresh, empty datasets (:class:`Target`): the URLs of its SPARQL query and
update endpoints and of its Graph Store (indirect identification), and the headers to send. Only
these differ between servers; the replays are the same.

* ``oxigraph``: a real ``oxigraph serve`` (PyPI package ``oxigraph``) on 127.0.0.1, in memory;
  endpoints ``/query``, ``/update``, ``/store``; a fresh dataset is ``DROP ALL``.
* ``kg-twin``: a live kg-twin server (``tests/conftest.py``); a fresh dataset is a new project created
  with ``default_graph: "default"`` (the standard default graph, see ``docs/api.md``); endpoints
  ``/projects/{p}/sparql`` (query and update) and ``/projects/{p}/graphs``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, parse, serialize

from tests.conftest import LiveServer, auth, free_port
from tests.w3c.results import Solutions, parse_response

TIMEOUT_S = 30
DATA_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8"
DUMP = "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


@dataclass
class Target:
    """One empty dataset on a server: where to send queries, updates and graph store requests."""

    client: httpx.Client
    query_url: str
    update_url: str
    store_url: str  # Graph Store Protocol, indirect identification (?default / ?graph=)
    headers: dict[str, str] = field(default_factory=dict)
    project: str | None = None  # kg-twin only

    def query(self, text: str | bytes, accept: str = DATA_ACCEPT) -> httpx.Response:
        h = {**self.headers, "Content-Type": "application/sparql-query", "Accept": accept}
        return self.client.post(self.query_url, content=_bytes(text), headers=h)

    def update(self, text: str | bytes) -> httpx.Response:
        h = {**self.headers, "Content-Type": "application/sparql-update"}
        return self.client.post(self.update_url, content=_bytes(text), headers=h)

    def load(self, graph: str | None, path: Path, *, replace: bool) -> None:
        """Load an RDF file, parsed with its ``file:`` IRI as base (as the suite means it), as
        N-Triples into the default graph (``graph=None``) or the named graph ``graph``."""
        fmt = RdfFormat.from_extension(path.suffix[1:])
        triples = [q.triple for q in parse(path=str(path), format=fmt, base_iri=path.as_uri())]
        body = serialize(triples, format=RdfFormat.N_TRIPLES) or b""
        params = {"default": ""} if graph is None else {"graph": graph}
        h = {**self.headers, "Content-Type": "application/n-triples"}
        r = self.client.request("PUT" if replace else "POST", self.store_url, params=params, content=body, headers=h)
        if r.status_code not in (200, 201, 204):
            raise LoadError(f"loading {path.name} into {graph or 'the default graph'}: HTTP {r.status_code} {r.text[:300]}")

    def dump(self) -> list[Quad]:
        """Every quad of the dataset (default graph and named graphs), in one response."""
        r = self.query(DUMP, accept="application/sparql-results+json")
        if r.status_code != 200:
            raise LoadError(f"reading the dataset back: HTTP {r.status_code} {r.text[:300]}")
        res = parse_response(r.content, r.headers.get("content-type", ""))
        assert isinstance(res, Solutions)
        out = []
        for row in res.rows:
            g = row.get("g")
            out.append(Quad(row["s"], row["p"], row["o"], g if isinstance(g, NamedNode) else DefaultGraph()))  # type: ignore[arg-type]
        return out


def _bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else text


class LoadError(Exception):
    """The test's dataset could not be set up or read back (a failure of the server, reported as such)."""


class Backend:
    name = ""
    _shared: Target | None = None

    def fresh(self) -> Target:  # pragma: no cover - interface
        raise NotImplementedError

    def shared(self) -> Target:
        """A dataset for requests that change nothing (queries of the syntax tests), made once."""
        if self._shared is None:
            self._shared = self.fresh()
        return self._shared


class OxigraphBackend(Backend):
    name = "oxigraph"

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=TIMEOUT_S)

    def fresh(self) -> Target:
        t = Target(self.client, f"{self.url}/query", f"{self.url}/update", f"{self.url}/store")
        r = t.update("DROP ALL")
        if r.status_code not in (200, 204):
            raise LoadError(f"DROP ALL: HTTP {r.status_code} {r.text[:200]}")
        return t


class KgTwinBackend(Backend):
    name = "kg-twin"

    def __init__(self, srv: LiveServer, name: str = "kg-twin") -> None:
        self.srv = srv
        self.name = name  # "kg-twin@virtuoso": the server on an external engine (tests/engines.py)
        self.client = httpx.Client(timeout=TIMEOUT_S)

    def fresh(self) -> Target:
        # default_graph="default": the W3C default graph (the lead's project option; ignored by
        # servers that do not know it yet, which then answer with their own default graph)
        p = self.srv.create_project("w3c", default_graph="default")
        base = f"{self.srv.url}/projects/{p}"
        return Target(self.client, f"{base}/sparql", f"{base}/sparql", f"{base}/graphs", headers=auth(self.srv.admin), project=p)


def oxigraph_executable() -> str | None:
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    return exe if Path(exe).exists() else None


@contextmanager
def oxigraph_serve() -> Iterator[str]:
    """Run ``oxigraph serve`` (in memory) on a free 127.0.0.1 port; yield its base URL."""
    exe = oxigraph_executable()
    if exe is None:
        raise RuntimeError("the oxigraph server is not installed (pip install -e '.[test]' installs it)")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([exe, "serve", "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/query", params={"query": "ASK {}"}, timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("oxigraph serve did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
