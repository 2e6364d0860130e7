"""``POST /projects/{p}/ingest``: upload a file, get a validated named graph (or a job to poll).

Multipart form fields: ``file`` (the source; a shapefile may come with its sidecars as more
``file`` parts, or zipped) and optionally ``mapping`` (a reviewed mapping YAML, as a file or text).
Query parameters: ``reader``, ``dry_run``, ``accept`` (``none`` | ``warnings`` | ``violations``),
``async``, ``graph`` (short graph name), ``crs``, ``encoding``, ``accept_removals``, ``structured_only``.

* nothing mapped (every record rejected, e.g. a wrong ``crs``): ``400 NOTHING_MAPPED``; a corrupt or
  cut source: ``400`` (``TRUNCATED_FILE``, ``IFC_DANGLING_REFERENCES`` ...); a re-ingest removing more
  than 20 % of the published entities: ``409 REMOVALS_NOT_ACCEPTED`` - the published graph unchanged;
* a file no reader structures: ``200`` with ``document_only: true`` in the report (``structured_only=true``: 400).

* published: ``200`` with the :class:`~kg_twin.models.IngestReport`;
* violations not accepted: ``422``, the error body plus ``report`` and ``quarantine`` (graph IRI);
* ``dry_run``: ``200`` with the report (``status: dry-run``) and the proposed mapping; with
  ``Accept: application/yaml`` the reviewable mapping file itself;
* big uploads (> :data:`ASYNC_BYTES`) or ``async=true``: ``202`` with the job and a ``Location``;
  ``GET /projects/{p}/jobs/{id}`` gives status, progress and, at the end, the report.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from kg_twin.access import Caller
from kg_twin.api import schemas
from kg_twin.api.deps import get_caller, get_twin
from kg_twin.api.openapi import READ, errors
from kg_twin.errors import InputError, PayloadTooLarge, ShapeViolation
from kg_twin.service import Twin

router = APIRouter(tags=["ingest"])

ASYNC_BYTES = 8 * 1024 * 1024  # uploads larger than this run as background jobs
SIDECARS = {".shx", ".dbf", ".prj", ".cpg", ".qpj"}


def _agent(caller: Caller) -> str:
    if caller.anonymous:
        return "anonymous"
    return f"token:{caller.label}" if caller.label else f"token:{caller.token_id}"


async def _save_upload(form: Any, twin: Twin) -> tuple[Path, Path, int, str | None]:
    """Write the uploaded file parts to a fresh temp folder -> (folder, primary file, total bytes, mapping text)."""
    files = [v for k, v in form.multi_items() if k == "file" and isinstance(v, UploadFile)]
    if not files:
        raise InputError("NO_FILE", "the form has no 'file' part", hint="send multipart/form-data with the source in a field named 'file'")
    root = Path(twin.settings.data_dir) / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=root, prefix="ingest-"))
    total = 0
    names: list[str] = []
    try:
        for up in files:
            name = Path(up.filename or "").name
            if not name or name in (".", ".."):
                raise InputError("NO_FILENAME", "an uploaded 'file' part has no file name", hint="set filename= in the part's Content-Disposition (curl -F file=@path does)")
            if name in names:
                raise InputError("DUPLICATE_FILE", f"file {name!r} was sent twice")
            names.append(name)
            with open(folder / name, "wb") as out:
                while chunk := await up.read(1 << 20):
                    total += len(chunk)
                    if total > twin.settings.max_upload_bytes:
                        raise PayloadTooLarge("UPLOAD_TOO_LARGE", f"upload exceeds {twin.settings.max_upload_bytes} bytes", hint="raise KG_TWIN_MAX_UPLOAD_BYTES or run `kg-twin ingest` on the server")
                    out.write(chunk)
        stems_with_shp = {Path(n).stem for n in names if Path(n).suffix.lower() == ".shp"}
        primary = [n for n in names if not (Path(n).suffix.lower() in SIDECARS and Path(n).stem in stems_with_shp)]
        if len(primary) != 1:
            raise InputError("ONE_SOURCE_PER_REQUEST", f"one source file per request, got {len(primary)}: {', '.join(primary)}", hint="send one file per request (a .shp with its .dbf/.shx/.prj/.cpg sidecars counts as one, or zip them)")
        mapping_text = None
        m = form.get("mapping")
        if isinstance(m, UploadFile):
            mapping_text = (await m.read()).decode("utf-8", "strict")
        elif isinstance(m, str) and m.strip():
            mapping_text = m
        return folder, folder / primary[0], total, mapping_text
    except UnicodeDecodeError:
        shutil.rmtree(folder, ignore_errors=True)
        raise InputError("MAPPING_ENCODING", "the mapping part is not UTF-8", hint="send the mapping YAML as UTF-8") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _violation_response(e: ShapeViolation) -> JSONResponse:
    body = e.to_dict()
    rep = getattr(e, "report", None)
    body["report"] = rep.model_dump(mode="json") if rep is not None else None
    body["quarantine"] = getattr(e, "quarantine", None)
    return JSONResponse(body, status_code=422)


_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "the source file (a .shp may come with its sidecars as more 'file' parts)"},
                        "mapping": {"type": "string", "format": "binary", "description": "optional reviewed mapping YAML (from dry_run)"},
                    },
                }
            }
        },
    },
    "description": "Uploads at most KG_TWIN_MAX_UPLOAD_BYTES (413 beyond); a mapping YAML is bounded by KG_TWIN_MAX_NESTING_DEPTH and "
    "KG_TWIN_MAX_YAML_NODES (400 beyond). Uploads over 8 MiB, or `async=true`, run as a job (202).",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": schemas.IngestReport,
        "description": "published (or dry run) with the ingest report; a dry run with `Accept: application/yaml` gives the proposed mapping file",
        "content": {"application/yaml": {"schema": {"type": "string"}}},
    },
    202: {"model": schemas.Job, "description": "accepted as a background job; poll the Location"},
    **errors(400, *READ, 413, 415),
    422: {"model": schemas.IngestViolationBody, "description": "SHACL violations not accepted: the data is quarantined; the error body plus 'report' and 'quarantine'"},
}


@router.post("/projects/{project}/ingest", summary="Ingest a file into a project (detect, map, validate, publish)", response_class=Response, responses=_RESPONSES, openapi_extra=_UPLOAD_DOC)
async def post_ingest(
    project: str,
    request: Request,
    reader: Optional[str] = Query(None, description="reader to use instead of detecting the format (GET /ingest/readers)"),
    dry_run: bool = Query(False, description="only read and propose a mapping; nothing is stored"),
    accept: str = Query("warnings", description="publish despite: none | warnings | violations"),
    async_: bool = Query(False, alias="async", description="run as a background job"),
    graph: Optional[str] = Query(None, description="graph name (default: the file name, lowercased)"),
    crs: Optional[str] = Query(None, description="CRS of GIS files without one, e.g. EPSG:2154"),
    encoding: Optional[str] = Query(None, description="text encoding of a CSV/TSV source, e.g. latin-1 (dry runs too)"),
    accept_removals: bool = Query(False, description="publish a re-ingest that removes more than 20 % of the published entities (else 409)"),
    structured_only: bool = Query(False, description="refuse (400 NOT_STRUCTURED) a file no reader structures, instead of storing it as a document only"),
    twin: Twin = Depends(get_twin),
    caller: Caller = Depends(get_caller),
) -> Any:
    from kg_twin.ingest.mapping import dump_yaml, load_mapping_text
    from kg_twin.ingest.pipeline import IngestOptions, ingest

    twin.access.require(caller, project, "writer")
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise InputError("NOT_MULTIPART", f"expected multipart/form-data, got {ctype or 'no content type'}", hint="curl -F file=@points.csv ...", status=415)
    form = await request.form(max_files=64, max_fields=32)
    folder, primary, total, mapping_text = await _save_upload(form, twin)
    try:
        opts = IngestOptions(
            reader=reader or None,
            dry_run=dry_run,
            accept=accept,
            agent=_agent(caller),
            name=primary.name,
            graph=graph or None,
            mapping=load_mapping_text(mapping_text, name="mapping") if mapping_text else None,
            options={**({"crs": crs} if crs else {}), **({"read": {"encoding": encoding}} if encoding else {})},
            accept_removals=accept_removals,
            structured_only=structured_only,
        )
        opts.check()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

    if not opts.dry_run and (async_ or total > ASYNC_BYTES):
        def run_job(progress: Any) -> Any:
            try:
                return ingest(twin, project, primary, opts, progress=progress)
            finally:
                shutil.rmtree(folder, ignore_errors=True)

        job = twin.ingest_jobs.submit(project, primary.name, run_job)
        loc = f"/projects/{project}/jobs/{job.id}"
        return JSONResponse(job.to_dict(), status_code=202, headers={"Location": loc})

    try:
        report = await run_in_threadpool(ingest, twin, project, primary, opts)
    except ShapeViolation as e:
        return _violation_response(e)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if opts.dry_run and "yaml" in request.headers.get("accept", ""):
        return Response(dump_yaml(report.mapping or {}, source=report.source, project=project), media_type="application/yaml")
    return JSONResponse(report.model_dump(mode="json"))


@router.get("/projects/{project}/jobs/{job_id}", summary="Status, progress and report of an ingest job", response_model=schemas.Job, response_model_exclude_unset=True, responses=errors(*READ))
def get_job(project: str, job_id: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Any:

    twin.access.require(caller, project, "reader")
    return twin.ingest_jobs.get(project, job_id).to_dict()


@router.get("/projects/{project}/jobs", summary="Ingest jobs of a project (this server run)", response_model=schemas.JobList, response_model_exclude_unset=True, responses=errors(*READ))
def list_jobs(project: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Any:

    twin.access.require(caller, project, "reader")
    return {"jobs": [{k: v for k, v in j.to_dict().items() if k != "report"} for j in twin.ingest_jobs.list(project)]}


@router.get("/ingest/readers", summary="Source readers this server has (name, extensions)", response_model=schemas.ReaderList)
def list_readers() -> Any:
    from kg_twin.ingest.pipeline import load_handlers, unavailable_handlers

    hs = load_handlers()
    return {
        "readers": [{"name": n, "extensions": list(getattr(h, "extensions", ())), "passthrough": bool(getattr(h, "passthrough", False))} for n, h in sorted(hs.items())],
        "unavailable": unavailable_handlers(),
    }



class CorrectionsBody(BaseModel):
    corrections: dict[str, str] = Field(..., description="point name -> Brick point class (brick:X, X or a full IRI)", max_length=10000)


@router.get("/projects/{project}/review/{source}", summary="Point classes of a source that wait for a person (low confidence), and the kept corrections", responses=errors(400, *READ))
def get_review(project: str, source: str, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Any:
    from kg_twin.ingest.corrections import corrections_path, load_corrections, review_list

    twin.access.require(caller, project, "reader")
    corrections_path(twin.settings.data_dir, project, source)  # a bad source name is a 400
    graph = twin.naming.graph(project, source)
    items = review_list(twin.store, graph) if twin.store.has_graph(graph) else []
    return {"source": source, "graph": graph, "items": items, "corrections": load_corrections(twin.settings.data_dir, project, source)}


@router.post("/projects/{project}/review/{source}", summary="Keep a person's corrections of point classes; every later ingest of the source applies them", responses=errors(400, *READ))
def post_review(project: str, source: str, body: CorrectionsBody, twin: Twin = Depends(get_twin), caller: Caller = Depends(get_caller)) -> Any:
    from kg_twin.ingest.corrections import save_corrections

    twin.access.require(caller, project, "writer")
    kept = save_corrections(twin.settings.data_dir, project, source, body.corrections)
    return {"source": source, "corrections": kept, "applied": "at the next ingest of the source (POST /projects/{project}/ingest)"}
