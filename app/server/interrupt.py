"""Work a client asked for, stopped the moment that client leaves or the server stops.

An upload's transcription and a stream's refine pass can each take minutes; neither should
go on for a client that hung up, nor hold up a server that is shutting down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def finish_unless(
    work: Coroutine[Any, Any, T], gone: Coroutine[Any, Any, None], stopping: asyncio.Event
) -> asyncio.Task[T]:
    """Run ``work`` until it ends, ``gone`` returns (the client left) or ``stopping`` is set.

    The returned task is done (with its result or exception) or, when interrupted, cancelled;
    ``stopping.is_set()`` then tells the server's stop from the client's leaving. Nothing is
    left running: the others are cancelled and awaited.
    """
    tasks = (asyncio.ensure_future(work), asyncio.ensure_future(gone), asyncio.ensure_future(stopping.wait()))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return tasks[0]
