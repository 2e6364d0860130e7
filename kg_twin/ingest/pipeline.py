"""One ingest: file -> records -> reviewed mapping -> triples -> staging -> SHACL -> published graph.

:func:`ingest` is what ``kg-twin ingest`` and ``POST /projects/{p}/ingest`` call:

1. **Receive**: sha256 of the file (a shapefile's sidecars ``.dbf .shx .prj .cpg`` included), a copy
   in ``{data_dir}/sources/{project}/{sha256}/`` (temp file + ``os.replace``).
2. **Detect**: every registered handler sniffs the file; the most confident wins (``reader=`` overrides).
3. **Read**: records with their origin; rows a reader cannot read become rejects.
4. **Propose**: the handler proposes a mapping (confidence per decision), or the caller gives a
   reviewed one. The mapping used is always the YAML round trip of the proposal, so a dry-run file
   passed back with ``--mapping`` gives the same graph. It is stored as ``mapping.yml`` next to the source.
5. **Map**: typed triples with deterministic IRIs, streamed to N-Triples on disk; rejects with reasons.
   Pass-through handlers (``passthrough = True``, RDF files) load the file into staging directly.
6. **Stage + validate**: the triples go to ``naming.staging_graph(project, source)``; the project's
   SHACL shapes run on it (:mod:`kg_twin.ingest.validate`).
7. **Publish**: one SPARQL update moves staging to ``{base}graph/{project}/{source}`` (replacing the
   previous version) and records the PROV-O activity in ``{base}graph/{project}/provenance`` - or moves
   staging to the quarantine graph when violations are not accepted (:class:`~kg_twin.errors.ShapeViolation`, 422).
8. **Report**: :class:`~kg_twin.models.IngestReport`; ``report.json``, ``rejects.csv`` and
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
import importlib
import inspect
import io
import json
import logging
import mimetypes
import os
import pkgutil
import re
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from kg_twin.errors import InputError, KgTwinError, ShapeViolation
from kg_twin.ingest.base import HANDLERS, MapContext, SourceHandler
from kg_twin.ingest.mapping import dump_yaml, mapping_hash, normalize, roundtrip
from kg_twin.ingest.review import check_mapped, check_removals, entity_diff, structure_check, with_read_options
from kg_twin.models import IngestReport, Record, Reject, ValidationSummary
from kg_twin.rdf import IRI, XSD_BOOLEAN, XSD_DATETIME, XSD_INTEGER, Literal, NTriplesWriter
from kg_twin.terms import DCAT, DCTERMS, KGT, PROV, RDF, RDFS, XSD

log = logging.getLogger(__name__)

HANDLER_PACKAGES = ("kg_twin.ingest.readers", "kg_twin.ingest.mappers")
# extra handler modules (third-party readers), comma-separated: KG_TWIN_INGEST_HANDLERS=pkg.mod,other.mod
EXTRA_HANDLERS_ENV = "KG_TWIN_INGEST_HANDLERS"
SHAPEFILE_SIDECARS = (".shx", ".dbf", ".prj", ".cpg", ".qpj")
RESERVED_GRAPH_NAMES = {"default", "inferred", "provenance"}
ACCEPT_LEVELS = ("none", "warnings", "violations")
PROVENANCE_GRAPH = "provenance"
SNIFF_BYTES = 64 * 1024
PROGRESS_EVERY = 2000
BULK_TRIPLES = 10_000  # a new graph at least this big is published with the bulk loader
INLINE_BYTES = 64 * 1024 * 1024  # up to this much N-Triples, publish = one SPARQL update (data + provenance)
STAGE_IN_MEMORY_BYTES = 512 * 1024 * 1024  # bigger sources (N-Triples bytes, estimated) are staged on disk
PENDING_LOAD_BYTES = 1024 * 1024  # from this size a new graph is loaded while its staged copy is validated

Progress = Callable[[str, dict[str, Any]], None]

_unavailable: dict[str, str] = {}
_staging_lock = threading.Lock()  # handler module -> why it could not be imported


# ----------------------------------------------------------------------------- handlers
def load_handlers() -> dict[str, SourceHandler]:
    """Import every handler module (they register themselves) and return the registry.

    A module that cannot be imported (missing optional dependency) is logged and listed by
    :func:`unavailable_handlers`; the others still work.
    """
    for pkg_name in HANDLER_PACKAGES:
        try:
            pkg = importlib.import_module(pkg_name)
        except ModuleNotFoundError:
            continue
        for info in pkgutil.iter_modules(pkg.__path__):
            name = f"{pkg_name}.{info.name}"
            if name in _unavailable:
                continue
            try:
                importlib.import_module(name)
            except ImportError as e:
                _unavailable[name] = str(e)
                log.warning("ingest handler module %s is unavailable: %s", name, e)
    for name in filter(None, (x.strip() for x in os.environ.get(EXTRA_HANDLERS_ENV, "").split(","))):
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise InputError("HANDLER_IMPORT", f"cannot import ingest handler module {name!r} ({EXTRA_HANDLERS_ENV}): {e}", hint=f"fix {EXTRA_HANDLERS_ENV} or install the module") from None
    return HANDLERS


def unavailable_handlers() -> dict[str, str]:
    load_handlers()
    return dict(_unavailable)


def handler_names() -> list[str]:
    return sorted(load_handlers())


def get_handler(name: str) -> SourceHandler:
    hs = load_handlers()
    if name not in hs:
        raise InputError("UNKNOWN_READER", f"no reader named {name!r}", hint=f"known readers: {', '.join(sorted(hs)) or '(none installed)'}")
    return hs[name]


def detect(path: Path, *, name: str | None = None) -> tuple[SourceHandler, float, dict[str, float]]:
    """The handler most confident it reads ``path`` -> (handler, confidence, all scores)."""
    hs = load_handlers()
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    scores: dict[str, float] = {}
    for hname, h in sorted(hs.items()):
        try:
            scores[hname] = float(h.sniff(Path(path), head))
        except (OSError, ValueError, UnicodeError, KgTwinError) as e:
            log.warning("reader %s could not sniff %s: %s", hname, path, e)
            scores[hname] = 0.0
    fname = name or Path(path).name
    suffix = Path(fname).suffix.lower()

    def rank(item: tuple[str, float]) -> tuple[float, int, str]:
        exts = tuple(e if e.startswith(".") else "." + e for e in getattr(hs[item[0]], "extensions", ()))
        return (item[1], 1 if suffix in exts else 0, item[0])

    best = max(scores.items(), key=rank, default=None)
    if best is None or best[1] <= 0.0:
        raise InputError(
            "UNKNOWN_FORMAT",
            f"{fname}: no reader recognises this file",
            where={"file": fname},
            hint=f"pass --reader NAME (one of: {', '.join(sorted(hs)) or 'none installed'}) or check the file type",
        )
    return hs[best[0]], best[1], scores


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


def media_type_of(filename: str) -> str:
    ext = Path(filename).suffix.lower()
    known = {
        ".ttl": "text/turtle", ".nt": "application/n-triples", ".nq": "application/n-quads", ".trig": "application/trig",
        ".jsonld": "application/ld+json", ".rdf": "application/rdf+xml", ".owl": "application/rdf+xml",
        ".csv": "text/csv", ".tsv": "text/tab-separated-values", ".geojson": "application/geo+json",
        ".ifc": "application/x-step", ".shp": "application/vnd.shp", ".zip": "application/zip",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".json": "application/json",
        ".pdf": "application/pdf", ".txt": "text/plain", ".md": "text/markdown",
    }
    return known.get(ext) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


# ----------------------------------------------------------------------------- receive
@dataclass
class Received:
    sha256: str
    name: str  # original file name
    path: Path  # the stored copy (or the original, for a dry run)
    dir: Path | None  # {data_dir}/sources/{project}/{sha256} (None: dry run, nothing stored)
    size: int
    media_type: str
    parts: dict[str, str] = field(default_factory=dict)  # member file -> sha256 (shapefile sets)


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def _members(path: Path, name: str) -> list[tuple[Path, str]]:
    """(file, stored name) of the source: the file itself plus a shapefile's sidecars."""
    out = [(path, name)]
    if Path(name).suffix.lower() == ".shp":
        stem = Path(name).stem
        for sib in sorted(path.parent.iterdir()):
            if sib != path and sib.stem == path.stem and sib.suffix.lower() in SHAPEFILE_SIDECARS:
                out.append((sib, stem + sib.suffix))
    return out


