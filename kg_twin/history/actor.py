"""Who is writing, and why: set by the API (from the caller's token) and by commands; read by the
recorder when it writes a version. Context variables, so each request carries its own.

>>> with acting("tok1", "ci bot", activity="restore"):
...     current()
('tok1', 'ci bot', 'restore')
>>> current()
('', '', '')
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

_AGENT: ContextVar[tuple[str, str]] = ContextVar("kg_twin_history_agent", default=("", ""))
_ACTIVITY: ContextVar[str] = ContextVar("kg_twin_history_activity", default="")


def set_agent(token_id: str, label: str) -> None:
    """The caller of the current request (the API sets it once per request)."""
    _AGENT.set((token_id, label))


def current() -> tuple[str, str, str]:
    a = _AGENT.get()
    return a[0], a[1], _ACTIVITY.get()


@contextmanager
def acting(token_id: str | None = None, label: str | None = None, *, activity: str | None = None) -> Iterator[None]:
    """Writes inside the block are attributed to this agent / activity."""
    old_a, old_act = _AGENT.get(), _ACTIVITY.get()
    ta = _AGENT.set((token_id if token_id is not None else old_a[0], label if label is not None else old_a[1]))
    tb = _ACTIVITY.set(activity if activity is not None else old_act)
    try:
        yield
    finally:
        _AGENT.reset(ta)
        _ACTIVITY.reset(tb)
