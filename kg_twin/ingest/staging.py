"""Where ingest checks staged triples before they reach the project store.

One per deployment (built by the composition root): an in-memory store that also holds the
ontology closure (loaded once, by the pipeline), and the lock that serialises ingests on it.
The project store only ever sees a finished graph (SPARQL ``MOVE``/``DROP`` of big graphs is
slow on the on-disk store, a load is not).

>>> from kg_twin.settings import Settings
>>> from kg_twin.store import open_store
>>> st = IngestStaging(open_store(Settings(store="memory")))
>>> with st.lock:
...     st.store.graphs()
[]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from kg_twin.store import GraphStore


@dataclass
class IngestStaging:
    store: GraphStore
    lock: threading.RLock = field(default_factory=threading.RLock)

    def close(self) -> None:
        self.store.close()
