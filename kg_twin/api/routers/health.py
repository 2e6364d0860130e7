"""Liveness and basic facts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from kg_twin import __version__
from kg_twin.api.deps import get_twin
from kg_twin.api.schemas import Health
from kg_twin.service import Twin

router = APIRouter(tags=["service"])


@router.get("/health", summary="Liveness: the service answers and its store is open", response_model=Health)
def health(twin: Twin = Depends(get_twin)) -> dict[str, Any]:
    return {
        "ok": True,
        "version": __version__,
        "store": twin.settings.store,
        "generation": twin.store.generation,
        "query_workers": twin.settings.query_workers,
    }
