"""Run a SPARQL 1.1 Update confined to one project (the project endpoint and ``kg-twin update``).

:func:`run_project_update` checks the text (size and nesting limits, SERVICE allow-list, no
``LOAD``), rewrites it to the project's stored graph names (:mod:`kg_twin.sparql.confine`)
and runs it as one transaction of the store, then tells the twin's change listeners.

With ``timeout_s`` (the server), every engine call on the client's text runs where it can be
killed (:meth:`kg_twin.store.base.GraphStore.run_job`): an update that has a ``WHERE`` clause (the
only part the engine plans) is rehearsed on a private copy of the store before it runs, and the
syntax check on an empty store runs in a worker too. Past the deadline: 503 ``UPDATE_TIMEOUT``,
nothing written.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Protocol

from kg_twin.errors import Conflict, InputError, NotFound, UpstreamError
from kg_twin.limits import Limits, check_sparql
from kg_twin.settings import Settings
from kg_twin.sparql.confine import Confinement, confine_update
from kg_twin.sparql.dataset import ProjectDataset, check_graph_iri
from kg_twin.sparql.lexer import check_no_load, check_services, token_views
from kg_twin.store.base import GraphStore, open_store


class UpdateTarget(Protocol):
    """What an update needs of the twin: its settings, store, a project's dataset and graphs."""

    settings: Settings
    store: GraphStore

    def dataset_of(self, project: str) -> ProjectDataset: ...

    def project_graphs(self, project: str, *, include_inferred: bool = True, include_default: bool = True) -> list[str]: ...

    def notify(self, project: str) -> None: ...


def run_project_update(
    twin: UpdateTarget, project: str, text: str, base: str | None = None, using: list[str] | None = None, using_named: list[str] | None = None, *, timeout_s: float | None = None
) -> None:
    """Run a SPARQL update confined to ``project``.

    ``base`` resolves relative IRIs; ``using`` / ``using_named`` are the protocol's
    ``using-graph-uri`` / ``using-named-graph-uri`` (client graph names); ``timeout_s``: the
    deadline of every engine call on the text (None: no deadline, in this process).
    """
    check_sparql(text, Limits.of(twin.settings), what="SPARQL update")
    check_services(text, twin.settings.service_allowlist, base=base)
    # before anything executes the text (even the scratch syntax check): LOAD fetches URLs.
    # LOAD SILENT is dropped by the confinement (a silent operation that cannot run has no effect);
    # the scratch check must then not run the original text.
    has_load = _mentions_load(text)
    if has_load and not _only_silent_loads(text):
        check_no_load(text)
    ds = twin.dataset_of(project)
    # optimistic: prepared (rewritten, rehearsed) without the writer lock, so that queries needing
    # a fresh snapshot are not held up; written only if no write came in meanwhile. A store busy
    # with writes gets the update prepared under the lock on the last attempt.
    for attempt in range(RETRIES + 1):
        last = attempt == RETRIES
        with twin.store.transaction() if last else nullcontext():
            generation = twin.store.generation
            try:
                _run(twin, project, ds, text, base, using, using_named, has_load, timeout_s, None if last else generation)
            except Conflict as e:
                if e.code == "STORE_CHANGED" and not last:
                    continue
                raise
        break
    twin.notify(project)


RETRIES = 3  # optimistic attempts before an update is prepared under the writer lock


def _run(
    twin: UpdateTarget, project: str, ds: ProjectDataset, text: str, base: str | None, using: list[str] | None, using_named: list[str] | None,
    has_load: bool, timeout_s: float | None, generation: int | None,
) -> None:
    """Rewrite ``text`` for the project's graphs as they are now and run it (``generation``: only
    if the store is still in that state when it writes)."""
    conf = Confinement(ds, graphs=twin.project_graphs(project, include_inferred=False))
    if using or using_named:
        conf.using_default = [ds.stored(check_graph_iri(g)) for g in using or []]
        conf.using_named = [ds.stored(check_graph_iri(g)) for g in using_named or []]
    # a syntax error is reported from the user's text (an empty scratch store runs it), so that
    # it points there. The engine refuses some valid SPARQL (a PREFIX after ';', as rdflib's
    # SPARQLUpdateStore sends when it batches edits); the rewritten text has every IRI absolute
    # and no prologue, so it decides: the scratch check only runs when the rewritten text fails.
    try:
        rewritten = confine_update(ds.rewrite_update(text), conf, base=base)
    except InputError:
        _raise_syntax_error(twin, text, base, has_load, timeout_s)
        raise
    if rewritten.strip():
        try:
            twin.store.update(rewritten, base_iri=base, timeout_s=timeout_s if _plans(rewritten) else None, if_generation=generation)
        except InputError:
            _raise_syntax_error(twin, text, base, has_load, timeout_s)
            raise


def _raise_syntax_error(twin: UpdateTarget, text: str, base: str | None, has_load: bool, timeout_s: float | None) -> None:
    """Raise the syntax error the client's own text has, if any (never for a text with LOAD: the
    scratch store would run it)."""
    if has_load:
        return
    error = twin.store.run_job(_syntax_check, text, base, kind="update", timeout_s=timeout_s, copy=None)
    if error is not None:
        raise error from None


def _syntax_check(_store: object, text: str, base: str | None) -> InputError | None:
    """Job: the syntax error of ``text`` on an empty scratch store, or None."""
    scratch = open_store(Settings(store="memory"))
    try:
        scratch.update(text, base_iri=base)
    except (UpstreamError, NotFound, Conflict):
        pass  # evaluation errors on the empty scratch store (e.g. ADD of a missing graph) say nothing
    except InputError as e:
        return e
    finally:
        scratch.close()
    return None


def _plans(text: str) -> bool:
    """Does the update have a WHERE clause (a pattern the engine plans)?

    >>> _plans("INSERT DATA { <s> <p> 'WHERE' }"), _plans("DELETE WHERE { ?s ?p ?o }")
    (False, True)
    """
    views, error = token_views(text)
    return error is not None or any(t.kind == "NAME" and t.upper == "WHERE" for toks in views for t in toks)


def _load_flags(text: str) -> list[bool]:
    """For each ``LOAD`` keyword of the text: whether ``SILENT`` follows it."""
    views, _ = token_views(text)
    return [i + 1 < len(toks) and toks[i + 1].upper == "SILENT" for toks in views for i, t in enumerate(toks) if t.kind == "NAME" and t.upper == "LOAD"]


def _mentions_load(text: str) -> bool:
    """
    >>> _mentions_load("LOAD <http://x/> INTO GRAPH <g>"), _mentions_load("INSERT DATA { <s> <p> 'LOAD' }")
    (True, False)
    """
    return bool(_load_flags(text))


def _only_silent_loads(text: str) -> bool:
    """
    >>> _only_silent_loads("LOAD SILENT <http://x/>"), _only_silent_loads("LOAD SILENT <a> ; LOAD <b>")
    (True, False)
    """
    return all(_load_flags(text))


__all__ = ["UpdateTarget", "run_project_update"]
