"""Images and exported files: the caps, the path rule, PNG sizes, and plt.show() through a real agent."""

from __future__ import annotations

import base64
import os
import struct
import tempfile
import unittest
import zlib
from typing import Any, Dict, List

import support
from mcp_agent.attachments import Attachments, image_size

try:
    import matplotlib  # noqa: F401

    HAS_MATPLOTLIB = True
except ImportError:  # the host's Python; the data image has it (see the test's docstring)
    HAS_MATPLOTLIB = False

try:
    import PIL  # noqa: F401

    HAS_PIL = True
except ImportError:
    HAS_PIL = False

LIMITS = {"maxImages": 2, "maxImageBytes": 64 * 1024, "maxExportBytes": 1000}


def jpeg(width: int, height: int, padding: int = 0) -> bytes:
    """The markers of a JPEG of that size (SOI, APP0 with ``padding`` more bytes, SOF0), made without Pillow."""
    segments = b""
    left = padding
    while True:  # a segment holds at most 64 KiB: as many APP0 segments as the padding needs
        body = b"JFIF\x00" + b"\x00" * min(left, 0xFFFF - 7)
        left -= len(body) - 5
        segments += b"\xff\xe0" + struct.pack(">H", len(body) + 2) + body
        if left <= 0:
            break
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + segments + sof + b"\xff\xd9"


def jpeg_pil(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "blue").save(buffer, format="JPEG")
    return buffer.getvalue()


