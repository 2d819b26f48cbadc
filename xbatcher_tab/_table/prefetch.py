"""Prefetching: the next items of an iterator prepared on a background thread.

Gathering a batch (and reading its slab from a store) releases the GIL for most of its
time, so a thread can prepare the next batches while the caller trains on the current
one: the wall time approaches the larger of the two rather than their sum.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["prefetched"]

T = TypeVar("T")

_DONE = object()


class _Raised:
    """An exception raised on the background thread, to re-raise in the caller."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[T], depth: int) -> Iterator[T]:
    """Yield ``items`` in order, preparing up to ``depth`` ahead on a background thread.

    At most ``depth`` items wait in the queue (plus the one being prepared), so memory
    stays bounded by ``depth``. An exception raised while preparing an item is raised
    here, in the caller, where that item would have come. Closing the generator
    (``break``, garbage collection) stops the thread, closes ``items`` and joins the
    thread before returning: no thread is left running. ``depth=0`` iterates in the
    caller's thread.

    Examples
    --------
    >>> list(prefetched(iter(range(5)), 2))
    [0, 1, 2, 3, 4]
    """
    if depth <= 0:
        yield from items
        return
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    source = iter(items)

    def offer(item) -> bool:
        """Put ``item`` in the queue unless the caller stopped; whether it was put."""
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in source:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller
            offer(_Raised(error))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name="xbatcher-tab-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a worker waiting on a full queue
            try:
                ready.get_nowait()
            except queue.Empty:
                pass
            worker.join(timeout=0.05)
