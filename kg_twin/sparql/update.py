"""Run a SPARQL 1.1 Update confined to one project (the project endpoint and ``kg-twin update``).

:func:`run_project_update` checks the text (size and nesting limits, SERVICE allow-list, no
``LOAD``), rewrites it to the project's stored graph names (:mod:`kg_twin.sparql.confine`)
and runs it as one transaction of the store, then tells the twin's change listeners.
"""

from __future__ import annotations

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


def run_project_update(twin: UpdateTarget, project: str, text: str, base: str | None = None, using: list[str] | None = None, using_named: list[str] | None = None) -> None:
    """Run a SPARQL update confined to ``project``.

    ``base`` resolves relative IRIs; ``using`` / ``using_named`` are the protocol's
    ``using-graph-uri`` / ``using-named-graph-uri`` (client graph names).
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
    with twin.store.transaction():
        conf = Confinement(ds, graphs=twin.project_graphs(project, include_inferred=False))
        if using or using_named:
            conf.using_default = [ds.stored(check_graph_iri(g)) for g in using or []]
            conf.using_named = [ds.stored(check_graph_iri(g)) for g in using_named or []]
        # syntax first, on an empty scratch store, so errors point into the user's text. The engine
        # refuses some valid SPARQL (a PREFIX after ';', as rdflib's SPARQLUpdateStore sends when it
        # batches edits); the rewritten text has every IRI absolute and no prologue, so it decides.
        syntax_error = None
        if not has_load:
            try:
                _syntax_check(text, base)
            except InputError as e:
                syntax_error = e
        try:
            rewritten = confine_update(ds.rewrite_update(text), conf, base=base)
        except InputError:
            if syntax_error is not None:
                raise syntax_error from None
            raise
        if rewritten.strip():
            try:
                twin.store.update(rewritten, base_iri=base)
            except InputError:
                if syntax_error is not None:
                    raise syntax_error from None
                raise
    twin.notify(project)


def _syntax_check(text: str, base: str | None) -> None:
    scratch = open_store(Settings(store="memory"))
    try:
        scratch.update(text, base_iri=base)
    except (UpstreamError, NotFound, Conflict):
        pass  # evaluation errors on the empty scratch store (e.g. ADD of a missing graph) say nothing; syntax errors propagate
    finally:
        scratch.close()


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
