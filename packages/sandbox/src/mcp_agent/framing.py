"""Wire framing of docs/PROTOCOL.md: 0x1E, one JSON object in UTF-8, 0x0A. Pure code, no I/O."""

from __future__ import annotations

import json
from typing import Any, List, Union

PROTOCOL_VERSION = 1
RECORD_SEPARATOR = 0x1E
LINE_FEED = 0x0A
# Counted over the whole frame, separator and newline included.
MAX_FRAME_BYTES = 8 * 1024 * 1024


class FrameError(ValueError):
    """A frame that cannot be read or sent (too large, not JSON...)."""


def encode_frame(message: Any) -> bytes:
    """Serialise one message; raises FrameError past MAX_FRAME_BYTES, ValueError/TypeError for non-JSON values."""
    # allow_nan=False: NaN and Infinity are not JSON, the daemon could not parse them.
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (e.g. from str(exc) of odd data) are not UTF-8; \u escapes carry them.
        body = json.dumps(message, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")
    if len(body) + 2 > MAX_FRAME_BYTES:
        raise FrameError("frame of %d bytes exceeds the %d byte limit" % (len(body) + 2, MAX_FRAME_BYTES))
    return b"\x1e" + body + b"\n"


class FrameDecoder:
    """Incremental reader: feed bytes, get the decoded messages and the errors met on the way.

    Bytes outside a frame are discarded, which resynchronises after noise such as the options JSON
    that Podman's attach writes into stdin. A 0x1E inside a frame (JSON never holds a raw one)
    means the previous frame was cut short: it is reported and a new frame starts there.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._max_body = max_frame_bytes - 2
        self._body = bytearray()
        self._in_frame = False
        self._oversized = False

    def feed(self, data: bytes) -> List[Union[Any, FrameError]]:
        out: List[Union[Any, FrameError]] = []
        view = memoryview(data)
        position = 0
        while position < len(view):
            if not self._in_frame:
                start = data.find(b"\x1e", position)
                if start < 0:
                    break
                self._start_frame()
                position = start + 1
                continue
            stop = _find_either(data, position)
            if stop < 0:
                self._append(view[position:])
                break
            self._append(view[position:stop])
            if data[stop] == RECORD_SEPARATOR:
                out.append(FrameError("frame cut short by the start of another frame"))
                self._start_frame()
            else:
                out.append(self._finish_frame())
            position = stop + 1
        return out

    def _start_frame(self) -> None:
        self._in_frame = True
        self._oversized = False
        self._body = bytearray()

    def _append(self, chunk: memoryview) -> None:
        if self._oversized:
            return
        if len(self._body) + len(chunk) > self._max_body:
            # Keep scanning for the newline, but stop buffering the frame.
            self._oversized = True
            self._body = bytearray()
            return
        self._body += chunk

    def _finish_frame(self) -> Union[Any, FrameError]:
        self._in_frame = False
        if self._oversized:
            return FrameError("frame exceeds the %d byte limit" % (self._max_body + 2))
        body = bytes(self._body)
        self._body = bytearray()
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return FrameError("frame is not UTF-8 JSON: %s" % exc)


def _find_either(data: bytes, position: int) -> int:
    """Index of the first 0x0A or 0x1E at or after position, or -1."""
    newline = data.find(b"\n", position)
    separator = data.find(b"\x1e", position)
    if newline < 0:
        return separator
    if separator < 0:
        return newline
    return min(newline, separator)
