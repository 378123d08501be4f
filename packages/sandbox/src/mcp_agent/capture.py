"""User output: fresh pipes on fds 1 and 2 for each run, forwarded as ``stream`` frames.

Everything that writes to fd 1 or 2 is captured the same way: ``print``, ``os.write(1, ...)``,
C extensions and subprocesses. The end of a run does not wait for EOF, since a subprocess
that outlives the code may hold the pipe open for ever: Python's buffers are flushed, what
the pipes hold at that moment is drained, and the pipes are then detached.
"""

from __future__ import annotations

import codecs
import fcntl
import io
import os
import select
import stat
import sys
import threading
from typing import Callable, Dict, List, Optional

STREAM_CHUNK_BYTES = 16 * 1024
_READ_BYTES = 64 * 1024
# Bounds the final drain when a background process keeps writing as fast as we read.
_DRAIN_BUDGET_BYTES = 4 * 1024 * 1024

Emit = Callable[[str, str], None]  # (stream name, text)


def utf8_chunks(text: str, limit: int = STREAM_CHUNK_BYTES) -> List[str]:
    """Split text into pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8", "surrogatepass")
    pieces: List[str] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and end > start and (data[end] & 0xC0) == 0x80:
            end -= 1  # back off a continuation byte: the cut must fall between characters
        pieces.append(data[start:end].decode("utf-8", "surrogatepass"))
        start = end
    return pieces


def text_stream(fd: int, name: str) -> io.TextIOWrapper:
    """A fresh sys.stdout/stderr on ``fd``: line-buffered, as Python's own stderr.

    Line buffering keeps the order of lines against raw fd writes and subprocess output, at a
    third of the cost of write-through (one write per line instead of one per ``write`` call).
    """
    raw = io.FileIO(fd, "w", closefd=False)
    raw.name = name  # type: ignore[misc]  # as CPython names its own: some libraries look
    stream = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8", errors="backslashreplace", line_buffering=True)
    stream.mode = "w"  # type: ignore[misc]
    return stream


class _Pump(threading.Thread):
    """Reads one pipe and forwards its first ``limit`` bytes; counts the rest as dropped.

    It may start before its run (``OutputCapture.prepare``): nothing writes into the pipe until the
    run begins, and ``emit`` and ``limit`` are set by then. At the end of the run the main thread
    takes what is left itself (``take_rest``), under the same lock as the pump's reads, so that
    the answer waits for no thread hand-off; the pump ends when woken afterwards.
    """

    def __init__(self, name: str, read_fd: int, wake_fd: int, diag: Callable[[str], None]):
        super().__init__(name="mcp-agent-" + name, daemon=True)
        self.stream = name
        self.read_fd = read_fd
        self._wake_fd = wake_fd
        self._emit: Emit = lambda _name, _text: None
        self._diag = diag
        self._room = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._lock = threading.Lock()
        self._done = False  # the rest has been taken (or the pipe ended): nothing more to read
        self.dropped = 0

    def aim(self, emit: Emit, limit: int) -> None:
        self._emit = emit
        self._room = limit

    def run(self) -> None:
        try:
            self._pump()
        except Exception as exc:  # noqa: BLE001 - a dead pump must still let the run finish
            self._diag("%s pump failed: %r" % (self.stream, exc))

    def _pump(self) -> None:
        poller = select.poll()
        poller.register(self.read_fd, select.POLLIN)
        poller.register(self._wake_fd, select.POLLIN)
        while True:
            ready = dict(poller.poll())
            with self._lock:
                if self._done or self._wake_fd in ready:
                    return
                data = os.read(self.read_fd, _READ_BYTES)
                if not data:  # every writer closed its end (e.g. the code closed fd 1)
                    self._end()
                    return
                self._take(data)

    def take_rest(self, timeout: Optional[float] = None) -> None:
        """From the main thread, once the run's buffers are flushed: forward what the pipe holds now.
        ``timeout`` bounds the wait for a pump that is forwarding (for a process on its way out)."""
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            return
        try:
            if self._done:
                return
            os.set_blocking(self.read_fd, False)
            budget = _DRAIN_BUDGET_BYTES
            while budget > 0:
                try:
                    data = os.read(self.read_fd, _READ_BYTES)
                except BlockingIOError:
                    break
                if not data:
                    break
                budget -= len(data)
                self._take(data)
            self._end()
        finally:
            self._lock.release()

    def _end(self) -> None:
        self._done = True
        self._forward(self._decoder.decode(b"", final=True))

    def _take(self, data: bytes) -> None:
        kept = data[: max(self._room, 0)]
        self._room -= len(kept)
        self.dropped += len(data) - len(kept)
        if kept:
            self._forward(self._decoder.decode(kept))

    def _forward(self, text: str) -> None:
        for piece in utf8_chunks(text):
            self._emit(self.stream, piece)


_null_fd: Optional[int] = None


def _reserved_null() -> int:
    """A /dev/null fd above 2, opened once and kept: code that used up every fd (EMFILE) must
    not stop the end of its run, which needs /dev/null on fds 0-2."""
    global _null_fd
    if _null_fd is None:
        opened = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        _null_fd = fcntl.fcntl(opened, fcntl.F_DUPFD_CLOEXEC, 3)
        os.close(opened)  # when it landed on a closed fd 0-2, the dup2s below cover that fd again
    return _null_fd


def null_stdio() -> None:
    """Point fds 0, 1 and 2 at /dev/null, whether they are open or not."""
    global _null_fd
    try:
        null = _reserved_null()
        for fd in (0, 1, 2):
            os.dup2(null, fd)  # inheritable: subprocesses get /dev/null too
    except OSError:
        # The code closed the reserved fd (os.closerange): open another one.
        _null_fd = None
        null = _reserved_null()
        for fd in (0, 1, 2):
            os.dup2(null, fd)


class _Prepared:
    """Pipes and their pumps, ready before a run so that starting one costs no thread start."""

    def __init__(self, diag: Callable[[str], None]) -> None:
        # Earlier code may have closed fds 0-2 (even after its run, from a thread). Occupying
        # them first keeps the pipes below from landing on them.
        null_stdio()
        # The run's sys.stdin, on fd 0 (/dev/null now as when the run starts): made here, off the run's clock.
        self.stdin = open(0, "r", encoding="utf-8", closefd=False)
        self.wake = list(os.pipe())
        self.write_fds: List[int] = []
        self.pumps: List[_Pump] = []
        for name in ("stdout", "stderr"):
            read_fd, write_fd = os.pipe()  # non-inheritable: children get only fds 1 and 2
            self.write_fds.append(write_fd)
            pump = _Pump(name, read_fd, self.wake[0], diag)
            pump.start()
            self.pumps.append(pump)

    def fds(self) -> List[int]:
        """Every fd it still holds (the write ends only until ``attach``)."""
        return self.wake + self.write_fds + [pump.read_fd for pump in self.pumps]

    def intact(self) -> bool:
        """False when code run since (a thread of an earlier run in a session) closed one of its fds."""
        try:
            return all(stat.S_ISFIFO(os.fstat(fd).st_mode) for fd in self.fds()) and all(pump.is_alive() for pump in self.pumps)
        except OSError:
            return False

    def attach(self, emit: Emit, limit: int) -> None:
        """Put the write ends on fds 1 and 2; the pumps forward to ``emit``, ``limit`` bytes each."""
        for fd, write_fd, pump in zip((1, 2), self.write_fds, self.pumps):
            pump.aim(emit, limit)
            os.dup2(write_fd, fd)  # inheritable, so subprocesses write into the pipe too
            os.close(write_fd)
        self.write_fds = []

    def discard(self) -> None:
        try:
            os.write(self.wake[1], b"!")
        except OSError:
            pass
        for pump in self.pumps:
            pump.join(1.0)
        for fd in self.fds():
            try:
                os.close(fd)
            except OSError:
                pass


class OutputCapture:
    """Owns fds 1 and 2 during one run: ``prepare`` ahead of time (optional, it only saves time),
    ``start`` before the code, ``finish`` after it, ``release`` once the answer is sent. One
    capture serves one run."""

    def __init__(self, diag: Callable[[str], None]) -> None:
        self._diag = diag
        self._ready: Optional[_Prepared] = None
        self._running: Optional[_Prepared] = None

    def prepare(self) -> None:
        if self._ready is None:
            self._ready = _Prepared(self._diag)

    def start(self, emit: Emit, limit: int) -> None:
        ready, self._ready = self._ready, None
        if ready is not None and not ready.intact():
            ready.discard()
            ready = None
        if ready is None:
            ready = _Prepared(self._diag)
        else:
            null_stdio()  # fds 0-2 may have been closed since it was prepared
        sys.stdin = ready.stdin
        ready.attach(emit, limit)
        self._running = ready
        sys.stdout = text_stream(1, "<stdout>")
        sys.stderr = text_stream(2, "<stderr>")

    def finish(self, timeout: Optional[float] = None) -> Dict[str, int]:
        """Flush, take what the pipes hold, detach; returns the bytes dropped per stream. The pumps
        and pipes are let go by ``release``, which the answer need not wait for. ``timeout`` bounds
        the wait for each pump (for a process on its way out, which must not hang)."""
        running = self._running
        assert running is not None, "finish() without start()"
        for stream in _distinct(sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except (OSError, ValueError) as exc:  # the code closed the stream or its fd
                self._diag("could not flush %r at the end of the run: %s" % (stream, exc))
        for pump in running.pumps:
            pump.take_rest(timeout)
        # From now on stray writes (lingering threads, children) go nowhere instead of EPIPE.
        null_stdio()
        return {pump.stream: pump.dropped for pump in running.pumps}

    def release(self) -> None:
        """After ``finish``: end the pumps and close the pipes."""
        running, self._running = self._running, None
        if running is not None:
            running.discard()


def _distinct(*streams: object) -> List[io.TextIOBase]:
    seen: List[io.TextIOBase] = []
    for stream in streams:
        if stream is not None and hasattr(stream, "flush") and all(stream is not other for other in seen):
            seen.append(stream)  # type: ignore[arg-type]
    return seen
