"""Wire framing of docs/PROTOCOL.md: 0x1E, one JSON object in UTF-8, 0x0A. Pure code, no I/O."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Union

PROTOCOL_VERSION = 1
RECORD_SEPARATOR = 0x1E
LINE_FEED = 0x0A
# Counted over the whole frame, separator and newline included (docs/PROTOCOL.md), as the daemon does.
MAX_FRAME_BYTES = 8 * 1024 * 1024


class FrameError(ValueError):
    """A frame that cannot be read or sent; ``reason`` is the TypeScript decoder's: cut_short, too_large, not_json."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _number(text: str) -> Any:
    # JavaScript has one kind of number: the daemon reads 1.0 as the integer 1, and so does the agent.
    value = float(text)
    return int(value) if value.is_integer() else value


def _refuse_constant(name: str) -> Any:
    # json.loads takes NaN and Infinity, which are not JSON: the daemon's JSON.parse refuses them too.
    raise ValueError("%s is not JSON" % name)


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
        raise FrameError("too_large", "frame of %d bytes exceeds the %d byte limit" % (len(body) + 2, MAX_FRAME_BYTES))
    return b"\x1e" + body + b"\n"


class FrameDecoder:
    """Incremental reader: feed bytes, get the decoded messages and the errors met on the way.

    Bytes outside a frame are discarded, which resynchronises after noise such as the options JSON
    that Podman's attach writes into stdin. A 0x1E inside a frame (JSON never holds a raw one)
    means the previous frame was cut short: it is reported and a new frame starts there. A frame
    over the cap is reported once, as soon as it passes the cap, and skipped up to its end.
    Each rule is the TypeScript decoder's (daemon/src/wire/frames.ts); fixtures/wire/framing.json
    holds both to it.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._max_frame_bytes = max_frame_bytes
        self._body = bytearray()
        self._in_frame = False
        self._oversized = False

    def feed(self, data: bytes) -> List[Union[Any, FrameError]]:
        out: List[Union[Any, FrameError]] = []
        view = memoryview(data)
        markers = _MarkerScan(data)
        position = 0
        while position < len(view):
            if not self._in_frame:
                start = markers.next(b"\x1e", position)
                if start < 0:
                    break
                self._start_frame()
                position = start + 1
                continue
            stop = markers.either(position)
            self._append(view[position:] if stop < 0 else view[position:stop], out)
            if stop < 0:
                break
            if data[stop] == RECORD_SEPARATOR:
                if not self._oversized:
                    out.append(FrameError("cut_short", "frame cut short by the start of another frame"))
                self._start_frame()
            else:
                self._finish_frame(out)
            position = stop + 1
        return out

    def _start_frame(self) -> None:
        self._in_frame = True
        self._oversized = False
        self._body = bytearray()

    def _append(self, chunk: memoryview, out: List[Union[Any, FrameError]]) -> None:
        if self._oversized:
            return
        # Both markers count: a body that leaves no room for the closing 0x0A is already too large.
        if len(self._body) + len(chunk) + 2 > self._max_frame_bytes:
            # Keep scanning for the end of the frame, but stop buffering it.
            self._oversized = True
            self._body = bytearray()
            out.append(FrameError("too_large", "frame larger than %d bytes" % self._max_frame_bytes))
            return
        self._body += chunk

    def _finish_frame(self, out: List[Union[Any, FrameError]]) -> None:
        self._in_frame = False
        if self._oversized:
            return
        body = bytes(self._body)
        self._body = bytearray()
        try:
            out.append(json.loads(body.decode("utf-8"), parse_float=_number, parse_constant=_refuse_constant))
        except (UnicodeDecodeError, ValueError) as exc:
            out.append(FrameError("not_json", "frame is not UTF-8 JSON: %s" % exc))


class _MarkerScan:
    """Finds the markers of one chunk, remembering the last position found for each: a chunk with
    many 0x1E before one 0x0A would otherwise be rescanned from each 0x1E (quadratic in its size)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._found: Dict[bytes, int] = {}

    def next(self, marker: bytes, position: int) -> int:
        known = self._found.get(marker)
        if known is not None and (known < 0 or known >= position):
            return known
        found = self._data.find(marker, position)
        self._found[marker] = found
        return found

    def either(self, position: int) -> int:
        """Index of the first 0x0A or 0x1E at or after position, or -1."""
        newline = self.next(b"\n", position)
        separator = self.next(b"\x1e", position)
        if newline < 0:
            return separator
        if separator < 0:
            return newline
        return min(newline, separator)
