"""Waiting on another process or thread without a timing threshold.

A test here never passes or fails because something was fast or slow: it
waits for an event (a port that listens, a line in a log, a file that
fills). The bound a wait takes only stops a hang, and reaching it fails
with :class:`HangBound`, which says so, rather than with an assertion that
reads like a result.
"""

from __future__ import annotations

import queue
import time
import typing as t

T = t.TypeVar("T")


class HangBound(AssertionError):
    """What a test waited for never happened within its hang bound."""


def wait_until(
    condition: t.Callable[[], T | None],
    *,
    hang_bound: float,
    what: str,
    retry_on: tuple[type[BaseException], ...] = (),
    poll: float = 0.05,
) -> T:
    """Call ``condition`` until it returns a true value, and return that.

    ``retry_on`` exceptions count as "not yet" (the last one is reported).
    ``hang_bound`` seconds only bound a hang: reaching them raises
    :class:`HangBound`, naming ``what`` was awaited.
    """
    deadline = time.monotonic() + hang_bound
    last: BaseException | None = None
    while True:
        try:
            result = condition()
        except retry_on as e:
            result, last = None, e
        if result:
            return result
        if time.monotonic() > deadline:
            raise HangBound(
                f"hang bound of {hang_bound:g} s reached waiting for {what}"
                + (f" (last error: {last!r})" if last else "")
            )
        time.sleep(poll)


def next_item(source: queue.Queue[T], *, hang_bound: float, what: str) -> T:
    """The next item a producer thread puts in ``source``."""
    try:
        return source.get(timeout=hang_bound)
    except queue.Empty:
        raise HangBound(f"hang bound of {hang_bound:g} s reached waiting for {what}") from None
