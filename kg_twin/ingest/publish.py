"""Publish a staged ingest: the staged triples and the provenance reach the project store together.

Two ways, chosen by size, never by handler:

* **pending load** (a new graph from :data:`~kg_twin.ingest.pipeline.PENDING_LOAD_BYTES` up): the
  project store loaded the source file (or the mapped N-Triples) into the target graph while
  the staged copy was validated (:meth:`GraphStore.pending_load`); a publish adds the alignment
  triples and keeps it, the provenance in the same transaction; anything else removes it (also
  after a crash: the store's pending marks, :mod:`kg_twin.store.pending`);
* **staged**: the staged graph is written out once and loaded into the target (or the
  quarantine) graph, old content out, provenance in, under the store's writer lock
  (:func:`publish_staged`).
"""

from __future__ import annotations

import io
from pathlib import Path

from kg_twin.ingest.staging import IngestStaging
from kg_twin.ingest.base import IngestTwin
from kg_twin.ingest.run import Staged
from kg_twin.store.base import GraphStore

BULK_TRIPLES = 10_000  # a new graph at least this big is published with the bulk loader
INLINE_BYTES = 64 * 1024 * 1024  # up to this much N-Triples, publish = one SPARQL update (data + provenance)


def staging_of(twin: IngestTwin) -> IngestStaging:
    """The twin's staging area: an in-memory store where staged triples are validated, with the
    ontology closure loaded once, and the lock that lets one ingest at a time use it. The project
    store only ever sees a finished graph (built by the composition root, gone with the twin)."""
    return twin.ingest_staging


def publish_pending(project_store: GraphStore, staged: Staged, alignment_graph: str, quarantine: str, prov_ops: list[str]) -> None:
    """Keep the pending graph: add the alignment triples, clear the quarantine and record the
    provenance in the transaction that keeps it (a crash leaves both or neither)."""
    pending = staged.pending
    if pending is None:  # pragma: no cover - the caller checks
        raise RuntimeError("no pending load to publish")
    if staged.alignment:
        buf = io.BytesIO()
        staged.store.dump(buf, format="ntriples", graphs=[alignment_graph])
        pending.add(buf.getvalue())
    pending.wait()
    ops = [f"DELETE WHERE {{ GRAPH <{quarantine}> {{ ?s ?p ?o }} }}"] if project_store.has_graph(quarantine) else []
    pending.commit(" ;\n".join(ops + prov_ops))


def publish_staged(store: GraphStore, staged: GraphStore, staging: str, target: str, drop_quarantine: str | None, triples: int, pub_path: Path, prov_ops: list[str]) -> None:
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