def receive(sources_root: Path, project: str, path: Path, *, name: str | None = None, store: bool = True) -> Received:
    """Hash the file (and sidecars) and copy it into ``sources/{project}/{sha256}/`` (atomic per file)."""
    path = Path(path)
    name = Path(name or path.name).name
    if not path.is_file():
        raise InputError("FILE_NOT_FOUND", f"no such file: {path}", where={"file": name}, hint="check the path")
    members = _members(path, name)
    parts: dict[str, str] = {}
    size = 0
    for p, n in members:
        digest, nbytes = _sha256_file(p)
        parts[n] = digest
        size += nbytes if p == path else 0
    if len(members) == 1:
        sha = parts[name]
    else:  # a set of files: hash of the members' names and hashes
        sha = hashlib.sha256("".join(f"{n}\0{parts[n]}\n" for n in sorted(parts)).encode()).hexdigest()
    if not store:
        return Received(sha, name, path, None, size, media_type_of(name), parts if len(members) > 1 else {})
    d = Path(sources_root) / project / sha
    d.mkdir(parents=True, exist_ok=True)
    for p, n in members:
        target = d / n
        if target.is_file() and target.stat().st_size == p.stat().st_size:
            continue
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".recv-", suffix=".part")
        os.close(fd)
        try:
            shutil.copy2(p, tmp)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return Received(sha, name, d / name, d, size, media_type_of(name), parts if len(members) > 1 else {})


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ----------------------------------------------------------------------------- options
@dataclass
class IngestOptions:
    """What the caller asked for (CLI flags / query parameters)."""

    reader: str | None = None  # handler name (overrides sniffing)
    mapping: dict[str, Any] | None = None  # a reviewed mapping (from --mapping FILE)
    dry_run: bool = False  # only read + propose; nothing stored
    accept: str = "warnings"  # publish despite: none (nothing) | warnings | violations
    agent: str = ""  # who asked (token label / user), for prov:wasAssociatedWith
    name: str | None = None  # the file's original name (uploads)
    graph: str | None = None  # short graph name (default: slug of the file name)
    shapes: Sequence[str | Path] | None = None  # shape files instead of the project's shapes
    validate: bool = True
    engine: str | None = None  # SHACL engine for kg_twin.validation (kgtwin | pyshacl | auto)
    options: dict[str, Any] = field(default_factory=dict)  # handler options (crs, subjects, read: {encoding}, ...)
    accept_removals: bool = False  # publish a re-ingest that removes > 20 % of the previous entities
    structured_only: bool = False  # refuse a file no reader structures (instead of a document-only entry)

    def check(self) -> None:
        if self.accept not in ACCEPT_LEVELS:
            raise InputError("BAD_ACCEPT", f"accept={self.accept!r} is not one of {', '.join(ACCEPT_LEVELS)}", hint="accept=violations publishes despite violations; accept=warnings (default) publishes despite warnings only")


