"""What-if scenarios: a named overlay on a project from one of its versions.

A scenario never copies the project. It reads the project as it was at its base version (the
as-of views of :mod:`kg_twin.history.asof`: the present graphs, except those changed since),
and a graph it edits is copied once, at its first edit, to ``{p}/_scenario/{s}/{G}``
(copy-on-write per graph); later reads and writes of that graph go to the copy. So the cost of a
scenario is the size of the graphs it edits, and its queries run on the same store as the
project's (:class:`kg_twin.history.asof.ViewDataset` swaps the names in).

Edits are SPARQL 1.1 Updates, confined to the project like updates on its endpoint
(:mod:`kg_twin.sparql.confine`), then pointed at the scenario's copies. A graph variable in an
update template cannot be pointed at copies, so it is refused. Scenario graphs are reserved
(``_`` names): no project endpoint, federated query or export ever sees them.

Promotion applies the scenario's changes (its copies compared with the base version) to the
project as one new version; it is refused (409, with the triples) when the project changed
the same triples since the base version.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from kg_twin.errors import Conflict, InputError, NotFound
from kg_twin.history.actor import acting
from kg_twin.history.asof import AsOf, View
from kg_twin.history.log import History
from kg_twin.history.names import HistoryNames
from kg_twin.history.patch import Patch, net
from kg_twin.history.recorder import _quads
from kg_twin.history.writes import analyze
from kg_twin.limits import Limits, check_sparql
from kg_twin.sparql.confine import Confinement, confine_update
from kg_twin.sparql.lexer import check_no_load, check_services, tokenize
from kg_twin.terms import DCTERMS, KGT, RDF

if TYPE_CHECKING:  # pragma: no cover
    from kg_twin.core import Core

SCENARIO_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass
class Scenario:
    id: str
    base: int  # the project version it starts from
    created: str
    title: str = ""
    edits: list[str] = field(default_factory=list)  # stored names of the graphs it edited

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Scenarios:
    def __init__(self, core: "Core", history: History, as_of: AsOf) -> None:
        self.core = core
        self.history = history
        self.as_of = as_of
        self.names = HistoryNames(core.naming)

    def _iri(self, project: str, sid: str) -> str:
        return self.names.scenario_prefix(project, sid) + "record"

    # ------------------------------------------------------------------ records
    def list(self, project: str) -> list[Scenario]:
        self.core.projects.get(project)
        lg = self.names.log(project)
        rows = self.core.store.select(
            f"""SELECT ?s ?id ?base ?created ?title (GROUP_CONCAT(STR(?g); separator=" ") AS ?gs) WHERE {{ GRAPH <{lg}> {{
                ?s a <{KGT}Scenario> ; <{DCTERMS}identifier> ?id ; <{KGT}baseVersion> ?base ; <{DCTERMS}created> ?created .
                OPTIONAL {{ ?s <{DCTERMS}title> ?title }} OPTIONAL {{ ?s <{KGT}edits> ?g }} }} }} GROUP BY ?s ?id ?base ?created ?title ORDER BY ?id"""
        )
        return [Scenario(str(r["id"]), int(r["base"].toPython()), str(r["created"]), str(r.get("title", "")), str(r.get("gs", "")).split()) for r in rows]

    def get(self, project: str, sid: str) -> Scenario:
        for s in self.list(project):
            if s.id == sid:
                return s
        raise NotFound("SCENARIO_NOT_FOUND", f"project {project!r} has no scenario {sid!r}", hint=f"list them with GET /projects/{project}/scenarios")

    def create(self, project: str, sid: str, *, base: str | None = None, title: str = "") -> Scenario:
        if not SCENARIO_ID.match(sid):
            raise InputError("BAD_SCENARIO_ID", f"scenario id {sid!r} is not allowed", hint="lowercase letters, digits, '-' and '_', at most 63 characters")
        with self.core.store.transaction():
            if any(s.id == sid for s in self.list(project)):
                raise Conflict("SCENARIO_EXISTS", f"scenario {sid!r} already exists in {project!r}", hint="pick another id or delete it first")
            seq = self.history.resolve(project, base) if base is not None else self.history.head(project)
            s = Scenario(sid, seq, datetime.now(timezone.utc).isoformat(timespec="seconds"), title or sid)
            lg, iri = self.names.log(project), self._iri(project, sid)
            title_t = title.replace("\\", "\\\\").replace('"', '\\"')
            self.core.store.update(
                f"""INSERT DATA {{ GRAPH <{lg}> {{ <{iri}> <{RDF}type> <{KGT}Scenario> ; <{DCTERMS}identifier> "{sid}" ; <{KGT}baseVersion> {seq} ;
                    <{DCTERMS}created> "{s.created}"^^<http://www.w3.org/2001/XMLSchema#dateTime> ; <{DCTERMS}title> "{title_t or sid}" }} }}"""
            )
        return s

    def delete(self, project: str, sid: str) -> None:
        with self.core.store.transaction():
            self.get(project, sid)
            self._drop(project, sid)

    def _drop(self, project: str, sid: str) -> None:
        lg, iri = self.names.log(project), self._iri(project, sid)
        copies = [g for g in self.core.store.graphs() if g.startswith(self.names.scenario_prefix(project, sid))]
        ops = [f"DELETE WHERE {{ GRAPH <{lg}> {{ <{iri}> ?p ?o }} }}", *(f"DROP SILENT GRAPH <{g}>" for g in copies)]
        self.core.store.update(" ;\n".join(ops))

    # ------------------------------------------------------------------ reading
    def view(self, project: str, sid: str) -> View:
        """The scenario's dataset: the base version, with the copies of the graphs it edited."""
        with self.core.store.transaction():
            s = self.get(project, sid)
            swaps = self.as_of.materialise(project, s.base)
            swaps.update({g: self.names.scenario(project, sid, g) for g in s.edits})
            return self.as_of.view_of(project, s.base, swaps)

    def base_view(self, project: str, sid: str) -> View:
        s = self.get(project, sid)
        with self.core.store.transaction():
            return self.as_of.view_of(project, s.base, self.as_of.materialise(project, s.base))

    # ------------------------------------------------------------------ editing
    def update(self, project: str, sid: str, text: str, *, base: str | None = None) -> None:
        """Run a SPARQL update on the scenario (copy-on-write per graph, module doc)."""
        settings = self.core.settings
        check_sparql(text, Limits.of(settings), what="SPARQL update")
        check_services(text, settings.service_allowlist, base=base)
        check_no_load(text)
        ds = self.core.dataset_of(project)
        with self.core.store.transaction():
            s = self.get(project, sid)
            view = self.view(project, sid)
            present = self.core.project_graphs(project, include_inferred=False)
            conf = Confinement(ds, graphs=sorted(set(present) | set(dict(view.project.views))))
            rewritten = confine_update(ds.rewrite_update(text), conf, base=base)
            if not rewritten.strip():
                return
            w = analyze(rewritten)
            if w.wildcard:
                raise InputError("SCENARIO_GRAPH_VARIABLE", "a scenario update cannot write to a graph chosen by a variable, or to ALL/NAMED graphs", hint="name the graphs the update writes (GRAPH <…> in the template)")
            written = sorted(g for g in w.written if self.names.versioned(g))
            swaps = dict(view.project.views)
            new = [g for g in written if g not in s.edits]
            ops: list[str] = []
            lg, iri = self.names.log(project), self._iri(project, sid)
            for g in new:
                copy = self.names.scenario(project, sid, g)
                ops.append(f"ADD SILENT GRAPH <{swaps.get(g, g)}> TO GRAPH <{copy}>")
                ops.append(f"INSERT DATA {{ GRAPH <{lg}> {{ <{iri}> <{KGT}edits> <{g}> }} }}")
                swaps[g] = copy
            # every graph the update names, read or written, is the scenario's one
            pointed = _point(rewritten, swaps)
            self.core.store.update(" ;\n".join([*ops, pointed]), base_iri=base)

    # ------------------------------------------------------------------ promote
    def changes(self, project: str, sid: str) -> Patch:
        """The scenario's delta against its base version."""
        s = self.get(project, sid)
        base_swaps = self.as_of.materialise(project, s.base)
        out = Patch()
        for g in s.edits:
            mine = set(_quads(self.core.store.dump_bytes(format="ntriples", graphs=[self.names.scenario(project, sid, g)]), g))
            theirs = set(_quads(self.core.store.dump_bytes(format="ntriples", graphs=[base_swaps.get(g, g)]), g))
            out.added += sorted(mine - theirs)
            out.removed += sorted(theirs - mine)
        return out

    def promote(self, project: str, sid: str) -> dict[str, Any]:
        """Apply the scenario to the project as one new version, then remove the scenario.
        :class:`Conflict` (409) listing the triples the project changed too since the base version."""
        with self.core.store.transaction():
            s = self.get(project, sid)
            mine = self.changes(project, sid)
            since = net([p for _, p in self.history.patches(project, s.base)])
            touched = set(since.added) | set(since.removed)
            clash = sorted((set(mine.added) | set(mine.removed)) & touched)
            if clash:
                raise Conflict(
                    "SCENARIO_CONFLICT",
                    f"the project changed {len(clash)} of the scenario's triples since version {s.base}",
                    hint="compare them (GET …/diff?from=BASE), edit the scenario or recreate it from the current version, then promote again",
                    errors=[{"quad": q} for q in clash[:1000]],
                )
            if not mine.added and not mine.removed:
                self._drop(project, sid)
                return {"version": None, "added": 0, "removed": 0}
            with acting(activity=f"promotion of scenario {sid}"):
                self.history.apply(mine)
            self._drop(project, sid)
            return {"version": self.history.head(project), "added": len(mine.added), "removed": len(mine.removed)}


def _point(text: str, swaps: dict[str, str]) -> str:
    """``text`` with every IRI token naming a swapped graph replaced by its swap.

    >>> _point('INSERT DATA { GRAPH <http://g> { <http://s> <http://p> "<http://g>" } }', {"http://g": "http://c"})
    'INSERT DATA { GRAPH <http://c> { <http://s> <http://p> "<http://g>" } }'
    """
    out, last = [], 0
    for t in tokenize(text):
        if t.kind == "IRI" and t.text[1:-1] in swaps:
            out += [text[last : t.start], f"<{swaps[t.text[1:-1]]}>"]
            last = t.end
    out.append(text[last:])
    return "".join(out)
