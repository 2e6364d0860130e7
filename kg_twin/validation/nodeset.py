"""Sets of RDF nodes defined by SPARQL patterns: focus nodes, value nodes (never one query per node)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from kg_twin.validation.engine import Engine

class NodeSet:
    """A set of RDF nodes defined by a SPARQL group pattern binding one variable."""

    def __init__(self, engine: "Engine", pattern: Callable[[str], str], label: str) -> None:
        self.engine = engine
        self._pattern = pattern
        self.label = label
        self._nodes: list | None = None
        self._values: dict[str, dict] = {}
        self._valuesets: dict[str, NodeSet] = {}
        self.subjects_of: str | None = None  # set when every node is a subject of this predicate

    def pattern(self, var: str) -> str:
        return self._pattern(var)

    def nodes(self) -> list:
        if self._nodes is None:
            x = self.engine.var()
            self._nodes = [r[0] for r in self.engine.rows(f"SELECT DISTINCT {x} WHERE {{ {self.pattern(x)} }}")]
        return self._nodes

    def values(self, path: str) -> dict:
        """focus node -> list of distinct value nodes reached by ``path`` (every node is a key)."""
        if path not in self._values:
            x, v = self.engine.var(), self.engine.var()
            out: dict = {n: [] for n in self.nodes()}
            for f, val in self.engine.rows(f"SELECT DISTINCT {x} {v} WHERE {{ {self.pattern(x)} {x} {path} {v} . }}"):
                out[f].append(val)
            self._values[path] = out
        return self._values[path]

    def value_set(self, path: str) -> "NodeSet":
        if path not in self._valuesets:
            eng = self.engine

            def pat(var: str, _path=path) -> str:
                f = eng.var()
                return f"{{ SELECT DISTINCT {var} WHERE {{ {self.pattern(f)} {f} {_path} {var} . }} }}"

            vs = NodeSet(eng, pat, f"{self.label}/{path}")
            vals = self._values.get(path)
            if vals is not None:
                vs._nodes = list(dict.fromkeys(itertools.chain.from_iterable(vals.values())))
            self._valuesets[path] = vs
        return self._valuesets[path]