class _ProjectLookup:
    """``text -> [IRI]`` over the project's labels, identifiers and IFC GlobalIds; built at first use."""

    def __init__(self, twin: Any, project: str, exclude: str) -> None:
        self.twin, self.project, self.exclude = twin, project, exclude
        self._index: dict[str, set[str]] | None = None

    def __call__(self, text: str) -> list[str]:
        if self._index is None:
            from kg_twin.store.base import Dataset
            from kg_twin.terms import REF

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


def _agent_iri(twin: Any, project: str, agent: str) -> IRI:
    return IRI(twin.naming.mint(project, "agent", agent or "anonymous"))


def ingest(twin: Any, project: str, path: str | Path, opts: IngestOptions | None = None, *, progress: Progress | None = None) -> IngestReport:
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
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    started = datetime.now(timezone.utc)

    def lap(stage: str, t0: float) -> float:
        now = time.perf_counter()
        timings[stage] = round(now - t0, 4)
        return now

    # 1. receive
    say("receive", {"file": name})
    t = time.perf_counter()
    rec = receive(twin.settings.sources_path, project, path, name=name, store=not opts.dry_run)
    t = lap("receive", t)
    naming = twin.naming
    source_iri = naming.mint(project, "source", rec.sha256)
    slug = source_slug(opts.graph or name)
    graph = naming.graph(project, slug)
    report = IngestReport(project=project, source=name, sha256=rec.sha256, status="running")
    try:
        return _run(twin, project, rec, opts, report, slug, graph, source_iri, started, t_start, timings, lap, say)
    except KgTwinError as e:
        _where(e, name)
        if isinstance(e, ShapeViolation):
            raise
        report.status = "failed"
        report.timings = {**timings, "total": round(time.perf_counter() - t_start, 4)}
        if rec.dir is not None:
            body = json.loads(report.model_dump_json())
            body["error"] = e.to_dict()
            _write_atomic(rec.dir / "report.json", json.dumps(body, indent=2, ensure_ascii=False).encode())
        raise


