"""One ingest: file -> records -> reviewed mapping -> triples -> staging -> SHACL -> published graph.

:func:`ingest` is what ``kg-twin ingest`` and ``POST /projects/{p}/ingest`` call. It runs stage
functions over one :class:`~kg_twin.ingest.run.Run`:

1. **receive**: sha256 of the file (a shapefile's sidecars ``.dbf .shx .prj .cpg`` included), a copy
   in ``{data_dir}/sources/{project}/{sha256}/`` (:mod:`kg_twin.ingest.sources`).
2. **choose the handler**: every registered handler sniffs the file; the most confident wins
   (``reader=`` or the mapping's ``handler:`` overrides; :mod:`kg_twin.ingest.handlers`).
3. **read**: records with their origin; rows a reader cannot read become rejects.
4. **propose**: the handler proposes a mapping (confidence per decision), or the caller gives a
   reviewed one. The mapping used is always the YAML round trip of the proposal, so a dry-run file
   passed back with ``--mapping`` gives the same graph. It is stored as ``mapping.yml`` next to the source.
5. **map**: the handler's one publisher strategy (:meth:`SourceHandler.file_load`): a pass-through
   handler (RDF) names the file the store loads as it is, with its alignment update; every other
   handler maps the records to typed triples with deterministic IRIs, streamed to N-Triples on
   disk, and rejects with reasons.
6. **stage**: that file goes to ``naming.staging_graph(project, source)`` of the in-memory staging
   store (of the project store, for sources too big for memory). A new graph from
   :data:`PENDING_LOAD_BYTES` up is loaded into the project store at the same time
   (:meth:`GraphStore.pending_load`, kept only if published).
   Nothing mapped (every record rejected, or none read) stops here: ``NOTHING_MAPPED``.
7. **validate**: the project's SHACL shapes run on the staged graph (:mod:`kg_twin.ingest.validate`),
   then the re-ingest review: the entity diff with the published graph; removing more than 20 % of
   its entities needs ``accept_removals`` (:mod:`kg_twin.ingest.review`).
8. **publish**: the staged triples replace ``{base}graph/{project}/{source}`` and the PROV-O activity
   goes to ``{base}graph/{project}/provenance`` in one step (:mod:`kg_twin.ingest.publish`) - or the
   staged triples go to the quarantine graph when violations are not accepted
   (:class:`~kg_twin.errors.ShapeViolation`, 422).
9. **report**: :class:`~kg_twin.models.IngestReport`; ``report.json``, ``rejects.csv`` and
   ``validation.nt`` are written next to the source copy.

Counts add up: ``records == mapped + rejected``. Bad input raises :class:`~kg_twin.errors.InputError`
naming the file and row/feature/element; the project is unchanged.

>>> source_slug("BATIMENT.shp"), source_slug("Point list (v2).csv"), source_slug("_x.ttl")
('batiment.shp', 'point-list-v2.csv', 'x.ttl')
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import inspect
import io
import json
import re
import uuid
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from kg_twin.errors import InputError, KgTwinError, ShapeViolation
from kg_twin.ingest.base import IngestTwin, MapContext, SourceHandler
from kg_twin.ingest.corrections import load_corrections, with_kept_corrections
from kg_twin.ingest.extent import check_project_extent, project_bounds
from kg_twin.ingest.handlers import detect, get_handler, handler_names, load_handlers, unavailable_handlers
from kg_twin.ingest.mapping import dump_yaml, mapping_hash, normalize, roundtrip
from kg_twin.ingest.provenance import PROVENANCE_GRAPH, provenance_update
from kg_twin.ingest.publish import publish_pending, publish_staged, staging_of
from kg_twin.ingest.staging import IngestStaging
from kg_twin.ingest.review import check_mapped, check_removals, entity_diff, structure_check, with_read_options
from kg_twin.ingest.run import IngestOptions, Progress, Run, Staged, Timer
from kg_twin.ingest.sources import Received, receive, write_atomic
from kg_twin.ingest.validate import Outcome, validate_staged
from kg_twin.models import IngestReport, Record, Reject, ValidationSummary
from kg_twin.rdf import IRI, NTriplesWriter
from kg_twin.store.base import Dataset
from kg_twin.terms import DCTERMS, RDFS, REF, Naming

RESERVED_GRAPH_NAMES = {"default", "inferred", "provenance"}
PROGRESS_EVERY = 2000
STAGE_IN_MEMORY_BYTES = 512 * 1024 * 1024  # bigger sources (N-Triples bytes, estimated) are staged on disk
PENDING_LOAD_BYTES = 1024 * 1024  # from this size a new graph is loaded while its staged copy is validated


# ----------------------------------------------------------------------------- naming
def source_slug(filename: str) -> str:
    """Graph name for a file: lowercase, [a-z0-9._-], stable across re-ingests of the same name."""
    s = re.sub(r"[^a-z0-9._-]+", "-", Path(filename).name.lower()).strip("-._")
    s = re.sub(r"-*\.-*", ".", re.sub(r"-{2,}", "-", s))
    if not s:
        raise InputError("BAD_FILENAME", f"cannot name a graph after file {filename!r}", hint="rename the file (letters, digits, '.', '-', '_')")
    if s in RESERVED_GRAPH_NAMES:
        s = "src-" + s
    return s


def target_graph(naming: Naming, project: str, graph: str | None, filename: str) -> tuple[str, str]:
    """(slug for the hidden staging/quarantine graphs, stored graph IRI) of an ingest.

    No ``graph``: named after the file (``source_slug``). A full IRI (any IRI: a project is an RDF
    dataset) keeps its name. A short name must already be a valid slug: it is never silently renamed.
    """
    if not graph:
        slug = source_slug(filename)
        return slug, naming.graph(project, slug)
    if ":" in graph:
        stored = naming.resolve_graph(project, graph)
        return "iri-" + hashlib.sha256(graph.encode("utf-8")).hexdigest()[:16], stored
    slug = source_slug(graph)
    if slug != graph:
        raise InputError(
            "BAD_GRAPH",
            f"graph name {graph!r} is not a short graph name",
            hint=f"use {slug!r} (lowercase letters, digits, '.', '-', '_'), or a full graph IRI",
        )
    return slug, naming.graph(project, slug)


class _ProjectLookup:
    """``text -> [IRI]`` over the project's labels, identifiers and IFC GlobalIds; built at first use."""

    def __init__(self, twin: IngestTwin, project: str, exclude: str) -> None:
        self.twin, self.project, self.exclude = twin, project, exclude
        self._index: dict[str, set[str]] | None = None

    def __call__(self, text: str) -> list[str]:
        if self._index is None:
            graphs = tuple(g for g in self.twin.project_graphs(self.project, include_inferred=False) if g != self.exclude)
            rows = self.twin.store.select(
                f"""SELECT ?s ?v WHERE {{
                  {{ ?s <{RDFS}label>|<{DCTERMS}identifier> ?v }}
                  UNION {{ ?s <{REF}hasExternalReference> ?r . ?r <{REF}ifcGlobalID>|<{REF}ifcName> ?v }}
                  FILTER(isLiteral(?v) && isIRI(?s))
                }}""",
                dataset=Dataset(graphs, ()),
            ) if graphs else []
            idx: dict[str, set[str]] = {}
            for r in rows:
                idx.setdefault(str(r["v"]).strip().lower(), set()).add(str(r["s"]))
            self._index = idx
        return sorted(self._index.get(str(text).strip().lower(), ()))


