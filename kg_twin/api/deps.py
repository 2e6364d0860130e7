"""FastAPI dependencies shared by every router."""

from __future__ import annotations

from fastapi import Request

from kg_twin.access import Caller
from kg_twin.history.actor import set_agent
from kg_twin.service import Twin


async def get_twin(request: Request) -> Twin:
    return request.app.state.twin


async def get_caller(request: Request) -> Caller:
    """The authenticated caller (anonymous without Authorization); 401 on a bad token."""
    cached = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    twin: Twin = request.app.state.twin
    caller = twin.access.caller_from_header(request.headers.get("authorization"))
    request.state.caller = caller
    set_agent(caller.token_id or "anonymous", caller.label)  # who a version records (kg_twin/history)
    return caller