def _run(twin: Any, project: str, rec: Received, opts: IngestOptions, report: IngestReport, slug: str, graph: str,
         source_iri: str, started: datetime, t_start: float, timings: dict[str, float], lap: Callable[[str, float], float], say: Progress) -> IngestReport:
    naming = twin.naming
    store = twin.store
    name = rec.name
    t = time.perf_counter()

    # 2. detect
    mapping_in = opts.mapping
    if opts.reader:
        handler, conf = get_handler(opts.reader), 1.0
    elif mapping_in and mapping_in.get("handler"):
        handler, conf = get_handler(str(mapping_in["handler"])), 1.0
    else:
        handler, conf, _scores = detect(rec.path, name=name)
    report.reader = handler.name
    if mapping_in and mapping_in.get("handler") and str(mapping_in["handler"]) != handler.name:
        raise InputError(
            "MAPPING_READER_MISMATCH",
            f"the mapping is for reader {mapping_in['handler']!r}, but reader {handler.name!r} was asked for",
            hint="drop --reader (the mapping's 'handler:' selects the reader) or use a mapping made for that reader",
        )
    say("detect", {"reader": handler.name, "confidence": conf})
    report.document_only = structure_check(handler.name, conf, bool(opts.reader or (mapping_in or {}).get("handler")), opts.structured_only, name)

    options = dict(opts.options)
    staging = naming.staging_graph(project, slug)
    options.setdefault("lookup", _ProjectLookup(twin, project, exclude=graph))
    ctx = MapContext(naming=naming, project=project, source_iri=source_iri, source_name=name, options=options)
    passthrough = bool(getattr(handler, "passthrough", False)) and not (mapping_in and _passthrough_off(mapping_in))

    # 3. read
    records: list[Record] = []
    rejects: list[Reject] = []
    n_in = 0
    for item in handler.read(rec.path, **_read_kwargs(handler, with_read_options(mapping_in, opts.options.get("read")))):
        n_in += 1
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            records.append(item)
        if n_in % PROGRESS_EVERY == 0:
            say("read", {"records": n_in})
    t = lap("read", t)
    say("read", {"records": n_in, "done": True})

    # 4. propose (or take the reviewed mapping)
    if mapping_in is not None:
        mapping = roundtrip(mapping_in)
        mapping.setdefault("handler", handler.name)
    else:
        proposal = handler.propose(records, ctx) if (records or passthrough) else {"version": 1, "handler": handler.name, "note": "no records to profile"}
        proposal = with_read_options(normalize(proposal), opts.options.get("read"))
        proposal.setdefault("handler", handler.name)
        mapping = roundtrip(proposal)
    mhash = mapping_hash(mapping)
    report.mapping = mapping
    t = lap("propose", t)

    if opts.dry_run:
        report.status = "dry-run"
        report.records = n_in
        report.rejected = len(rejects)
        report.mapped = len(records)
        report.rejects = rejects
        report.timings = {**timings, "total": round(time.perf_counter() - t_start, 4)}
        return report

    assert rec.dir is not None  # stored unless dry run (internal invariant)
    _write_atomic(rec.dir / "mapping.yml", dump_yaml(mapping, source=name, project=project).encode("utf-8"))

    # 5. map + stage: in the in-memory staging store (nothing reaches the project before publishing),
    #    or, for sources too big for memory, in the hidden staging graph of the project store
    mem, ingest_lock = _staging(twin)
    with ingest_lock, ExitStack() as cleanup:
        nt_path = rec.dir / ".staged.nt"
        cleanup.callback(nt_path.unlink, missing_ok=True)
        if passthrough:
            fmt = _triple_format(handler, rec.path)
            estimate = rec.size * (1 if fmt in ("ntriples", "nquads") else 3)
            mapped = len(records)
        else:
            n_written, mapped, map_rejects = _map_to_file(handler, records, mapping, ctx, rec.dir, say)
            rejects.extend(map_rejects)
            t = lap("map", t)
            estimate = nt_path.stat().st_size
        on_disk = estimate > STAGE_IN_MEMORY_BYTES
        sst = store if on_disk else mem
        align = f"{staging}/alignment"  # passthrough: the triples the alignment adds, apart
        # A new graph whose triples are exactly a file's (the source itself, or the mapped
        # N-Triples) plus a few alignment triples: the project store loads that file into the
        # graph while the staged copy is validated in memory; the graph is kept only if it is
        # published (pending_load), so both loads run at once instead of one after the other.
        direct: tuple[Path, str, str | None] | None = None
        if not on_disk and estimate >= PENDING_LOAD_BYTES and not store.has_graph(graph):
            if passthrough and fmt is not None and hasattr(handler, "alignment_update"):
                direct = (rec.path, fmt, source_iri)
            elif not passthrough and n_written:
                direct = (nt_path, "ntriples", None)
        cleanup.callback(sst.drop_graphs, [staging, align])
        sst.drop_graphs([staging, align])
        pending = cleanup.enter_context(store.pending_load(direct[0], format=direct[1], graph=graph, base_iri=direct[2])) if direct else None
        aligned = False
        if passthrough:
            say("stage", {"passthrough": True, "on_disk": on_disk})
            stage_fn = getattr(handler, "stage", None)
            if fmt is not None and hasattr(handler, "alignment_update"):
                # staging is empty: load straight into it (no staging-of-staging), then the handler's alignment
                sst.load(rec.path, format=fmt, graph=staging, bulk=True, base_iri=source_iri)
                if pending is not None:
                    # the alignment triples apart too (the pending graph gets just those), and in the
                    # staged graph (one graph validates in half the time of a union of two)
                    sst.update(handler.alignment_update(staging, ctx, into=align))
                    sst.update(f"ADD <{align}> TO <{staging}>")
                    aligned = True
                else:
                    sst.update(handler.alignment_update(staging, ctx))
            elif stage_fn is not None:
                stage_fn(sst, rec.path, staging, ctx)
            else:
                from kg_twin.formats import rdf_format_from_path

                sst.load(rec.path, format=rdf_format_from_path(name).name, graph=staging, bulk=True, base_iri=source_iri)
        else:
            say("stage", {"triples": n_written, "on_disk": on_disk})
            if n_written:
                sst.load(nt_path, format="ntriples", graph=staging, bulk=True if on_disk else None)
        t = lap("stage", t)
        report.records = n_in
        report.mapped = mapped
        report.rejected = n_in - mapped
        report.rejects = rejects
        report.triples = sst.graph_size(staging)
        check_mapped(report, rejects, name)  # all rejected / nothing read: an error, the published graph stays

        # 6. validate
        outcome = None
        if opts.validate and report.triples:
            say("validate", {"triples": report.triples})
            from kg_twin.ingest.validate import validate_staged

            outcome = validate_staged(twin, project, [staging], store=sst, shapes=opts.shapes, engine=opts.engine)
            report.validation = outcome.summary
            _write_atomic(rec.dir / "validation.nt", outcome.report)
        elif opts.validate:
            report.validation = ValidationSummary(conforms=True, engine="none", results=["nothing staged: no triples to validate"])
        t = lap("validate", t)

        publish = True
        if outcome is not None:
            if outcome.violations and opts.accept != "violations":
                publish = False
            elif outcome.warnings and opts.accept == "none":
                publish = False

        if publish and pending is None:  # re-ingest review (a pending load is a new graph): entity diff; a large removal needs accept_removals
            report.diff = entity_diff(store, graph, sst, staging, rec.dir)
            check_removals(report.diff, accept=opts.accept_removals, name=name)

        # 7. publish (or quarantine): the staged triples and the provenance, atomically
        ended = datetime.now(timezone.utc)
        activity = IRI(naming.mint(project, "ingest", f"{ended.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"))
        report.activity = str(activity)
        quarantine = naming.quarantine_graph(project, slug)
        report.status = "published" if publish else "quarantined"
        target = graph if publish else quarantine
        prov = _provenance(twin, project, rec, report, activity, source_iri, target, mapping, mhash, started, ended, opts, outcome)
        pg = naming.graph(project, PROVENANCE_GRAPH)
        prov_ops = [
            f"DELETE WHERE {{ GRAPH <{pg}> {{ <{target}> <{PROV}wasGeneratedBy> ?a }} }}",
            f"DELETE WHERE {{ GRAPH <{pg}> {{ <{target}> <{PROV}wasDerivedFrom> ?s }} }}",
            f"INSERT DATA {{ GRAPH <{pg}> {{\n{prov}}} }}",
        ]
        if pending is not None and publish:
            # the file is (being) loaded into the graph: add the alignment triples and the
            # provenance, then keep it
            if aligned:
                pending.add(sst.dump_bytes(format="ntriples", graphs=[align]))
            pending.wait()
            ops = [f"DELETE WHERE {{ GRAPH <{quarantine}> {{ ?s ?p ?o }} }}"] if store.has_graph(quarantine) else []
            pending.commit(" ;\n".join(ops + prov_ops))  # kept and recorded in one transaction
        else:
            # staged in memory, or (huge sources) in a hidden graph of the project store: either way
            # written out once and bulk loaded (SPARQL MOVE of big graphs is far slower); a pending
            # load (not published) is removed when this block ends
            _publish_staged(store, sst, staging, target, quarantine if publish else None, report.triples, rec.dir / ".publish.nt", prov_ops)
        report.graph = graph if publish else None
        t = lap("publish", t)

    twin.notify(project)
    report.timings = {**timings, "total": round(time.perf_counter() - t_start, 4)}
    say("done", {"status": report.status})
    _write_outputs(rec.dir, report)
    if not publish:
        err = ShapeViolation(
            "SHACL_VIOLATION",
            f"{name}: {severity_text(report.validation)}; the staged graph was quarantined in <{quarantine}>, the published graph is unchanged",
            hint="fix the data (or the mapping) and ingest again, or publish anyway with --accept-violations / accept=violations",
            where={"file": name},
            errors=[{"result": line} for line in (report.validation.results if report.validation else [])[:200]],
        )
        err.report = report  # type: ignore[attr-defined]
        err.quarantine = quarantine  # type: ignore[attr-defined]
        raise err
    return report