# ----------------------------------------------------------------------------- the pipeline
def ingest(twin: IngestTwin, project: str, path: str | Path, opts: IngestOptions | None = None, *, progress: Progress | None = None) -> IngestReport:
    """Ingest one file into ``project``; see the module doc for the steps.

    Raises :class:`InputError` for unreadable input (project unchanged) and
    :class:`ShapeViolation` (422, with ``.report``) when the staged graph was quarantined.
    """
    opts = opts or IngestOptions()
    opts.check()
    twin.projects.get(project)
    path = Path(path)
    name = Path(opts.name or path.name).name
    say: Progress = progress or (lambda stage, info: None)
    started = datetime.now(timezone.utc)
    timer = Timer()
    say("receive", {"file": name})
    rec = receive(twin.settings.sources_path, project, path, name=name, store=not opts.dry_run)
    timer.lap("receive")
    naming = twin.naming
    slug, graph = target_graph(naming, project, opts.graph, name)
    run = Run(
        twin=twin, project=project, opts=opts, source=rec,
        report=IngestReport(project=project, source=name, sha256=rec.sha256, status="running"),
        slug=slug, graph=graph, staging=naming.staging_graph(project, slug),
        quarantine=naming.quarantine_graph(project, slug), source_iri=naming.mint(project, "source", rec.sha256),
        started=started, say=say, timer=timer,
    )
    try:
        return _run(run)
    except KgTwinError as e:
        _where(e, name)
        if isinstance(e, ShapeViolation):
            raise
        run.report.status = "failed"
        run.report.timings = timer.total()
        if rec.dir is not None:
            body = json.loads(run.report.model_dump_json())
            body["error"] = e.to_dict()
            write_atomic(rec.dir / "report.json", json.dumps(body, indent=2, ensure_ascii=False).encode())
        raise


