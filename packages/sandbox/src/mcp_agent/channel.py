"""The agent's side of the protocol channel: serialised frame writes, ids, diagnostics."""

from __future__ import annotations

import itertools
import os
import threading
from typing import Any, Dict

from mcp_agent.framing import PROTOCOL_VERSION, encode_frame


class ChannelClosed(RuntimeError):
    """The daemon no longer reads what the agent sends."""


class Channel:
    """Writes frames to the protocol fd; safe to use from any thread."""

    def __init__(self, out_fd: int, diag_fd: int) -> None:
        self._out_fd = out_fd
        self._diag_fd = diag_fd
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False
        # A forked child (multiprocessing, os.fork) inherits the fds but not the reader thread:
        # its frames would interleave with ours and its RPCs would never be answered.
        os.register_at_fork(after_in_child=self._close_in_child)

    @property
    def closed(self) -> bool:
        return self._closed

    def next_id(self) -> str:
        return "a%d" % next(self._ids)

    # Positional-only: a frame may have a field named `kind` (attachment).
    def send(self, kind: str, /, **fields: Any) -> str:
        """Send one message and return its id; raises ChannelClosed, or FrameError/TypeError/ValueError."""
        return self.send_with_id(self.next_id(), kind, **fields)

    def send_with_id(self, message_id: str, kind: str, /, **fields: Any) -> str:
        """``send`` with an id taken earlier, for callers that must register it before the answer can come."""
        message: Dict[str, Any] = {"v": PROTOCOL_VERSION, "type": kind, "id": message_id}
        message.update(fields)
        frame = encode_frame(message)
        with self._lock:
            if self._closed:
                raise ChannelClosed("the protocol channel is closed")
            try:
                _write_all(self._out_fd, frame)
            except OSError as exc:
                self._closed = True
                raise ChannelClosed("the daemon stopped reading: %s" % exc) from exc
        return message["id"]

    def diag(self, text: str) -> None:
        """One line on the agent's private stderr, which the daemon logs."""
        try:
            _write_all(self._diag_fd, ("mcp-agent: %s\n" % text.rstrip("\n")).encode("utf-8", "replace"))
        except OSError:
            # Diagnostics are the last resort: with their fd gone there is nowhere left to report to.
            return

    def _close_in_child(self) -> None:
        self._closed = True
        self._lock = threading.Lock()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
