"""flask.threads.Workers, the thread pool sync code runs in under ASGI.

Each hop is compared with what asyncio's own executor hop
(``loop.run_in_executor`` on a ``ThreadPoolExecutor``) gives for the same
function; no test decides by how long anything took.
"""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest


def _outcome(awaitable_factory: t.Callable[[], t.Any]) -> tuple[str, t.Any]:
    import asyncio

    async def main() -> tuple[str, t.Any]:
        try:
            return "value", await awaitable_factory()
        except BaseException as e:  # compared below, whatever it is
            return "error", (type(e), str(e))

    return asyncio.run(main())


def _returns() -> str:
    return "done"


def _raises() -> None:
    raise LookupError("missing")


def _interrupts() -> None:
    raise KeyboardInterrupt("stop")


@pytest.mark.parametrize("func", [_returns, _raises, _interrupts])
def test_a_hop_answers_as_the_executor_does(func: t.Callable[[], t.Any]) -> None:
    import asyncio

    from flask.threads import Workers

    workers = Workers(2, "test-hop")
    with ThreadPoolExecutor(2) as executor:
        expected = _outcome(lambda: asyncio.get_running_loop().run_in_executor(executor, func))
    assert _outcome(lambda: workers.hop(asyncio.get_running_loop(), func)) == expected


def test_a_hop_raising_stopiteration_fails_instead_of_hanging() -> None:
    import asyncio

    from flask.threads import Workers

    workers = Workers(1, "test-hop")
    kind, (error, text) = _outcome(lambda: workers.hop(asyncio.get_running_loop(), iter(()).__next__))
    assert (kind, error) == ("error", RuntimeError) and "StopIteration" in text


def test_a_cancelled_hop_waiting_for_a_thread_never_runs() -> None:
    import asyncio

    from flask.threads import Workers

    workers = Workers(1, "test-hop")
    release = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        busy = workers.hop(loop, release.wait)  # holds the only thread
        waiting = workers.hop(loop, lambda: ran.append("waiting"))
        waiting.cancel()
        release.set()
        await busy
        # Work after it on the same thread shows the queue moved past it.
        await workers.hop(loop, lambda: ran.append("after"))

    asyncio.run(main())
    assert ran == ["after"]


def test_the_pool_grows_to_its_size_and_no_further() -> None:
    import asyncio

    from flask.threads import Workers

    workers = Workers(3, "test-grow")
    inside = threading.Barrier(4)  # three threads and this test
    release = threading.Event()
    names: list[str] = []

    def hold() -> None:
        inside.wait(timeout=30)
        release.wait(timeout=30)

    def note() -> None:
        names.append(threading.current_thread().name)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        held = [workers.hop(loop, hold) for _ in range(3)]
        queued = [workers.hop(loop, note) for _ in range(2)]
        await loop.run_in_executor(None, inside.wait, 30)  # three are running
        assert len(workers.threads) == 3 and not names
        release.set()
        await asyncio.gather(*held, *queued)

    asyncio.run(main())
    assert len(workers.threads) == 3
    assert len(names) == 2 and set(names) <= {f"test-grow-{i}" for i in range(3)}


def test_a_hop_finishing_after_its_loop_closed_leaves_the_thread_working() -> None:
    import asyncio

    from flask.threads import Workers

    workers = Workers(1, "test-closed")
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(timeout=30)
        return "late"

    async def leave() -> None:
        workers.hop(asyncio.get_running_loop(), slow)
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 30)

    asyncio.run(leave())  # the loop is closed with the hop still running
    release.set()
    assert _outcome(lambda: workers.hop(asyncio.get_running_loop(), _returns)) == ("value", "done")


def test_drain_waits_for_the_work_in_flight() -> None:
    from flask.threads import Workers

    workers = Workers(2, "test-drain")
    release = threading.Event()
    future = workers.submit(lambda: release.wait(timeout=30))
    assert not workers.drain(timeout=0)
    release.set()
    assert workers.drain(timeout=30)
    assert future.result() is True


