"""Where named queries live: the shipped ``queries/`` folder and each project's own queries.

* Catalogue queries: every ``queries/*.rq`` file of the installation (the file stem is the
  query name and the OpenAPI operationId). Read and checked once at start-up.
* Project queries: added by project admins (``PUT /projects/{p}/queries/{name}``,
  ``kg-twin queries put``), stored in the project's hidden graph
  ``{base}graph/{project}/_queries`` (never visible to SPARQL; part of store backups;
  removed with the project). A project query may not reuse a catalogue name.

>>> cat = Catalog.from_directory(BUILTIN_DIR)
>>> "find-buildings-in-area" in cat.names()
True
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from kg_twin.catalog.spec import QuerySpec, check, parse
from kg_twin.errors import Conflict, InputError, NotFound
from kg_twin.limits import Limits
from kg_twin.rdf import IRI, Literal, NTriplesWriter
from kg_twin.store import GraphStore
from kg_twin.store.functions import ExtensionFunctions
from kg_twin.terms import DCTERMS, KGT, RDF, XSD, Naming

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "queries"
QUERIES_GRAPH = "_queries"
MAX_QUERY_FILE_BYTES = 256 * 1024


class Catalog:
    """The catalogue queries of one installation (read-only after loading)."""

    def __init__(self, specs: dict[str, QuerySpec], invalid: dict[str, dict[str, Any]] | None = None, directory: Path | None = None) -> None:
        self.specs = specs
        self.invalid = invalid or {}
        self.directory = directory

    @classmethod
    def from_directory(cls, directory: Path | str, *, strict: bool = False) -> "Catalog":
        """Read and check every ``*.rq`` file. A broken file is logged and listed in
        :attr:`invalid` (``strict``: raised instead)."""
        directory = Path(directory)
        specs: dict[str, QuerySpec] = {}
        invalid: dict[str, dict[str, Any]] = {}
        if not directory.is_dir():
            log.warning("query catalogue folder %s does not exist", directory)
            return cls(specs, invalid, directory)
        for f in sorted(directory.glob("*.rq")):
            try:
                text = f.read_text(encoding="utf-8")
                specs[f.stem] = check(parse(f.stem, text, origin="catalogue", path=str(f)))
            except (InputError, UnicodeDecodeError) as e:
                if strict:
                    raise
                err = e.to_dict() if isinstance(e, InputError) else {"code": "BAD_ENCODING", "error": str(e)}
                invalid[f.stem] = {"file": f.name, **{k: v for k, v in err.items() if k not in ("ok", "status")}}
                log.error("named query %s is not usable: %s", f.name, e)
        return cls(specs, invalid, directory)

    def names(self) -> list[str]:
        return sorted(self.specs)

    def get(self, name: str) -> QuerySpec | None:
        return self.specs.get(name)

    def list(self) -> list[QuerySpec]:
        return [self.specs[n] for n in self.names()]


_default: Catalog | None = None
_default_lock = threading.Lock()


def default_catalog() -> Catalog:
    """The catalogue of this installation's ``queries/`` folder (read once per process)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Catalog.from_directory(BUILTIN_DIR)
        return _default


