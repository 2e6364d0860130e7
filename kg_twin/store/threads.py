"""Blocking store calls awaited from an event loop, on the store package's own thread pool.

The store knows no web framework: :meth:`GraphStore.aquery` and the query pool hand blocking work
to this pool and await it (``asyncio`` only).

>>> import asyncio
>>> asyncio.run(in_thread(sum, [1, 2, 3]))
6
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")

# as many threads as the web server's own pool (anyio's default limiter: 40); idle ones cost nothing
_POOL = ThreadPoolExecutor(max_workers=40, thread_name_prefix="kgt-store")


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the store's thread pool and await its result."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, fn, *args)
