"""The images and files one run returns (``runtime.show_image``, ``plt.show()``, ``runtime.export_file``).

Each travels to the daemon in its own ``attachment`` frame, never through stdout, and is held to
the caps the daemon sent in ``execute`` (MCP_BRIDGE_MAX_IMAGES, MCP_BRIDGE_MAX_IMAGE_BYTES,
MCP_BRIDGE_MAX_EXPORT_BYTES). A frame leaves as soon as the code makes it, so what was shown before
a timeout is already with the daemon when the sandbox is killed.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
import struct
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple

from mcp.values import AttrDict

# One file travels in one frame (8 MiB, base64 adds a third): the rest of the frame is its fields.
MAX_FILE_BYTES = 5 * 1024 * 1024
# export_file takes files under these only: what the code wrote, not the image's own files.
EXPORT_ROOTS = ("/tmp", "/workspace")
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
# A figure over the cap is drawn again at a lower dpi, this many times at most.
_RENDER_TRIES = 5
_MIN_DPI = 10
# A JPEG over the cap is saved again at these qualities (then smaller, at each), never as PNG.
_JPEG_QUALITIES = (85, 70, 50)

Send = Callable[..., None]


class Limits:
    def __init__(self, limits: Optional[Mapping[str, Any]]) -> None:
        # No limits in execute: an older daemon, which has nowhere to put attachments.
        self.max_images = int(limits["maxImages"]) if limits else 0
        self.max_image_bytes = int(limits["maxImageBytes"]) if limits else 0
        self.max_export_bytes = int(limits["maxExportBytes"]) if limits else 0


class Attachments:
    """What one run has returned so far; ``send(**fields)`` sends one ``attachment`` frame."""

    def __init__(self, send: Send, limits: Optional[Mapping[str, Any]], roots: Sequence[str] = EXPORT_ROOTS) -> None:
        self._send = send
        self._limits = Limits(limits)
        self._roots = tuple(os.path.realpath(root) for root in roots)
        self._images = 0
        self._export_bytes = 0
        self._exports: List[AttrDict] = []
        self._names: set = set()

    # ---- images -------------------------------------------------------------------------

    def show_image(self, image: Any, name: Optional[str] = None) -> AttrDict:
        """Send ``image`` (a matplotlib figure, a PIL image, PNG or JPEG bytes, or a path); its metadata back."""
        limits = self._limits
        if self._images >= limits.max_images:
            raise ValueError(
                "show_image: this run has returned %d images, the most MCP_BRIDGE_MAX_IMAGES (%d) allows"
                % (self._images, limits.max_images)
            )
        data, mime, default_name = _image_bytes(image, limits.max_image_bytes)
        width, height = image_size(data)
        self._images += 1
        label = name or "%s-%d.%s" % (default_name, self._images, "png" if mime == "image/png" else "jpg")
        fields = {"kind": "image", "mimeType": mime, "name": _clip_name(label), "data": _b64(data), "bytes": len(data)}
        if width and height:
            fields.update(width=width, height=height)
        self._send(**fields)
        return AttrDict(mimeType=mime, bytes=len(data), width=width, height=height)

    # ---- files --------------------------------------------------------------------------

    def export_file(self, path: Any, mime_type: Optional[str] = None) -> AttrDict:
        """Send a file the code wrote under /tmp or /workspace; returns what was exported."""
        if mime_type is not None and (not isinstance(mime_type, str) or "/" not in mime_type):
            raise ValueError("export_file: mime_type must be a type like 'text/csv', got %r" % (mime_type,))
        real = os.path.realpath(os.fspath(path))
        if not any(real == root or real.startswith(root + os.sep) for root in self._roots):
            raise ValueError(
                "export_file: %s is not under %s; write the file there first" % (real, " or ".join(EXPORT_ROOTS))
            )
        if not os.path.isfile(real):
            raise ValueError("export_file: %s is not a regular file" % real)
        size = os.path.getsize(real)
        remaining = self._limits.max_export_bytes - self._export_bytes
        if size > remaining:
            raise ValueError(
                "export_file: %s is %d bytes; this run may export %d more of its %d (MCP_BRIDGE_MAX_EXPORT_BYTES)"
                % (real, size, max(remaining, 0), self._limits.max_export_bytes)
            )
        if size > MAX_FILE_BYTES:
            raise ValueError("export_file: %s is %d bytes; one file may be at most %d" % (real, size, MAX_FILE_BYTES))
        with open(real, "rb") as handle:
            data = handle.read(size + 1)
        if len(data) != size:
            raise ValueError("export_file: %s changed size while it was read" % real)
        mime = mime_type or _guess_type(real, data)
        name = self._unique(_clip_name(os.path.basename(real)))
        self._send(kind="file", mimeType=mime, name=name, data=_b64(data), bytes=size)
        self._export_bytes += size
        exported = AttrDict(name=name, path=real, mimeType=mime, bytes=size)
        self._exports.append(exported)
        return exported

    def exports(self) -> Tuple[AttrDict, ...]:
        return tuple(self._exports)

    def _unique(self, name: str) -> str:
        stem, ext = os.path.splitext(name)
        candidate, n = name, 1
        while candidate in self._names:
            n += 1
            candidate = "%s-%d%s" % (stem, n, ext)
        self._names.add(candidate)
        return candidate


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _clip_name(name: str) -> str:
    return (name or "file")[-255:]


def _guess_type(path: str, data: bytes) -> str:
    guessed = mimetypes.guess_type(path)[0]
    if guessed:
        return guessed
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain" if b"\x00" not in data else "application/octet-stream"


# ---- turning what the code gave into PNG or JPEG bytes within the cap -----------------------


def _image_bytes(image: Any, cap: int) -> Tuple[bytes, str, str]:
    """(data, mime type, a name) of ``image``, within ``cap`` bytes, else ValueError saying why."""
    if hasattr(image, "savefig") and hasattr(image, "get_dpi"):
        return _figure_png(image, cap), "image/png", "figure"
    if hasattr(image, "save") and hasattr(image, "mode") and hasattr(image, "size"):
        # A photo opened from a JPEG stays a JPEG: as PNG it would be several times bigger.
        if getattr(image, "format", None) == "JPEG":
            return _pil_jpeg(image, cap), "image/jpeg", "image"
        return _pil_png(image, cap), "image/png", "image"
    if isinstance(image, (str, os.PathLike)):
        with open(os.fspath(image), "rb") as handle:
            data = handle.read()
        stem = os.path.splitext(os.path.basename(os.fspath(image)))[0] or "image"
        return _encoded(data, cap, str(image)) + (stem,)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _encoded(bytes(image), cap, "the bytes") + ("image",)
    raise TypeError(
        "show_image takes a matplotlib figure, a PIL image, PNG or JPEG bytes, or a path, not %s" % type(image).__name__
    )


def _encoded(data: bytes, cap: int, what: str) -> Tuple[bytes, str]:
    if data.startswith(_PNG):
        mime = "image/png"
    elif data.startswith(_JPEG):
        mime = "image/jpeg"
    else:
        # Another format (GIF, BMP, ...): PNG through Pillow, when the image has it.
        return _pil_png(_open_pil(data, what, "is neither PNG nor JPEG"), cap), "image/png"
    if len(data) <= cap:
        return data, mime
    image = _open_pil(data, what, "is %d bytes, over the %d-byte limit (MCP_BRIDGE_MAX_IMAGE_BYTES)" % (len(data), cap))
    if mime == "image/jpeg":
        return _pil_jpeg(image, cap), mime
    return _pil_png(image, cap), mime


def _open_pil(data: bytes, what: str, problem: str) -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ValueError("show_image: %s %s, and without Pillow it cannot be converted or made smaller" % (what, problem)) from None
    try:
        return Image.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for bad data
        raise ValueError("show_image: %s %s and Pillow cannot read it: %s" % (what, problem, exc)) from None


def _figure_png(figure: Any, cap: int) -> bytes:
    dpi = tried = float(figure.get_dpi())
    for _ in range(_RENDER_TRIES):
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        data, tried = buffer.getvalue(), dpi
        if len(data) <= cap:
            return data
        # PNG size grows about with the pixel count, so with the square of the dpi.
        dpi = max(_MIN_DPI, dpi * (cap / len(data)) ** 0.5 * 0.9)
        if dpi == tried:
            break
    raise ValueError(
        "show_image: the figure is %d bytes as PNG even drawn at %d dpi, over the %d-byte limit "
        "(MCP_BRIDGE_MAX_IMAGE_BYTES); make it smaller (figsize, dpi) or simpler" % (len(data), tried, cap)
    )


def _shrunk(image: Any, cap: int, encode: Callable[[Any], bytes]) -> Tuple[Optional[bytes], bytes, Any]:
    """``encode(image)`` within ``cap``, with fewer pixels at each try: (data or None, the last try, its image)."""
    current = image
    data = b""
    for _ in range(_RENDER_TRIES):
        data = encode(current)
        if len(data) <= cap:
            return data, data, current
        scale = (cap / len(data)) ** 0.5 * 0.9
        width, height = current.size
        if width * scale < 8 or height * scale < 8:
            break
        current = current.resize((max(1, int(width * scale)), max(1, int(height * scale))))
    return None, data, current


def _pil_png(image: Any, cap: int) -> bytes:
    def encode(current: Any) -> bytes:
        if current.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
            current = current.convert("RGBA")
        buffer = io.BytesIO()
        current.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()

    fitted, data, current = _shrunk(image, cap, encode)
    if fitted is not None:
        return fitted
    raise ValueError(
        "show_image: the image is %d bytes as PNG even at %dx%d, over the %d-byte limit (MCP_BRIDGE_MAX_IMAGE_BYTES)"
        % ((len(data),) + tuple(current.size) + (cap,))
    )


def _pil_jpeg(image: Any, cap: int) -> bytes:
    """JPEG within ``cap``: a lower quality first, then fewer pixels."""

    def encode(current: Any) -> bytes:
        data = b""
        for quality in _JPEG_QUALITIES:
            buffer = io.BytesIO()
            current.save(buffer, format="JPEG", quality=quality, optimize=True)
            data = buffer.getvalue()
            if len(data) <= cap:
                break
        return data

    rgb = image if image.mode in ("L", "RGB", "CMYK") else image.convert("RGB")
    fitted, data, current = _shrunk(rgb, cap, encode)
    if fitted is not None:
        return fitted
    raise ValueError(
        "show_image: the image is %d bytes as JPEG even at %dx%d and quality %d, over the %d-byte limit (MCP_BRIDGE_MAX_IMAGE_BYTES)"
        % ((len(data),) + tuple(current.size) + (_JPEG_QUALITIES[-1], cap))
    )


def image_size(data: bytes) -> Tuple[Optional[int], Optional[int]]:
    """(width, height) from a PNG's IHDR or a JPEG's frame header; (None, None) when not found."""
    if data.startswith(_PNG) and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data.startswith(_JPEG):
        at = 2
        while at + 9 <= len(data):
            if data[at] != 0xFF:
                return None, None
            marker = data[at + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                at += 2
                continue
            (length,) = struct.unpack(">H", data[at + 2 : at + 4])
            # SOF0..SOF15 hold the size, except DHT (C4), JPG (C8) and DAC (CC).
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[at + 5 : at + 9])
                return (width or None), (height or None)
            at += 2 + length
    return None, None
