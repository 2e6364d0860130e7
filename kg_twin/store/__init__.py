"""Storage layer: the :class:`GraphStore` protocol and its implementations.

Nothing above this package imports pyoxigraph; use :func:`open_store`.
"""

from kg_twin.store.base import Construct, Dataset, GraphStore, QueryRequest, QueryResult, open_store, scratch_store

__all__ = ["Construct", "Dataset", "GraphStore", "QueryRequest", "QueryResult", "open_store", "scratch_store"]
