"""A project's versions: list them, read their deltas, compare two of them, restore one, prune old ones.

>>> import tempfile
>>> from kg_twin.service import create_twin
>>> from kg_twin.settings import Settings
>>> from kg_twin.sparql.update import run_project_update
>>> t = create_twin(Settings(store="memory", data_dir=tempfile.mkdtemp()))
>>> _ = t.projects.create("p")
>>> run_project_update(t, "p", "INSERT DATA { <http://e/s> <http://e/p> 1 }")
>>> run_project_update(t, "p", "DELETE DATA { <http://e/s> <http://e/p> 1 } ; INSERT DATA { <http://e/s> <http://e/p> 2 }")
>>> [(v.seq, v.added, v.removed) for v in t.history.versions("p")[0]]
[(2, 1, 1), (1, 1, 0)]
>>> d = t.history.diff("p", 0, 2)
>>> d.added, d.removed
(['<http://e/s> <http://e/p> "2"^^<http://www.w3.org/2001/XMLSchema#integer> <http://localhost:8000/graph/p/default> .'], [])
>>> t.history.restore("p", 1).seq
3
>>> t.close()
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from kg_twin.errors import InputError, KgTwinError, NotFound
from kg_twin.history.actor import acting
from kg_twin.history.names import HistoryNames
from kg_twin.history.patch import Patch, inverse, net, split_quad
from kg_twin.history.recorder import RecordingStore
from kg_twin.terms import KGT, PROV, RDFS

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.core import Core


class Gone(KgTwinError):
    """A version the retention settings have dropped."""

    status = 410


@dataclass
class Version:
    seq: int
    iri: str
    time: str
    activity: str
    agent: str
    label: str = ""
    added: int = 0
    removed: int = 0
    graphs: list[str] = field(default_factory=list)  # client names
    sealed: bool = True
    prov_activity: str = ""  # the PROV activity the write recorded (an ingest's), if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _int(v: Any) -> int:
    return int(v.toPython()) if v is not None else 0


class History:
    """Versions of the projects of one deployment (see the module doc and docs/history.md)."""

    def __init__(self, core: "Core") -> None:
        self.core = core
        self.names = HistoryNames(core.naming)

    @property
    def recorder(self) -> RecordingStore:
        st = self.core.store
        if not isinstance(st, RecordingStore):
            raise InputError("HISTORY_OFF", "this deployment does not record history", hint="set KG_TWIN_HISTORY=true and restart")
        return st

    # ------------------------------------------------------------------ reading versions
    def head(self, project: str) -> int:
        return self.recorder.last_seq(project)

    def baseline(self, project: str) -> int:
        """The oldest version whose dataset can still be rebuilt (after retention; 0: all)."""
        rows = self.core.store.select(f"SELECT ?b WHERE {{ GRAPH <{self.names.log(project)}> {{ <{self.names.log(project)}> <{KGT}baseline> ?b }} }}")
        return _int(rows[0]["b"]) if rows else 0

    def versions(self, project: str, *, limit: int = 50, offset: int = 0, seqs: tuple[int, int] | None = None) -> tuple[list[Version], int]:
        """Versions newest first (``limit``/``offset`` page them), and how many there are."""
        self.core.projects.get(project)
        lg = self.names.log(project)
        flt = f"FILTER(?n >= {seqs[0]} && ?n <= {seqs[1]})" if seqs else ""
        rows = self.core.store.select(
            f"""SELECT ?v ?n ?t ?act ?agent ?label ?a ?r ?sealed ?pa (GROUP_CONCAT(STR(?g); separator=" ") AS ?gs) WHERE {{ GRAPH <{lg}> {{
                ?v <{KGT}seq> ?n ; <{PROV}generatedAtTime> ?t ; <{KGT}activity> ?act ; <{KGT}agent> ?agent .
                OPTIONAL {{ ?v <{RDFS}label> ?label }} OPTIONAL {{ ?v <{KGT}added> ?a }} OPTIONAL {{ ?v <{KGT}removed> ?r }}
                OPTIONAL {{ ?v <{KGT}sealed> ?sealed }} OPTIONAL {{ ?v <{KGT}graph> ?g }} OPTIONAL {{ ?v <{PROV}wasGeneratedBy> ?pa }} {flt} }} }}
               GROUP BY ?v ?n ?t ?act ?agent ?label ?a ?r ?sealed ?pa ORDER BY DESC(?n) LIMIT {int(limit)} OFFSET {int(offset)}"""
        )
        total = self.core.store.select(f"SELECT (COUNT(?v) AS ?c) WHERE {{ GRAPH <{lg}> {{ ?v <{KGT}seq> ?n {flt} }} }}")
        ds = self.core.dataset_of(project)
        out = [
            Version(
                seq=_int(r["n"]),
                iri=str(r["v"]),
                time=str(r["t"]),
                activity=str(r["act"]),
                agent=str(r["agent"]),
                label=str(r.get("label", "")),
                added=_int(r.get("a")),
                removed=_int(r.get("r")),
                graphs=[ds.client(g) for g in str(r.get("gs", "")).split()],
                sealed="sealed" not in r,
                prov_activity=str(r.get("pa", "")),
            )
            for r in rows
        ]
        return out, _int(total[0].get("c")) if total else 0

    def version(self, project: str, seq: int) -> Version:
        found, _ = self.versions(project, seqs=(seq, seq))
        if not found:
            raise NotFound("VERSION_NOT_FOUND", f"project {project!r} has no version {seq}", hint=f"list them with GET /projects/{project}/versions or `kg-twin history list -p {project}`")
        return found[0]

    def patch(self, project: str, seq: int) -> Patch:
        return self.patches(project, seq - 1, seq)[0][1] if seq > 0 else Patch()

    def patches(self, project: str, after: int, upto: int | None = None) -> list[tuple[int, Patch]]:
        """Deltas of versions ``after+1 .. upto`` (default: the head), oldest first."""
        upto = self.head(project) if upto is None else upto
        if upto <= after:
            return []
        lg = self.names.log(project)
        rows = self.core.store.select(
            f"SELECT ?n ?b ?sealed WHERE {{ GRAPH <{lg}> {{ ?v <{KGT}seq> ?n OPTIONAL {{ ?v <{KGT}patch> ?b }} OPTIONAL {{ ?v <{KGT}sealed> ?sealed }} FILTER(?n > {after} && ?n <= {upto}) }} }} ORDER BY ?n"
        )
        out: list[tuple[int, Patch]] = []
        for r in rows:
            n = _int(r["n"])
            if "b" in r and "sealed" not in r:
                out.append((n, Patch.unpack(str(r["b"]))))
            else:
                out.append((n, self.recorder.unsealed_patch(project, n)[0]))
        return out

    def resolve(self, project: str, spec: str) -> int:
        """A version number, or the version current at a time (ISO 8601); 0 is the state before
        the first recorded version."""
        self.core.projects.get(project)
        spec = spec.strip()
        head = self.head(project)
        if re.fullmatch(r"v?\d+", spec):
            seq = int(spec.lstrip("v"))
            if seq > head:
                raise NotFound("VERSION_NOT_FOUND", f"project {project!r} has no version {seq} (latest: {head})", hint=f"GET /projects/{project}/versions lists them")
        else:
            try:
                t = datetime.fromisoformat(spec.replace("Z", "+00:00"))
            except ValueError:
                raise InputError("BAD_AS_OF", f"asOf={spec!r} is neither a version number nor an ISO 8601 time", hint="e.g. asOf=12 or asOf=2026-12-03T10:00:00Z") from None
            if t.tzinfo is None:
                t = t.replace(tzinfo=timezone.utc)
            lg = self.names.log(project)
            rows = self.core.store.select(
                f"""SELECT (MAX(?n) AS ?m) WHERE {{ GRAPH <{lg}> {{ ?v <{KGT}seq> ?n ; <{PROV}generatedAtTime> ?t
                    FILTER(?t <= "{t.isoformat()}"^^<http://www.w3.org/2001/XMLSchema#dateTime>) }} }}"""
            )
            seq = _int(rows[0].get("m")) if rows else 0
        base = self.baseline(project)
        if seq < base:
            raise Gone("VERSION_PRUNED", f"version {seq} of {project!r} was dropped by the retention settings (oldest kept: {base})", hint="KG_TWIN_HISTORY_KEEP_VERSIONS / KG_TWIN_HISTORY_KEEP_DAYS decide how far back history goes")
        return seq

    # ------------------------------------------------------------------ compare, restore
    def diff(self, project: str, a: int, b: int) -> Patch:
        """What changed from version ``a`` to version ``b`` (either order): quads added and removed."""
        lo, hi = sorted((a, b))
        for s in (lo, hi):
            self._check(project, s)
        d = net([p for _, p in self.patches(project, lo, hi)])
        return d if a <= b else inverse(d)

    def _check(self, project: str, seq: int) -> None:
        head = self.head(project)
        if seq < 0 or seq > head:
            raise NotFound("VERSION_NOT_FOUND", f"project {project!r} has no version {seq} (latest: {head})", hint=f"GET /projects/{project}/versions lists them")
        if seq < self.baseline(project):
            raise Gone("VERSION_PRUNED", f"version {seq} of {project!r} was dropped by the retention settings", hint="see KG_TWIN_HISTORY_KEEP_VERSIONS")

    def restore(self, project: str, seq: int, *, graph: str | None = None) -> Version | None:
        """Bring the project (or one graph, a client name) back to version ``seq``, as a new
        version; history is never rewritten. ``None``: nothing differs."""
        with self.core.store.transaction():
            change = self.diff(project, self.head(project), seq)
            if graph is not None:
                stored = self.core.dataset_of(project).stored(graph)
                change = Patch([q for q in change.added if split_quad(q)[1] == stored], [q for q in change.removed if split_quad(q)[1] == stored])
            if not change.added and not change.removed:
                return None
            with acting(activity=f"restore of version {seq}"):
                self.apply(change)
            return self.version(project, self.head(project))

    def apply(self, change: Patch) -> None:
        """Apply a delta to the store (a recorded write: one new version per project)."""
        if any("_:" in q for q in change.removed):
            raise InputError("BLANK_NODES", "the change removes triples with blank nodes, which SPARQL cannot name", hint="give those resources IRIs (skolemise them) to version them exactly")
        ops = []
        if change.removed:
            ops.append("DELETE DATA { " + " ".join(_data(change.removed)) + " }")
        if change.added:
            ops.append("INSERT DATA { " + " ".join(_data(change.added)) + " }")
        self.core.store.update(" ;\n".join(ops))

    # ------------------------------------------------------------------ retention
    def prune(self, project: str, *, keep_versions: int = 0, keep_days: float = 0) -> int:
        """Drop versions beyond the retention limits (the newest is always kept): their deltas go,
        and the oldest kept version becomes the baseline (as-of queries before it answer 410).
        Returns the versions dropped."""
        head = self.head(project)
        cut = 0
        if keep_versions:
            cut = max(cut, head - keep_versions)
        if keep_days:
            limit = (datetime.now(timezone.utc) - timedelta(days=keep_days)).isoformat()
            lg = self.names.log(project)
            rows = self.core.store.select(
                f"""SELECT (MAX(?n) AS ?m) WHERE {{ GRAPH <{lg}> {{ ?v <{KGT}seq> ?n ; <{PROV}generatedAtTime> ?t
                    FILTER(?t < "{limit}"^^<http://www.w3.org/2001/XMLSchema#dateTime>) }} }}"""
            )
            cut = max(cut, min(_int(rows[0].get("m")) if rows else 0, head - 1))
        base = self.baseline(project)
        if cut <= base:
            return 0
        lg = self.names.log(project)
        with self.core.store.transaction():
            self.recorder.inner.update(
                f"""DELETE {{ GRAPH <{lg}> {{ ?v ?p ?o }} }} WHERE {{ GRAPH <{lg}> {{ ?v <{KGT}seq> ?n ; ?p ?o FILTER(?n <= {cut}) }} }} ;
                    DELETE WHERE {{ GRAPH <{lg}> {{ <{lg}> <{KGT}baseline> ?b }} }} ;
                    INSERT DATA {{ GRAPH <{lg}> {{ <{lg}> <{KGT}baseline> {cut} }} }}"""
            )
            stale = [g for g in self.core.store.graphs() if g.startswith(self.names.view_prefix(project)) and int(g[len(self.names.view_prefix(project)) :].split("/", 1)[0]) < cut]
            if stale:
                self.recorder.inner.drop_graphs(stale)
        return cut - base

    def apply_retention(self, project: str) -> int:
        s = self.core.settings
        if not (s.history_keep_versions or s.history_keep_days) or not self.core.projects.exists(project):
            return 0
        return self.prune(project, keep_versions=s.history_keep_versions, keep_days=s.history_keep_days)


def _data(quads: list[str]) -> list[str]:
    """N-Quads rows as ``GRAPH <g> { s p o }`` blocks for INSERT DATA / DELETE DATA."""
    by: dict[str, list[str]] = {}
    for q in quads:
        t, g = split_quad(q)
        by.setdefault(g, []).append(t)
    return [f"GRAPH <{g}> {{ {' . '.join(ts)} }}" for g, ts in by.items()]
