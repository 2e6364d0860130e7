"""Background ingest jobs: big uploads (or ``?async=true``) run here, callers poll their status.

One worker thread per twin runs jobs in submission order (the store has one writer at a
time anyway). A job moves ``queued -> running -> done | failed``; ``progress`` holds the
current pipeline stage and its counters; ``report`` the :class:`IngestReport` once there is one
(also for a quarantined ingest, whose ``error`` then carries the 422 body).
Finished jobs are kept in memory (the newest :data:`KEEP` of them); every report is also on
disk next to its source (``sources/{project}/{sha256}/report.json``).

The composition root owns one :class:`JobManager` (``twin.ingest_jobs``).

>>> jm = JobManager()
>>> job = jm.submit("p", "x.csv", lambda progress: {"ok": True})
>>> jm.wait(job.id, timeout=5).status
'done'
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from kg_twin.errors import KgTwinError, NotFound

log = logging.getLogger(__name__)

KEEP = 500


@dataclass
class Job:
    id: str
    project: str
    source: str
    status: str = "queued"  # queued | running | done | failed
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    started: str | None = None
    finished: str | None = None
    progress: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "source": self.source,
            "status": self.status,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "progress": dict(self.progress),
            "report": self.report,
            "error": self.error,
        }


class JobManager:
    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Job, Callable[..., Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="kg-twin-ingest-jobs", daemon=True)
            self._thread.start()

    def submit(self, project: str, source: str, fn: Callable[[Callable[[str, dict[str, Any]], None]], Any]) -> Job:
        """Queue ``fn(progress)``; its return value (a pydantic model or dict) becomes the job's report."""
        job = Job(id=uuid.uuid4().hex[:16], project=project, source=source)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].status in ("done", "failed"):
                    self._jobs.pop(oldest)
                else:
                    break
            self._ensure_worker()
        self._queue.put((job, fn))
        return job

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, fn = item
            job.status = "running"
            job.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
            t0 = time.perf_counter()

            def progress(stage: str, info: dict[str, Any], job: Job = job) -> None:
                job.progress = {"stage": stage, **info, "elapsed_s": round(time.perf_counter() - t0, 3)}

            try:
                result = fn(progress)
                job.report = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
                job.status = "done"
            except KgTwinError as e:
                rep = getattr(e, "report", None)
                job.report = rep.model_dump(mode="json") if rep is not None else None
                job.error = e.to_dict()
                job.status = "failed"
            except Exception as e:  # a job must end in a state the caller can see; details go to the log
                log.exception("ingest job %s failed", job.id)
                job.error = {"ok": False, "status": 500, "code": "INTERNAL", "error": f"internal error: {type(e).__name__} (see the server log)", "errors": []}
                job.status = "failed"
            finally:
                job.finished = datetime.now(timezone.utc).isoformat(timespec="seconds")
                job._done.set()

    def get(self, project: str, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None or job.project != project:
            raise NotFound("JOB_NOT_FOUND", f"no ingest job {job_id!r} in project {project!r}", hint="jobs are kept in memory until the server restarts; reports stay in sources/")
        return job

    def list(self, project: str) -> list[Job]:
        return [j for j in list(self._jobs.values()) if j.project == project]

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        job = self._jobs[job_id]
        job._done.wait(timeout)
        return job

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)