def _run(run: Run) -> IngestReport:
    choose_handler(run)
    read(run)
    propose(run)
    if run.opts.dry_run:
        return dry_run_report(run)
    write_atomic(run.workdir / "mapping.yml", dump_yaml(run.mapping, source=run.name, project=run.project).encode("utf-8"))
    area = staging_of(run.twin)
    # nothing reaches the project store before publishing; one ingest at a time uses the staging area
    with area.lock, ExitStack() as cleanup:
        map_source(run, cleanup)
        staged = stage(run, area, cleanup)
        check_mapped(run.report, run.rejects, run.name)  # all rejected / nothing read: an error, the published graph stays
        validate(run, staged)
        review(run, staged)
        publish(run, staged)
    return report(run)


def choose_handler(run: Run) -> SourceHandler:
    """The handler asked for (``reader=``, or the reviewed mapping's ``handler:``), else the most confident sniffer."""
    opts, asked = run.opts, (run.opts.mapping or {}).get("handler")
    if opts.reader:
        handler, conf = get_handler(opts.reader), 1.0
    elif asked:
        handler, conf = get_handler(str(asked)), 1.0
    else:
        handler, conf, _scores = detect(run.source.path, name=run.name)
    run.report.reader = handler.name
    if asked and str(asked) != handler.name:
        raise InputError(
            "MAPPING_READER_MISMATCH",
            f"the mapping is for reader {asked!r}, but reader {handler.name!r} was asked for",
            hint="drop --reader (the mapping's 'handler:' selects the reader) or use a mapping made for that reader",
        )
    run.say("detect", {"reader": handler.name, "confidence": conf})
    run.report.document_only = structure_check(handler.name, conf, bool(opts.reader or asked), opts.structured_only, run.name)
    options = dict(opts.options)
    options.setdefault("lookup", _ProjectLookup(run.twin, run.project, exclude=run.graph))
    run.handler = handler
    run.ctx = MapContext(naming=run.twin.naming, project=run.project, source_iri=run.source_iri, source_name=run.name, options=options)
    return handler


def read(run: Run) -> None:
    """Records and read rejects, with progress every :data:`PROGRESS_EVERY` items."""
    handler = _handler(run)
    for item in handler.read(run.source.path, **_read_kwargs(handler, with_read_options(run.opts.mapping, run.opts.options.get("read")))):
        run.read_count += 1
        if isinstance(item, Reject):
            run.rejects.append(item)
        else:
            run.records.append(item)
        if run.read_count % PROGRESS_EVERY == 0:
            run.say("read", {"records": run.read_count})
    run.timer.lap("read")
    run.say("read", {"records": run.read_count, "done": True})


def extent_findings(mapping: dict[str, Any]) -> list[dict[str, Any]]:
    """The coordinate checks of a feature mapping's CRS choices (one list for all its layers)."""
    layers = mapping.get("layers") if isinstance(mapping.get("layers"), dict) else {None: mapping}
    out = []
    for name, m in layers.items():
        for f in ((m or {}).get("crs") or {}).get("extent") or []:
            out.append({**f, "layer": name or m.get("layer")})
    return out


