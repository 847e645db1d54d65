"""Run the I/O ends of the pipeline beside the parser, in threads of their own.

Reading the upload and inflating it (ISA-L and socket reads both release
the GIL) overlaps with parsing when it runs a few blocks ahead in another
thread: measured 10-15% off a gzip JSON-lines file's wall time on two
cores, for about a tenth more CPU. Handing each finished part to the
upload in another thread keeps the parser busy while S3 takes the part.

Compressing the output in a thread of its own was measured too, and lost
(the GIL handoffs per megabyte cost more than the overlap saved), so it
stays in the caller's thread.

Both helpers leave no thread behind: whether the caller finishes, fails or
stops early, the helper thread has ended by the time control returns, so
the caller may close the source or abort the upload right after. An error
raised in a helper thread is raised again, as it is, in the caller's.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
Q = TypeVar("Q")

# Decompressed blocks (up to a megabyte each) held ready for the parser:
# enough to ride out an uneven read, little enough to keep memory flat.
READ_AHEAD_BLOCKS = 4
# Finished output parts (8 MiB each) waiting for the upload: one waits while
# one is sent, so a slow upload holds the parser back instead of piling up.
PARTS_IN_FLIGHT = 1


class _End:
    """Put on a queue after the last item."""


class _Failed:
    """Put on a queue in place of the item whose making raised `error`."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = _End()


def read_ahead(items: Iterable[T], *, depth: int = READ_AHEAD_BLOCKS) -> Generator[T]:
    """The items of `items`, in order, made up to `depth` ahead in another thread.

    Close the returned generator (or let it finish, or fail) to stop the
    thread: it is joined before the generator returns.
    """
    ready: queue.Queue[T | _End | _Failed] = queue.Queue(maxsize=depth)
    stopping = threading.Event()
    thread = threading.Thread(
        target=_produce, args=(items, ready, stopping), name="ingest-read-ahead", daemon=True
    )
    thread.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, _End):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stopping.set()
        _drain(ready)  # a producer blocked on a full queue can then see `stopping`
        thread.join()


def _produce(
    items: Iterable[T], ready: queue.Queue[T | _End | _Failed], stopping: threading.Event
) -> None:
    iterator = iter(items)
    try:
        for item in iterator:
            ready.put(item)
            if stopping.is_set():
                return
        ready.put(_END)
    except BaseException as error:  # handed to the consumer, which raises it
        ready.put(_Failed(error))
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # a generator's own clean-up runs here, in the thread that ran it


def _drain(items: queue.Queue[Q]) -> None:
    while True:
        try:
            items.get_nowait()
        except queue.Empty:
            return


class BackgroundSink(Generic[T]):
    """A sink that hands each item to `sink` in another thread, in order.

    Use it as a context manager: leaving the block normally waits for every
    item to be taken by `sink`; leaving it with an error drops what is still
    waiting. Either way the thread has ended when the block is left. When
    `sink` fails, the next call (or the block's end) raises its error.
    """

    def __init__(self, sink: Callable[[T], None], *, depth: int = PARTS_IN_FLIGHT) -> None:
        self._sink = sink
        self._waiting: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._consume, name="ingest-upload", daemon=True)

    def __enter__(self) -> BackgroundSink[T]:
        self._thread.start()
        return self

    def __call__(self, item: T) -> None:
        self._raise_failure()
        self._waiting.put(item)

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is not None:
            _drain(self._waiting)
        self._waiting.put(_END)
        self._thread.join()
        if error is None:
            self._raise_failure()

    def _consume(self) -> None:
        while not isinstance(item := self._waiting.get(), _End):
            if self._error is not None:
                continue  # after a failure, items are only taken off until the end
            try:
                self._sink(item)
            except BaseException as error:  # raised again in the caller's thread
                self._error = error

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error