def _publish_staged(store: Any, staged: Any, staging: str, target: str, drop_quarantine: str | None, triples: int, pub_path: Path, prov_ops: list[str]) -> None:
    """Write the staged graph (of the in-memory staging store, or of the project store itself) to
    ``target`` of the project store.

    Small graphs: one SPARQL update (old content out, new content in, provenance) - a single
    transaction. From ``BULK_TRIPLES`` up: the store's bulk load (a replace, if the graph exists),
    then the provenance, all under the store's writer lock, so query snapshots see both or neither.
    """
    try:
        if triples:
            with open(pub_path, "wb") as fh:
                staged.dump(fh, format="ntriples", graphs=[staging])
        with store.transaction():
            exists = store.has_graph(target)
            ops: list[str] = []
            if drop_quarantine and store.has_graph(drop_quarantine):
                ops.append(f"DELETE WHERE {{ GRAPH <{drop_quarantine}> {{ ?s ?p ?o }} }}")
            inline = triples and pub_path.stat().st_size <= INLINE_BYTES
            if triples >= BULK_TRIPLES or (triples and not inline):
                # the bulk loader: a new graph straight in; an existing one replaced by the store
                # (on disk: drop + bulk load under its writer lock, with a redo journal)
                store.load(pub_path, format="ntriples", graph=target, bulk=True, replace=exists)
            else:
                if exists:
                    ops.append(f"DELETE WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }}")
                if triples:
                    ops.append(f"INSERT DATA {{ GRAPH <{target}> {{\n{pub_path.read_text(encoding='utf-8')}}} }}")
            store.update(" ;\n".join(ops + prov_ops))
    finally:
        pub_path.unlink(missing_ok=True)