def far_findings(run: Run, mapping: dict[str, Any]) -> list[dict[str, Any]]:
    """Layers lying far from the project's other features (``FAR_FROM_PROJECT``)."""
    layers = mapping.get("layers") if isinstance(mapping.get("layers"), dict) else {None: mapping}
    boxes = {name: ((m or {}).get("crs") or {}).get("bounds_crs84") for name, m in layers.items()}
    if not any(boxes.values()):
        return []
    others = [g for g in run.twin.project_graphs(run.project, include_inferred=False) if g != run.graph]
    project = project_bounds(run.twin.store, others)
    out = []
    for name, box in boxes.items():
        if box and len(box) == 4:
            out += [{**f, "layer": name or mapping.get("layer")} for f in check_project_extent(tuple(box), project)]  # type: ignore[arg-type]
    return out


def propose(run: Run) -> None:
    """The mapping used: the reviewed one given, or the handler's proposal (YAML round trip either way)."""
    handler, given = _handler(run), run.opts.mapping
    if given is not None:
        mapping = roundtrip(given)
    else:
        proposal = handler.propose(run.records, _ctx(run)) if run.records else {"version": 1, "handler": handler.name, "note": "no records to profile"}
        mapping = roundtrip(with_read_options(normalize(proposal), run.opts.options.get("read")))
    mapping.setdefault("handler", handler.name)
    # a person's corrections of this source's point classes, kept from earlier reviews
    mapping = with_kept_corrections(mapping, load_corrections(run.twin.settings.data_dir, run.project, run.slug))
    run.mapping = mapping
    run.mapping_hash = mapping_hash(mapping)
    run.report.mapping = mapping
    run.report.warnings = extent_findings(mapping) + far_findings(run, mapping)
    for w in run.report.warnings:
        run.say("warning", {"code": w["code"], "message": w["message"], "hint": w.get("hint")})
    run.timer.lap("propose")


def dry_run_report(run: Run) -> IngestReport:
    r = run.report
    r.status = "dry-run"
    r.records, r.rejected, r.mapped = run.read_count, len(run.rejects), len(run.records)
    r.rejects = run.rejects
    r.timings = run.timer.total()
    return r


def map_source(run: Run, cleanup: ExitStack) -> None:
    """The handler's publisher strategy: the file the store loads as it is (pass-through), or the
    records mapped to N-Triples in ``.staged.nt`` (rejects with reasons)."""
    handler, ctx, workdir = _handler(run), _ctx(run), run.workdir
    nt_path = workdir / ".staged.nt"
    cleanup.callback(nt_path.unlink, missing_ok=True)
    run.load = handler.file_load(run.source.path, run.mapping, ctx, workdir)
    if run.load is not None:
        if run.load.path != run.source.path:  # written by the handler (a flattened quad file)
            cleanup.callback(run.load.path.unlink, missing_ok=True)
        run.mapped = len(run.records)
        return
    run.written, run.mapped, rejects = _map_to_file(handler, run.records, run.mapping, ctx, nt_path, run.say)
    run.rejects.extend(rejects)
    run.triples_file = nt_path
    run.timer.lap("map")


def stage(run: Run, area: IngestStaging, cleanup: ExitStack) -> Staged:
    """Load the file of :func:`map_source` into the staging graph; start the pending load of a new graph."""
    store, load = run.twin.store, run.load
    if load is not None:
        estimate = load.path.stat().st_size * (1 if load.format == "ntriples" else 3)
        direct = (load.path, load.format, load.base_iri)
    else:
        estimate = run.triples_file.stat().st_size if run.triples_file is not None else 0
        direct = (run.triples_file, "ntriples", None) if run.written and run.triples_file is not None else None
    on_disk = estimate > STAGE_IN_MEMORY_BYTES
    staged = Staged(store if on_disk else area.store, on_disk)
    sst, staging, align = staged.store, run.staging, run.alignment_graph
    cleanup.callback(sst.drop_graphs, [staging, align])
    sst.drop_graphs([staging, align])
    # A new graph whose triples are exactly a file's (the source itself, or the mapped N-Triples)
    # plus a few alignment triples: the project store loads that file into the graph while the
    # staged copy is validated in memory, so both loads run at once instead of one after the other.
    if direct is not None and not on_disk and estimate >= PENDING_LOAD_BYTES and not store.has_graph(run.graph):
        staged.pending = cleanup.enter_context(store.pending_load(direct[0], format=direct[1], graph=run.graph, base_iri=direct[2]))
    if load is not None:
        run.say("stage", {"passthrough": True, "on_disk": on_disk})
        sst.load(load.path, format=load.format, graph=staging, bulk=True, base_iri=load.base_iri)
        if load.align is not None and staged.pending is not None:
            # the alignment triples apart too (the pending graph gets just those), and in the
            # staged graph (one graph validates in half the time of a union of two)
            sst.update(load.align(staging, align))
            sst.update(f"ADD <{align}> TO <{staging}>")
            staged.alignment = True
        elif load.align is not None:
            sst.update(load.align(staging, None))
    else:
        run.say("stage", {"triples": run.written, "on_disk": on_disk})
        if run.written and run.triples_file is not None:
            sst.load(run.triples_file, format="ntriples", graph=staging, bulk=True if on_disk else None)
    run.timer.lap("stage")
    r = run.report
    r.records, r.mapped, r.rejected, r.rejects = run.read_count, run.mapped, run.read_count - run.mapped, run.rejects
    r.triples = sst.graph_size(staging)
    return staged


