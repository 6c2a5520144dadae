from __future__ import annotations

from flask import Flask
from flask import current_app

app = Flask(__name__)


class Pool:
    """Stands in for a real connection pool (asyncpg, redis.asyncio, ...)."""

    def __init__(self) -> None:
        self.open = True

    async def close(self) -> None:
        self.open = False


async def create_pool() -> Pool:
    return Pool()


@app.before_serving
async def open_pool() -> None:
    current_app.extensions["pool"] = await create_pool()


@app.after_serving
async def close_pool() -> None:
    await current_app.extensions["pool"].close()


@app.get("/")
async def hello() -> str:
    # An async view runs on the server's event loop.
    return "Hello over ASGI"


@app.get("/sync")
def sync_hello() -> str:
    # A sync view runs in the thread pool, never blocking the loop.
    return "Hello from the pool"