def _staging(twin: Any) -> tuple[Any, Any]:
    """The twin's in-memory staging store (with the ontology closure, loaded once) and its lock.

    Staged triples are validated there; the project store only ever sees a finished graph
    (SPARQL ``MOVE``/``DROP`` of big graphs is slow on the on-disk store, a load is not).
    """
    from kg_twin.store.oxigraph import OxigraphStore

    with _staging_lock:
        st = getattr(twin, "_ingest_staging", None)
        if st is None:
            st = (OxigraphStore(None, settings=twin.settings), threading.RLock())
            twin._ingest_staging = st
        return st


def severity_text(summary: ValidationSummary | None) -> str:
    if summary is None:
        return "not validated"
    parts = [f"{v} {k.rsplit('#', 1)[-1].lower()}{'s' if v != 1 else ''}" for k, v in sorted(summary.by_severity.items())]
    return ", ".join(parts) or ("conforms" if summary.conforms else f"{summary.total} results")


def _triple_format(handler: SourceHandler, path: Path) -> str | None:
    """The RDF triple format of a pass-through file, when the handler can tell it (None: let the handler stage it)."""
    from kg_twin.formats import rdf_format_from_name

    fmt_of = getattr(handler, "format_of", None)
    if fmt_of is None:
        return None
    name = fmt_of(path)
    return None if rdf_format_from_name(name).quads else name