def validate(run: Run, staged: Staged) -> None:
    """The project's shapes on the staged graph; ``validation.nt`` next to the source."""
    opts, r = run.opts, run.report
    if opts.validate and r.triples:
        run.say("validate", {"triples": r.triples})
        run.outcome = validate_staged(run.twin.store, run.twin.naming, run.project, [run.staging], staged_in=staged.store, shapes=opts.shapes, engine=opts.engine)
        r.validation = run.outcome.summary
        write_atomic(run.workdir / "validation.nt", run.outcome.report)
    elif opts.validate:
        r.validation = ValidationSummary(conforms=True, engine="none", results=["nothing staged: no triples to validate"])
    run.timer.lap("validate")


def review(run: Run, staged: Staged) -> None:
    """Re-ingest review (:mod:`kg_twin.ingest.review`): the entity diff with the published graph; a
    large removal needs ``accept_removals``. Not for a quarantine, nor a new graph (pending load)."""
    if staged.pending is None and accepted(run.outcome, run.opts.accept):
        run.report.diff = entity_diff(run.twin.store, run.graph, staged.store, run.staging, run.workdir)
        check_removals(run.report.diff, accept=run.opts.accept_removals, name=run.name)


def accepted(outcome: Outcome | None, accept: str) -> bool:
    """Whether a validation outcome may be published at the caller's ``accept`` level."""
    if outcome is None:
        return True
    if outcome.violations:
        return accept == "violations"
    return not (outcome.warnings and accept == "none")


def publish(run: Run, staged: Staged) -> None:
    """The staged triples and the provenance to the target graph (or to the quarantine) in one step."""
    naming, r, store = run.twin.naming, run.report, run.twin.store
    ok = accepted(run.outcome, run.opts.accept)
    ended = datetime.now(timezone.utc)
    activity = IRI(naming.mint(run.project, "ingest", f"{ended.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"))
    r.activity = str(activity)
    r.status = "published" if ok else "quarantined"
    target = run.graph if ok else run.quarantine
    prov_ops = provenance_update(run, activity, target, ended)
    if ok and staged.pending is not None:
        publish_pending(store, staged, run.alignment_graph, run.quarantine, prov_ops)
    else:
        # written out once and bulk loaded (SPARQL MOVE of big graphs is far slower); a pending
        # load (not published) is removed when the run's cleanup ends
        publish_staged(store, staged.store, run.staging, target, run.quarantine if ok else None, r.triples, run.workdir / ".publish.nt", prov_ops)
    r.graph = run.graph if ok else None
    run.timer.lap("publish")


def report(run: Run) -> IngestReport:
    """Tell the twin, write ``report.json`` and ``rejects.csv``; a quarantined run raises :class:`ShapeViolation`."""
    r = run.report
    run.twin.notify(run.project)
    r.timings = run.timer.total()
    run.say("done", {"status": r.status})
    _write_outputs(run.source.dir, r)
    if r.status == "quarantined":
        err = ShapeViolation(
            "SHACL_VIOLATION",
            f"{run.name}: {severity_text(r.validation)}; the staged graph was quarantined in <{run.quarantine}>, the published graph is unchanged",
            hint="fix the data (or the mapping) and ingest again, or publish anyway with --accept-violations / accept=violations",
            where={"file": run.name},
            errors=[{"result": line} for line in (r.validation.results if r.validation else [])[:200]],
        )
        err.report = r  # type: ignore[attr-defined]
        err.quarantine = run.quarantine  # type: ignore[attr-defined]
        raise err
    return r


