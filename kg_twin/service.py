"""The composition root: :func:`create_twin` builds one deployment, every component explicitly.

A :class:`Twin` is the :class:`~kg_twin.core.Core` (settings, naming, store, projects, access,
change notification, project graphs) plus the feature components, each a typed attribute:

* ``catalog`` / ``queries``: the shipped named queries and each project's own (:mod:`kg_twin.catalog`);
* ``ingest_jobs`` / ``ingest_staging``: background ingest jobs and the in-memory store where
  staged triples are validated (:mod:`kg_twin.ingest`);
* the live twin (:mod:`kg_twin.live`), started on first use by :meth:`Twin.live_service`
  (the server starts it with the app; CLI commands that do not need it never open its files).

The SPARQL extension functions the store may call are chosen here too
(:func:`sparql_functions`), so the store knows no feature. Features take the core or the
part of it they use; only ``api``, ``cli`` and ``demo`` import this module.

>>> import tempfile
>>> from kg_twin.settings import Settings, record_base, with_recorded_base
>>> twin = create_twin(Settings(store="memory", data_dir=tempfile.mkdtemp()))
>>> twin.projects.create("campus").id
'campus'
>>> W = "^^<http://www.opengis.net/ont/geosparql#wktLiteral>"
>>> rows = twin.store.select("PREFIX geof: <http://www.opengis.net/def/function/geosparql/> "
...     f"SELECT (geof:distance('POINT(2.35 48.85)'{W}, 'POINT(2.36 48.85)'{W}) AS ?d) {{}}")
>>> round(rows[0]["d"].toPython())
734
>>> twin.close()
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from kg_twin.access import Access, TokenStore
from kg_twin.catalog.catalog import Catalog, ProjectQueries, default_catalog
from kg_twin.core import ChangeFeed, Core, ProjectInfo, ProjectRegistry, check_mode
from kg_twin.geo import aggregates as geo_aggregates
from kg_twin.geo import functions as geo_functions
from kg_twin.geo import relations as geo_relations
from kg_twin.geo.index import SpatialIndex
from kg_twin.history.asof import AsOf
from kg_twin.history.log import History
from kg_twin.history.recorder import RecordingStore
from kg_twin.history.scenarios import Scenarios
from kg_twin.ingest.jobs import JobManager
from kg_twin.ingest.staging import IngestStaging
from kg_twin.limits import Limits
from kg_twin.live import functions as live_functions
from kg_twin.live.service import LiveService
from kg_twin.settings import Settings, record_base, with_recorded_base
from kg_twin.store import Dataset, GraphStore, open_store
from kg_twin.terms import Naming

__all__ = ["ProjectInfo", "Twin", "check_mode", "create_twin", "sparql_functions"]


def sparql_functions(settings: Settings) -> dict[str, Callable[..., Any]]:
    """The SPARQL extension functions of this deployment (IRI -> function), in one place:
    the GeoSPARQL functions (kg_twin.geo: every ``geof:`` function, WKT and GML, any EPSG CRS), the
    live twin's history aggregates. With ``KG_TWIN_CRS_RELATIONS=false`` the eight ``geof:sf*``
    relations are pyoxigraph's built-in ones (faster, CRS84 WKT only).

    >>> len([k for k in sparql_functions(Settings()) if "geosparql" in k])
    73
    >>> len(sparql_functions(Settings())) - len(sparql_functions(Settings(crs_relations=False)))
    8
    """
    table: dict[str, Callable[..., Any]] = {**geo_functions.FUNCTIONS, **geo_aggregates.AGGREGATES, **live_functions.FUNCTIONS}
    table.update({k: v for k, v in geo_relations.RELATIONS.items() if settings.crs_relations or k.rsplit("/", 1)[-1] not in geo_relations.SF_NAMES})
    return table


class Twin(Core):
    """One deployment: the core plus the feature components (see the module doc)."""

    def __init__(
        self,
        *,
        settings: Settings,
        naming: Naming,
        store: GraphStore,
        changes: ChangeFeed,
        projects: ProjectRegistry,
        access: Access,
        queries: ProjectQueries,
        ingest_jobs: JobManager,
        ingest_staging: IngestStaging,
    ) -> None:
        super().__init__(settings, naming, store, changes, projects, access)
        self.queries = queries
        self.ingest_jobs = ingest_jobs
        self.ingest_staging = ingest_staging
        self.history = History(self)
        self.as_of = AsOf(self, self.history)
        self.scenarios = Scenarios(self, self.history, self.as_of)
        changes.on_change(self.history.apply_retention)
        self._live: LiveService | None = None
        self._live_lock = threading.Lock()
        # the R-trees of the projects' geometries, rebuilt after their writes (kg_twin.geo.index)
        self.spatial = SpatialIndex(store, lambda p: Dataset(tuple(self.project_graphs(p)), ()), lambda p: self.inference_state(p) != "pending")
        changes.on_change(self.spatial.invalidate)

    @property
    def catalog(self) -> Catalog:
        """The installation's named-query catalogue (read and checked once per process, at first use)."""
        return self.queries.catalog

    def live_service(self, *, start: bool = True) -> LiveService:
        """The live twin (flusher thread, MQTT bridge when configured), created on first use."""
        with self._live_lock:
            if self._live is None:
                self._live = LiveService(self, start=start)
            return self._live

    def stop_live(self) -> None:
        """Stop the live twin (final flush); a later :meth:`live_service` starts a new one."""
        with self._live_lock:
            live, self._live = self._live, None
        if live is not None:
            live.close()

    def close(self) -> None:
        self.stop_live()
        self.ingest_jobs.close()
        self.ingest_staging.close()
        super().close()


def create_twin(settings: Settings, store: GraphStore | None = None, *, read_only: bool = False) -> Twin:
    """Build a deployment from its settings (``store``: use this store instead of opening one)."""
    functions = sparql_functions(settings)
    settings = with_recorded_base(settings)  # the base a data dir's names were minted with
    new_store = store is None and settings.store == "oxigraph" and not settings.store_path.exists()
    naming = Naming(settings.base_iri)
    graph_store = store if store is not None else open_store(settings, read_only=read_only, functions=functions)
    if new_store and not read_only:
        record_base(settings)
    if settings.history and not isinstance(graph_store, RecordingStore):
        graph_store = RecordingStore(graph_store, naming, tmp_dir=Path(settings.data_dir) / "tmp")
    changes = ChangeFeed()
    tokens = TokenStore(settings.auth_db_path)
    projects = ProjectRegistry(graph_store, naming, changes=changes, tokens=tokens)
    access = Access(projects, tokens, anonymous_read_all=settings.anonymous_read_all)
    return Twin(
        settings=settings,
        naming=naming,
        store=graph_store,
        changes=changes,
        projects=projects,
        access=access,
        queries=ProjectQueries(graph_store, naming, default_catalog, limits=Limits.of(settings), functions=functions, check_timeout_s=settings.query_timeout_s),
        ingest_jobs=JobManager(),
        ingest_staging=IngestStaging(open_store(settings.model_copy(update={"store": "memory"}), functions=functions)),
    )