def _passthrough_off(mapping: dict[str, Any]) -> bool:
    p = mapping.get("passthrough")
    if isinstance(p, dict):
        return p.get("value") is False
    return p is False


def _map_to_file(handler: SourceHandler, records: list[Record], mapping: dict[str, Any], ctx: MapContext, d: Path, say: Progress) -> tuple[int, int, list[Reject]]:
    """Run the mapper, stream N-Triples to ``d/.staged.nt`` -> (triples written, records mapped, rejects)."""
    rejects: list[Reject] = []
    rejected_origins: set[str] = set()
    nt_path = d / ".staged.nt"
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


def _provenance(twin: Any, project: str, rec: Received, report: IngestReport, activity: IRI, source_iri: str, target: str,
                mapping: dict[str, Any], mhash: str, started: datetime, ended: datetime, opts: IngestOptions, outcome: Any) -> str:
    """N-Triples of the PROV-O record of one ingest (activity, source entity, mapping entity, agent)."""
    naming = twin.naming
    w = NTriplesWriter()
    A = IRI(RDF + "type")
    src = IRI(source_iri)
    act = activity
    agent = _agent_iri(twin, project, opts.agent)
    mp = IRI(naming.mint(project, "mapping", mhash))
    g = IRI(target)
    # the source file
    for c in (KGT + "Source", DCAT + "Distribution", PROV + "Entity"):
        w.add(src, A, IRI(c))
    w.add(src, IRI(KGT + "sha256"), Literal(rec.sha256))
    w.add(src, IRI(DCTERMS + "title"), Literal(rec.name))
    w.add(src, IRI(DCAT + "byteSize"), Literal(str(rec.size), XSD + "nonNegativeInteger"))
    w.add(src, IRI(DCAT + "mediaType"), IRI("https://www.iana.org/assignments/media-types/" + rec.media_type))
    w.add(src, IRI(DCTERMS + "format"), Literal(rec.media_type))
    for part, digest in sorted(rec.parts.items()):
        w.add(src, IRI(KGT + "memberFile"), Literal(f"{part} sha256:{digest}"))
    # the mapping
    w.add(mp, A, IRI(PROV + "Entity"))
    w.add(mp, A, IRI(KGT + "Mapping"))
    w.add(mp, IRI(KGT + "sha256"), Literal(mhash))
    w.add(mp, IRI(KGT + "handler"), Literal(str(mapping.get("handler", report.reader))))
    w.add(mp, IRI(DCTERMS + "format"), Literal("application/yaml"))
    # the agent
    w.add(agent, A, IRI(PROV + "Agent"))
    w.add(agent, IRI(RDFS + "label"), Literal(opts.agent or "anonymous"))
    # the activity
    w.add(act, A, IRI(PROV + "Activity"))
    w.add(act, A, IRI(KGT + "Ingest"))
    w.add(act, IRI(RDFS + "label"), Literal(f"ingest of {rec.name}"))
    w.add(act, IRI(PROV + "startedAtTime"), Literal(started.isoformat(), XSD_DATETIME))
    w.add(act, IRI(PROV + "endedAtTime"), Literal(ended.isoformat(), XSD_DATETIME))
    w.add(act, IRI(PROV + "wasAssociatedWith"), agent)
    w.add(act, IRI(PROV + "used"), src)
    w.add(act, IRI(PROV + "used"), mp)
    w.add(act, IRI(PROV + "generated"), g)
    w.add(act, IRI(KGT + "graph"), g)
    w.add(act, IRI(KGT + "project"), IRI(naming.project_iri(project)))
    w.add(act, IRI(KGT + "reader"), Literal(report.reader))
    w.add(act, IRI(KGT + "mappingHash"), Literal(mhash))
    w.add(act, IRI(KGT + "status"), Literal(report.status))
    w.add(act, IRI(KGT + "records"), Literal(str(report.records), XSD_INTEGER))
    w.add(act, IRI(KGT + "mapped"), Literal(str(report.mapped), XSD_INTEGER))
    w.add(act, IRI(KGT + "rejected"), Literal(str(report.rejected), XSD_INTEGER))
    w.add(act, IRI(KGT + "triples"), Literal(str(report.triples), XSD_INTEGER))
    if outcome is not None:
        s = outcome.summary
        w.add(act, IRI(KGT + "conforms"), Literal("true" if s.conforms else "false", XSD_BOOLEAN))
        w.add(act, IRI(KGT + "violations"), Literal(str(outcome.violations), XSD_INTEGER))
        w.add(act, IRI(KGT + "warnings"), Literal(str(outcome.warnings), XSD_INTEGER))
        w.add(act, IRI(KGT + "validationEngine"), Literal(s.engine))
        for n in outcome.shapes:
            w.add(act, IRI(KGT + "shapeSet"), Literal(n))
    w.add(act, IRI(KGT + "accepted"), Literal(opts.accept))
    # the produced graph
    w.add(g, IRI(PROV + "wasGeneratedBy"), act)
    w.add(g, IRI(PROV + "wasDerivedFrom"), src)
    return w.getvalue().decode("utf-8")