def _handler(run: Run) -> SourceHandler:
    if run.handler is None:  # pragma: no cover - choose_handler runs first
        raise RuntimeError("no handler chosen")
    return run.handler


def _ctx(run: Run) -> MapContext:
    if run.ctx is None:  # pragma: no cover - choose_handler runs first
        raise RuntimeError("no map context")
    return run.ctx


def _where(e: KgTwinError, name: str) -> KgTwinError:
    if "file" not in e.where:
        e.where = {"file": name, **e.where}
    return e


def _read_kwargs(handler: SourceHandler, mapping: dict[str, Any] | None) -> dict[str, Any]:
    """Reader options from a reviewed mapping's ``read:`` section (only for readers that take options)."""
    opts = (mapping or {}).get("read") or {}
    if not opts:
        return {}
    params = inspect.signature(handler.read).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return dict(opts)
    raise InputError("READ_OPTIONS", f"reader {handler.name!r} takes no options, but the mapping has a 'read:' section", hint="remove 'read:' from the mapping file")


def severity_text(summary: ValidationSummary | None) -> str:
    if summary is None:
        return "not validated"
    parts = [f"{v} {k.rsplit('#', 1)[-1].lower()}{'s' if v != 1 else ''}" for k, v in sorted(summary.by_severity.items())]
    return ", ".join(parts) or ("conforms" if summary.conforms else f"{summary.total} results")


def _map_to_file(handler: SourceHandler, records: list[Record], mapping: dict[str, Any], ctx: MapContext, nt_path: Path, say: Progress) -> tuple[int, int, list[Reject]]:
    """Run the mapper, stream N-Triples to ``nt_path`` -> (triples written, records mapped, rejects)."""
    rejects: list[Reject] = []
    rejected_origins: set[str] = set()
    n = 0
    with open(nt_path, "w", encoding="utf-8", newline="\n") as fh:
        w = NTriplesWriter(fh)
        for item in handler.map(records, mapping, ctx):
            if isinstance(item, Reject):
                rejects.append(item)
                rejected_origins.add(item.origin.model_dump_json())
                continue
            try:
                w.add(*item)
            except ValueError as e:  # a mapper produced an IRI that is not an IRI
                nt_path.unlink(missing_ok=True)
                raise InputError("BAD_TERM", f"reader {handler.name!r} produced an invalid RDF term: {e}", where={"file": ctx.source_name}, hint="check the mapping's IRI templates / classes (no spaces or <>\" in IRIs)") from None
            n += 1
            if n % (PROGRESS_EVERY * 10) == 0:
                say("map", {"triples": n})
    # a record with one or more rejects counts once as rejected
    mapped = len(records) - min(len(records), len(rejected_origins))
    return n, mapped, rejects


def _write_outputs(d: Path | None, report: IngestReport) -> None:
    if d is None:
        return
    write_atomic(d / "report.json", report.model_dump_json(indent=2).encode("utf-8"))
    buf = io.StringIO()
    cw = csv.writer(buf, lineterminator="\n")
    cw.writerow(["where", "file", "row", "feature", "element", "line", "code", "reason", "hint"])
    for r in report.rejects:
        o = r.origin
        cw.writerow([o.describe(), o.file, o.row or "", o.feature or "", o.element or "", o.line or "", r.code, r.reason, r.hint or ""])
    write_atomic(d / "rejects.csv", buf.getvalue().encode("utf-8"))


def default_agent() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def ingest_many(twin: IngestTwin, project: str, paths: Iterable[str | Path], opts: IngestOptions | None = None) -> list[IngestReport | KgTwinError]:
    """Ingest several files one after the other; an error on one file does not stop the others."""
    out: list[IngestReport | KgTwinError] = []
    for p in paths:
        try:
            out.append(ingest(twin, project, p, opts))
        except KgTwinError as e:
            out.append(e)
    return out


__all__ = [
    "PROVENANCE_GRAPH", "IngestOptions", "Received", "default_agent", "detect", "get_handler", "handler_names", "ingest",
    "ingest_many", "load_handlers", "receive", "source_slug", "target_graph", "unavailable_handlers",
]