class ProjectQueries:
    """Named queries a project adds for itself, kept in its hidden ``_queries`` graph."""

    def __init__(
        self, store: GraphStore, naming: Naming, catalog: Callable[[], Catalog], *, limits: Limits, functions: ExtensionFunctions | None = None, check_timeout_s: float | None = None
    ) -> None:
        """``catalog``: gives the installation's catalogue (read at first use: CLI commands that
        need no named query never read and check the ``queries/`` folder). ``check_timeout_s``: a
        project query's check runs in a killable worker with this deadline (503 ``QUERY_CHECK_TIMEOUT``)."""
        self.check_timeout_s = check_timeout_s
        self.store = store
        self.functions = functions
        self.naming = naming
        self.limits = limits
        self._catalog = catalog
        self._cache: dict[tuple[str, str], QuerySpec] = {}  # (name, sha256 of text) -> checked spec
        self._lock = threading.Lock()

    @property
    def catalog(self) -> Catalog:
        return self._catalog()

    def graph(self, project: str) -> str:
        return self.naming.graph(project, QUERIES_GRAPH)

    def _iri(self, project: str, name: str) -> str:
        return self.naming.mint(project, "query", name)

    def _rows(self, project: str, name: str | None = None) -> list[dict[str, Any]]:
        from kg_twin.store import Dataset

        g = self.graph(project)
        bindings = {"name": Literal(name)} if name is not None else None
        return self.store.select(
            f"""SELECT ?q ?name ?text ?modified WHERE {{
                ?q a <{KGT}NamedQuery> ; <{DCTERMS}identifier> ?name ; <{RDF}value> ?text .
                OPTIONAL {{ ?q <{DCTERMS}modified> ?modified }}
            }} ORDER BY ?name""",
            dataset=Dataset((g,), ()),
            bindings=bindings,
        )

    def _spec(self, name: str, text: str) -> QuerySpec:
        key = (name, hashlib.sha256(text.encode("utf-8")).hexdigest())
        spec = self._cache.get(key)
        if spec is None:
            parsed = parse(name, text, origin="project", limits=self.limits)
            spec = self.store.run_job(_check_job, parsed, dict(self.functions or {}), kind="query check", timeout_s=self.check_timeout_s, copy=None)
            self._cache[key] = spec
        return spec

    def list(self, project: str) -> list[QuerySpec]:
        out = []
        for r in self._rows(project):
            try:
                out.append(self._spec(str(r["name"]), str(r["text"])))
            except InputError as e:  # stored before a rule changed: keep listing the others
                log.error("project %s query %s is not usable: %s", project, r["name"], e)
        return out

    def get(self, project: str, name: str) -> QuerySpec | None:
        rows = self._rows(project, name)
        if not rows:
            return None
        return self._spec(name, str(rows[0]["text"]))

    def put(self, project: str, name: str, text: str) -> tuple[QuerySpec, bool]:
        """Check and store a query; returns (spec, created). InputError if it does not pass :func:`check`."""
        if self.catalog.get(name) is not None:
            raise Conflict(
                "QUERY_NAME_TAKEN",
                f"{name!r} is a catalogue query of this installation",
                hint="pick another name for the project query",
            )
        if len(text.encode("utf-8")) > MAX_QUERY_FILE_BYTES:
            raise InputError("QUERY_TOO_LARGE", f"a named query may be at most {MAX_QUERY_FILE_BYTES} bytes")
        spec = self._spec(name, text)
        g = self.graph(project)
        q = IRI(self._iri(project, name))
        w = NTriplesWriter()
        w.add(q, IRI(RDF + "type"), IRI(KGT + "NamedQuery"))
        w.add(q, IRI(DCTERMS + "identifier"), Literal(name))
        w.add(q, IRI(RDF + "value"), Literal(text))
        if spec.summary:
            w.add(q, IRI(DCTERMS + "title"), Literal(spec.summary))
        w.add(q, IRI(DCTERMS + "modified"), Literal(datetime.now(timezone.utc).isoformat(timespec="seconds"), XSD + "dateTime"))
        body = w.getvalue().decode("utf-8")
        with self._lock, self.store.transaction():
            created = not self._rows(project, name)
            self.store.update(f"DELETE WHERE {{ GRAPH <{g}> {{ <{q}> ?p ?o }} }} ;\nINSERT DATA {{ GRAPH <{g}> {{ {body} }} }}")
        return spec, created

    def delete(self, project: str, name: str) -> None:
        g = self.graph(project)
        q = self._iri(project, name)
        with self._lock, self.store.transaction():
            if not self._rows(project, name):
                raise NotFound("QUERY_NOT_FOUND", f"project {project!r} has no query {name!r}", hint="list them with GET /projects/{project}/queries")
            self.store.update(f"DELETE WHERE {{ GRAPH <{g}> {{ <{q}> ?p ?o }} }}")


def resolve(queries: ProjectQueries, project: str, name: str) -> QuerySpec:
    """A query callable in ``project``: catalogue first, then the project's own; NotFound otherwise."""
    spec = queries.catalog.get(name)
    if spec is not None:
        return spec
    spec = queries.get(project, name)
    if spec is None:
        raise NotFound("QUERY_NOT_FOUND", f"no named query {name!r} in project {project!r}", hint=f"list them with GET /projects/{project}/queries")
    return spec


def _check_job(_store: object, spec: QuerySpec, functions: dict[str, Any]) -> QuerySpec:
    """Job: :func:`check` a project's query (the engine plans it: a worker can be stopped)."""
    return check(spec, functions=functions or None)