def _write_outputs(d: Path | None, report: IngestReport) -> None:
    if d is None:
        return
    _write_atomic(d / "report.json", report.model_dump_json(indent=2).encode("utf-8"))
    buf = io.StringIO()
    cw = csv.writer(buf, lineterminator="\n")
    cw.writerow(["where", "file", "row", "feature", "element", "line", "code", "reason", "hint"])
    for r in report.rejects:
        o = r.origin
        cw.writerow([o.describe(), o.file, o.row or "", o.feature or "", o.element or "", o.line or "", r.code, r.reason, r.hint or ""])
    _write_atomic(d / "rejects.csv", buf.getvalue().encode("utf-8"))


def default_agent() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def ingest_many(twin: Any, project: str, paths: Iterable[str | Path], opts: IngestOptions | None = None) -> list[IngestReport | KgTwinError]:
    """Ingest several files one after the other; an error on one file does not stop the others."""
    out: list[IngestReport | KgTwinError] = []
    for p in paths:
        try:
            out.append(ingest(twin, project, p, opts))
        except KgTwinError as e:
            out.append(e)
    return out


__all__ = [
    "IngestOptions", "Received", "detect", "get_handler", "handler_names", "ingest", "ingest_many", "load_handlers",
    "receive", "source_slug", "unavailable_handlers",
]
