"""Where history lives in the store: hidden graphs under each project's prefix.

Every name starts with ``{base}graph/{p}/_`` (reserved: no client may read or write it, and
``Core.project_graphs`` never lists it), so history is stored next to the data it describes, in
the same store and, for every write, in the same transaction.

>>> from kg_twin.terms import Naming
>>> h = HistoryNames(Naming("http://t/"))
>>> h.log("p")
'http://t/graph/p/_history'
>>> h.delta("p", 3, "+", "http://t/graph/p/a")
'http://t/graph/p/_history/d/3/+/http%3A%2F%2Ft%2Fgraph%2Fp%2Fa'
>>> h.parse_delta("http://t/graph/p/_history/d/3/+/http%3A%2F%2Ft%2Fgraph%2Fp%2Fa")
(3, '+', 'http://t/graph/p/a')
>>> h.versioned("http://t/graph/p/a"), h.versioned("http://t/graph/p/inferred"), h.versioned("http://t/graph/p/_staging/x")
(True, False, False)
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from kg_twin.terms import Naming

# graphs of a project that are not versioned: derived (inference) or with their own history
# (the live twin's last-known values and events: the time series is their history)
UNVERSIONED = ("inferred", "state", "events")
HISTORY = "_history"


def enc(graph: str) -> str:
    return quote(graph, safe="")


class HistoryNames:
    def __init__(self, naming: Naming) -> None:
        self.naming = naming

    def prefix(self, project: str) -> str:
        return self.naming.project_graph_prefix(project)

    def log(self, project: str) -> str:
        """The graph of version records (metadata and sealed patches)."""
        return self.prefix(project) + HISTORY

    def version(self, project: str, seq: int) -> str:
        return f"{self.log(project)}/v/{seq}"

    def delta(self, project: str, seq: int, sign: str, graph: str) -> str:
        """Unsealed delta quads of version ``seq`` for ``graph`` (``sign``: ``+`` added, ``-`` removed)."""
        return f"{self.log(project)}/d/{seq}/{sign}/{enc(graph)}"

    def delta_prefix(self, project: str, seq: int | None = None) -> str:
        return f"{self.log(project)}/d/" + ("" if seq is None else f"{seq}/")

    def parse_delta(self, name: str) -> tuple[int, str, str] | None:
        p = self.naming.project_of_graph(name)
        if p is None or not name.startswith(self.delta_prefix(p)):
            return None
        seq, sign, g = name[len(self.delta_prefix(p)) :].split("/", 2)
        return int(seq), sign, unquote(g)

    def scratch(self, project: str, kind: str, key: str) -> str:
        """Scratch graphs of one write (before-images, candidates, staging), dropped in it."""
        return f"{self.log(project)}/{kind}/{enc(key)}"

    def view(self, project: str, seq: int, graph: str) -> str:
        """A graph as it was at version ``seq`` (materialised for as-of queries, a cache)."""
        return f"{self.prefix(project)}_asof/{seq}/{enc(graph)}"

    def view_prefix(self, project: str) -> str:
        return f"{self.prefix(project)}_asof/"

    def scenario(self, project: str, scenario: str, graph: str) -> str:
        """A scenario's copy of a graph it edits."""
        return f"{self.prefix(project)}_scenario/{scenario}/{enc(graph)}"

    def scenario_prefix(self, project: str, scenario: str | None = None) -> str:
        return f"{self.prefix(project)}_scenario/" + ("" if scenario is None else f"{scenario}/")

    def versioned(self, graph: str) -> bool:
        """A project's asserted graph whose writes make versions."""
        p = self.naming.project_of_graph(graph)
        if p is None:
            return False
        rest = graph[len(self.prefix(p)) :]
        return not rest.startswith("_") and rest not in UNVERSIONED