def png(width: int, height: int, noise: bool = False) -> bytes:
    """A real PNG of that size (grey, or random bytes that do not compress), made without Pillow."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = lambda: b"\x00" + (os.urandom(width) if noise else b"\x80" * width)  # noqa: E731
    raw = b"".join(row() for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class Sink:
    def __init__(self) -> None:
        self.frames: List[Dict[str, Any]] = []

    def __call__(self, **fields: Any) -> None:
        self.frames.append(fields)


class ShowImage(unittest.TestCase):
    def setUp(self) -> None:
        self.sink = Sink()
        self.attachments = Attachments(self.sink, LIMITS)

    def test_png_bytes_travel_whole_with_their_size(self) -> None:
        data = png(30, 20)
        info = self.attachments.show_image(data)
        frame = self.sink.frames[0]
        self.assertEqual((frame["kind"], frame["mimeType"], frame["width"], frame["height"]), ("image", "image/png", 30, 20))
        self.assertEqual(base64.b64decode(frame["data"]), data)
        self.assertEqual(frame["bytes"], len(data))
        self.assertEqual((info.width, info.height, info.bytes), (30, 20, len(data)))
        self.assertIsNone(support.problem(dict(v=1, type="attachment", id="a1", re="h1", **frame), support.AGENT_TYPES))

    def test_a_path_is_read(self) -> None:
        with tempfile.NamedTemporaryFile(suffix=".png") as handle:
            handle.write(png(5, 7))
            handle.flush()
            self.attachments.show_image(handle.name)
        self.assertEqual((self.sink.frames[0]["width"], self.sink.frames[0]["height"]), (5, 7))

    def test_more_images_than_the_cap_is_a_value_error_naming_the_variable(self) -> None:
        self.attachments.show_image(png(2, 2))
        self.attachments.show_image(png(2, 2))
        with self.assertRaisesRegex(ValueError, r"returned 2 images, the most MCP_BRIDGE_MAX_IMAGES \(2\) allows"):
            self.attachments.show_image(png(2, 2))
        self.assertEqual(len(self.sink.frames), 2)

    @unittest.skipIf(HAS_MATPLOTLIB, "with Pillow the image is made smaller instead")
    def test_an_image_over_the_byte_cap_is_refused_without_pillow_and_never_sent(self) -> None:
        big = png(400, 400, noise=True)
        with self.assertRaisesRegex(ValueError, r"over the 65536-byte limit \(MCP_BRIDGE_MAX_IMAGE_BYTES\)"):
            self.attachments.show_image(big)
        self.assertEqual(self.sink.frames, [])

    def test_what_is_not_an_image_is_a_type_error(self) -> None:
        with self.assertRaisesRegex(TypeError, "matplotlib figure, a PIL image"):
            self.attachments.show_image(42)

    def test_no_limits_in_execute_means_no_images(self) -> None:
        with self.assertRaisesRegex(ValueError, r"MCP_BRIDGE_MAX_IMAGES \(0\)"):
            Attachments(self.sink, None).show_image(png(1, 1))

    def test_jpeg_size_is_read_from_its_frame_header(self) -> None:
        self.assertEqual(image_size(jpeg(0x0304, 0x0102)), (0x0304, 0x0102))

    def test_jpeg_bytes_and_a_jpeg_file_travel_whole_as_image_jpeg(self) -> None:
        data = jpeg(40, 30)
        info = self.attachments.show_image(data)
        with tempfile.NamedTemporaryFile(suffix=".jpg") as handle:
            handle.write(data)
            handle.flush()
            self.attachments.show_image(handle.name)
        self.assertEqual([(f["mimeType"], f["name"], base64.b64decode(f["data"]), f["width"], f["height"]) for f in self.sink.frames],
                         [("image/jpeg", "image-1.jpg", data, 40, 30), ("image/jpeg", os.path.basename(handle.name)[:-4] + "-2.jpg", data, 40, 30)])
        self.assertEqual((info.mimeType, info.bytes), ("image/jpeg", len(data)))
        self.assertIsNone(support.problem(dict(v=1, type="attachment", id="a1", re="h1", **self.sink.frames[0]), support.AGENT_TYPES))

    @unittest.skipIf(HAS_PIL, "with Pillow the JPEG is saved again smaller instead")
    def test_a_jpeg_over_the_byte_cap_is_refused_without_pillow_naming_the_variable(self) -> None:
        big = jpeg(10, 10, padding=LIMITS["maxImageBytes"])
        with self.assertRaisesRegex(ValueError, r"the bytes is %d bytes, over the 65536-byte limit \(MCP_BRIDGE_MAX_IMAGE_BYTES\)" % len(big)):
            self.attachments.show_image(big)
        self.assertEqual(self.sink.frames, [])

    @unittest.skipUnless(HAS_PIL, "Pillow is not installed (it is in the data image)")
    def test_a_jpeg_over_the_byte_cap_is_saved_again_as_a_smaller_jpeg_not_a_png(self) -> None:
        import io
        import random

        from PIL import Image

        noise = Image.frombytes("RGB", (400, 400), bytes(random.getrandbits(8) for _ in range(400 * 400 * 3)))
        buffer = io.BytesIO()
        noise.save(buffer, format="JPEG", quality=95)
        self.assertGreater(len(buffer.getvalue()), LIMITS["maxImageBytes"])
        info = self.attachments.show_image(buffer.getvalue())
        frame = self.sink.frames[0]
        self.assertEqual(frame["mimeType"], "image/jpeg")
        self.assertTrue(base64.b64decode(frame["data"]).startswith(b"\xff\xd8\xff"))
        self.assertLessEqual(info.bytes, LIMITS["maxImageBytes"])
        # A PIL image opened from a JPEG goes as JPEG too.
        self.attachments.show_image(Image.open(io.BytesIO(jpeg_pil(16, 8))))
        self.assertEqual((self.sink.frames[1]["mimeType"], self.sink.frames[1]["width"]), ("image/jpeg", 16))


class ExportFile(unittest.TestCase):
    def setUp(self) -> None:
        self.sink = Sink()
        self.dir = tempfile.TemporaryDirectory()
        self.attachments = Attachments(self.sink, LIMITS, roots=(self.dir.name,))

    def tearDown(self) -> None:
        self.dir.cleanup()

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.dir.name, name)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def test_a_csv_goes_as_text_csv_and_a_binary_file_as_octet_stream(self) -> None:
        self.attachments.export_file(self.write("out.csv", b"a,b\n1,2\n"))
        self.attachments.export_file(self.write("blob", bytes(range(256))))
        csv, blob = self.sink.frames
        self.assertEqual((csv["kind"], csv["mimeType"], csv["name"], base64.b64decode(csv["data"])), ("file", "text/csv", "out.csv", b"a,b\n1,2\n"))
        self.assertEqual((blob["mimeType"], base64.b64decode(blob["data"])), ("application/octet-stream", bytes(range(256))))
        self.assertEqual([e.name for e in self.attachments.exports()], ["out.csv", "blob"])

    def test_a_name_exported_twice_gets_a_suffix_and_mime_type_is_taken(self) -> None:
        path = self.write("r.txt", b"x")
        self.attachments.export_file(path)
        self.attachments.export_file(path, mime_type="text/markdown")
        self.assertEqual([(f["name"], f["mimeType"]) for f in self.sink.frames], [("r.txt", "text/plain"), ("r-2.txt", "text/markdown")])

    def test_a_path_outside_the_roots_is_a_value_error_and_so_is_a_symlink_out_of_them(self) -> None:
        with self.assertRaisesRegex(ValueError, r"/etc/hostname is not under /tmp or /workspace"):
            self.attachments.export_file("/etc/hostname")
        link = os.path.join(self.dir.name, "link")
        os.symlink("/etc/hostname", link)
        with self.assertRaisesRegex(ValueError, "is not under"):
            self.attachments.export_file(link)
        self.assertEqual(self.sink.frames, [])

    def test_past_the_run_cap_is_a_value_error_naming_the_variable(self) -> None:
        self.attachments.export_file(self.write("a", b"x" * 600))
        with self.assertRaisesRegex(ValueError, r"is 600 bytes; this run may export 400 more of its 1000 \(MCP_BRIDGE_MAX_EXPORT_BYTES\)"):
            self.attachments.export_file(self.write("b", b"y" * 600))
        self.assertEqual(len(self.sink.frames), 1)

    def test_a_directory_is_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, "not a regular file"):
            self.attachments.export_file(self.dir.name)


class ThroughTheAgent(unittest.TestCase):
    """The real agent process: frames, runtime's API, and plt.show() when matplotlib is there.

    The host's Python has no matplotlib; run these in the data image to cover it:
      docker run --rm -v "$PWD/packages:/p:ro" -w /p/sandbox mcp-code-mode/sandbox:data \\
        python3 -m unittest discover -s tests -p test_attachments.py
    (that image has no node, so only the tests that need no agent process run there).
    """

    @classmethod
    def setUpClass(cls) -> None:
        try:
            support.daemon_agent_command()
        except (RuntimeError, OSError) as exc:
            raise unittest.SkipTest("no node to build the agent bundle: %s" % exc)
        cls.host = support.FakeHost()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.host.close()

    def test_show_image_and_export_file_send_frames_and_list_exports_lists(self) -> None:
        code = (
            "import base64\nfrom mcp import runtime\n"
            "runtime.show_image(base64.b64decode(%r))\n"
            "open('/tmp/t.csv', 'w').write('x\\n1\\n')\n"
            "runtime.export_file('/tmp/t.csv')\n"
            "print([e.name for e in runtime.list_exports()])\n"
            "try:\n    runtime.export_file('/etc/passwd')\nexcept ValueError as e:\n    print('refused', e)\n"
        ) % base64.b64encode(png(3, 4)).decode()
        run = self.host.execute(code, attachments=LIMITS)
        self.assertEqual(run.result["status"], "success", run.result)
        self.assertEqual([(a["kind"], a.get("width"), a.get("height")) for a in run.attachments], [("image", 3, 4), ("file", None, None)])
        self.assertIn("['t.csv']\nrefused export_file: /etc/passwd is not under /tmp or /workspace", run.stdout)

    def test_matplotlib_is_not_imported_by_a_run_that_does_not_use_it(self) -> None:
        run = self.host.execute("import sys\nprint('matplotlib' in sys.modules)")
        self.assertEqual(run.stdout, "False\n")


@unittest.skipUnless(HAS_MATPLOTLIB, "matplotlib is not installed (it is in the data image)")
class Matplotlib(unittest.TestCase):
    def test_a_figure_is_a_png_of_its_size_and_a_big_one_is_drawn_smaller(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure

        sink = Sink()
        attachments = Attachments(sink, {"maxImages": 2, "maxImageBytes": 20 * 1024, "maxExportBytes": 0})
        figure = Figure(figsize=(4, 3), dpi=50)
        figure.add_subplot().plot([1, 3, 2])
        attachments.show_image(figure)
        self.assertEqual((sink.frames[0]["width"], sink.frames[0]["height"]), (200, 150))
        busy = Figure(figsize=(8, 8), dpi=200)
        import random

        busy.add_subplot().scatter([random.random() for _ in range(4000)], [random.random() for _ in range(4000)], s=1)
        info = attachments.show_image(busy)
        self.assertLessEqual(info.bytes, 20 * 1024)
        self.assertLess(info.width, 1600)

    def test_the_hook_sets_our_backend_when_matplotlib_is_imported(self) -> None:
        import subprocess
        import sys

        code = (
            "import sys; sys.path.insert(0, %r)\n"
            "from mcp_agent import mpl_hook; mpl_hook.install()\n"
            "import matplotlib.pyplot as plt; print(plt.get_backend())"
        ) % str(support.SANDBOX / "src")
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
        self.assertEqual(out.strip(), "module://mcp_agent.mpl_backend")


if __name__ == "__main__":
    unittest.main()
