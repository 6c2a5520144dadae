# TEMPORARY: replaced by the asgi branch at merge
"""Where code runs under ASGI: sync callables go to the thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import typing as t

R = t.TypeVar("R")


async def run_sync(func: t.Callable[..., R], *args: t.Any, **kwargs: t.Any) -> R:
    """Await ``func(*args, **kwargs)`` run in the loop's thread pool, with
    the current context variables copied into the thread."""
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, func, *args, **kwargs)
    return await loop.run_in_executor(None, call)