def test_submitted_work_runs_in_a_fresh_context() -> None:
    import contextvars

    from flask.threads import Workers

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("caller")
    workers = Workers(1, "test-context")
    first = workers.submit(lambda: (var.get(), var.set("first"))[0])
    second = workers.submit(var.get)
    assert (first.result(timeout=30), second.result(timeout=30)) == ("unset", "unset")





def test_a_thread_lets_go_of_its_work_before_handing_back_the_result() -> None:
    """What a hop's call holds (over ASGI, a request and its context) is
    let go before the result is handed to the loop, rather than kept by
    the thread until its next work: an idle pool held the last requests,
    and whether they were freed when the request ended was a race."""
    import asyncio
    import functools
    import weakref

    from flask.threads import Workers

    class Held:
        pass

    held = Held()
    ref = weakref.ref(held)
    at_hand_back: list[t.Any] = []

    class Watching(asyncio.SelectorEventLoop):
        def call_soon_threadsafe(self, callback: t.Any, *args: t.Any, context: t.Any = None) -> t.Any:
            if threading.current_thread() is not threading.main_thread():
                at_hand_back.append(ref())
            return super().call_soon_threadsafe(callback, *args, context=context)

    workers = Workers(1, "test-hop")
    loop = Watching()
    try:
        call = functools.partial(lambda _: "done", held)
        del held
        future = workers.hop(loop, call)
        del call
        assert loop.run_until_complete(future) == "done"
    finally:
        loop.close()
    assert at_hand_back == [None]


def test_a_background_thread_lets_go_of_its_work_before_setting_the_future() -> None:
    """The same for ``submit`` (background tasks under WSGI): a task's
    arguments are not kept by an idle thread."""
    import functools
    import weakref

    from flask.threads import Workers

    class Held:
        pass

    held = Held()
    ref = weakref.ref(held)
    at_hand_back: list[t.Any] = []
    workers = Workers(1, "test-submit")
    gate = threading.Event()
    call = functools.partial(lambda _: gate.wait(5) and "done", held)
    del held
    future = workers.submit(call)
    del call
    # Called by the thread as it sets the result.
    future.add_done_callback(lambda f: at_hand_back.append(ref()))
    gate.set()
    assert future.result(5) == "done"
    assert at_hand_back == [None]


def test_the_pool_grows_only_when_no_thread_is_idle() -> None:
    """Work waits for an idle thread rather than starting one, and a new
    thread starts only while every thread is busy, up to the size."""
    import asyncio

    from flask.threads import Workers

    workers = Workers(4, "test-grow")
    barrier = threading.Barrier(3, timeout=5)

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        counts = []
        for _ in range(5):
            assert await workers.hop(loop, _returns) == "done"
            # The thread counts itself idle just after handing back.
            assert workers.drain(5)
        counts.append(len(workers.threads))
        # Three at once, each waiting for the others: three threads.
        got = await asyncio.gather(*(workers.hop(loop, barrier.wait) for _ in range(3)))
        assert sorted(got) == [0, 1, 2]
        assert workers.drain(5)
        counts.append(len(workers.threads))
        return counts

    assert asyncio.run(main()) == [1, 3]


def test_a_hop_cancelled_while_it_runs_hands_back_quietly() -> None:
    """The awaiting task was cancelled while the thread worked: the result
    finds a cancelled future and is dropped, without an error in the loop's
    exception handler (as with the executor)."""
    import asyncio

    from flask.threads import Workers

    workers = Workers(1, "test-cancel")
    started, release = threading.Event(), threading.Event()
    reported: list[t.Any] = []

    def work() -> str:
        started.set()
        release.wait(5)
        return "late"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda loop, context: reported.append(context))
        future = workers.hop(loop, work)
        await loop.run_in_executor(None, started.wait, 5)
        future.cancel()
        release.set()
        await loop.run_in_executor(None, workers.drain, 5)
        for _ in range(3):
            await asyncio.sleep(0)  # the hand-back's callback runs here
        assert future.cancelled()

    asyncio.run(main())
    assert reported == []
