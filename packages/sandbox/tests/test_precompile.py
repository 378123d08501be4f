"""precompile.py and the bootstrap's --code-fd: the agent runs from code objects compiled once by
the same Python, and from source whenever those are not exactly its own."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import threading
import unittest
import zlib
from typing import Dict, Tuple

import support
from support import FakeHost

PRECOMPILE = (support.SANDBOX / "precompile.py").read_text(encoding="utf-8")
MARK = "\nPRECOMPILED_MARK = 'from the code objects'\n"


def bundle() -> str:
    return support.daemon_agent_command()[-1]


def precompile(bundle_text: str) -> bytes:
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PRECOMPILE, "-"], input=bundle_text.encode("ascii"), capture_output=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise AssertionError("precompile.py failed: %s" % done.stderr.decode("utf-8", "replace"))
    return done.stdout


def split(data: bytes) -> Tuple[bytes, Dict[str, object]]:
    end = data.index(b"\n")
    return data[: end + 1], marshal.loads(data[end + 1 :])


def marked(data: bytes) -> bytes:
    """The same output, with mcp/__init__.py compiled from its source plus MARK: proof of which code ran."""
    head, code = split(data)
    source = support.SANDBOX.joinpath("src", "mcp", "__init__.py").read_text(encoding="utf-8")
    code["mcp/__init__.py"] = compile(source + MARK, "<agent>/mcp/__init__.py", "exec", dont_inherit=True)
    return head + marshal.dumps(code)


def start_with(data: bytes) -> Tuple[FakeHost, int]:
    read, write = os.pipe()
    inode = os.fstat(read).st_ino

    def feed() -> None:
        try:
            os.write(write, data)
        except OSError:
            pass
        finally:
            os.close(write)

    threading.Thread(target=feed, daemon=True).start()
    return FakeHost(extra_args=["--code-fd=%d" % read], pass_fds=[read]), inode


PROBE = "import mcp, inspect\nprint(getattr(mcp, 'PRECOMPILED_MARK', 'compiled from source'))\nprint(len(inspect.getsource(mcp)) > 0)"


class Precompile(unittest.TestCase):
    def test_the_output_names_its_bundle_and_python_and_holds_every_module(self) -> None:
        text = bundle()
        head, code = split(precompile(text))

        fields = head.decode("utf-8").rstrip("\n").split(" ", 4)
        self.assertEqual(fields[:4], ["mcp-agent-code", "1", str(zlib.crc32(text.encode("ascii"))), str(len(text))])
        self.assertEqual(fields[4], " ".join(sys.version.split()))
        self.assertIn("mcp_agent/main.py", code)
        self.assertIn("mcp_agent/settings.py", code)
        self.assertEqual(code["mcp_agent/main.py"].co_filename, "<agent>/mcp_agent/main.py")  # type: ignore[attr-defined]

    def test_the_agent_runs_from_the_code_objects_when_they_are_its_own(self) -> None:
        host, inode = start_with(marked(precompile(bundle())))
        try:
            run = host.execute(PROBE)
            self.assertEqual(run.stdout, "from the code objects\nTrue\n")
            self.assertFalse(any("precompiled code not used" in line for line in host.diag), host.diag)
            # The fd is the bootstrap's alone: closed before any user code.
            run = host.execute(
                "import os\nprint(any(os.stat('/proc/self/fd/' + fd).st_ino == %d for fd in os.listdir('/proc/self/fd') if os.path.exists('/proc/self/fd/' + fd)))"
                % inode
            )
            self.assertEqual(run.stdout, "False\n")
        finally:
            host.close()

    def test_code_of_another_python_or_bundle_or_garbage_is_not_used_and_the_agent_still_starts(self) -> None:
        data = marked(precompile(bundle()))
        head, rest = data.split(b"\n", 1)
        fields = head.split(b" ", 4)
        cases = {
            "compiled by Python 2.7.18": b" ".join(fields[:4] + [b"2.7.18"]) + b"\n" + rest,
            "compiled from another bundle": b" ".join(fields[:2] + [b"1", fields[3]] + fields[4:]) + b"\n" + rest,
            "not precompiled agent code": b"hello\n" + rest,
            "unreadable": head + b"\n" + b"\x00garbage",
        }
        for reason, payload in cases.items():
            with self.subTest(reason=reason):
                host, _ = start_with(payload)
                try:
                    run = host.execute(PROBE)
                    self.assertEqual(run.stdout, "compiled from source\nTrue\n")
                    self.assertTrue(host.wait_for_diag("mcp-agent: precompiled code not used: " + reason), host.diag)
                finally:
                    host.close()


if __name__ == "__main__":
    unittest.main()
