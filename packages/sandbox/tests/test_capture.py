"""The output capture in a process of its own (it takes over fds 1 and 2): prepared ahead or not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import unittest

import support

SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    sys.path.insert(0, %(src)r)
    from mcp_agent.capture import OutputCapture
    report = os.fdopen(int(sys.argv[1]), "w")
    seen = []
    capture = OutputCapture(lambda stream, text: seen.append([stream, text]))
    if %(prepare)r:
        capture.prepare()
    if %(break_it)r:
        ready = capture._ready
        os.close(ready.write_fds[0])  # as a lingering thread of an earlier run might
    capture.start(lambda stream, text: seen.append([stream, text]), 1024)
    print("to stdout")
    os.write(2, b"raw stderr\\n")
    dropped = capture.finish()
    capture.release()
    json.dump({"seen": seen, "dropped": dropped, "fds_left": sorted(int(fd) for fd in os.listdir("/proc/self/fd"))}, report)
    report.close()
    """
)


def run_capture(prepare: bool, break_it: bool = False) -> dict:
    read_fd, write_fd = os.pipe()
    script = SCRIPT % {"src": str(support.SANDBOX / "src"), "prepare": prepare, "break_it": break_it}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(write_fd)],  # the script reports on that fd
        pass_fds=(write_fd,),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as report:
        text = report.read()
    if proc.returncode != 0 or not text:
        raise AssertionError("capture script failed (%s): %s" % (proc.returncode, proc.stderr.decode(errors="replace")))
    return json.loads(text)


class Capture(unittest.TestCase):
    def check(self, outcome: dict) -> None:
        joined = {"stdout": "", "stderr": ""}
        for stream, text in outcome["seen"]:
            joined[stream] += text
        self.assertEqual(joined, {"stdout": "to stdout\n", "stderr": "raw stderr\n"})
        self.assertEqual(outcome["dropped"], {"stdout": 0, "stderr": 0})

    def test_fresh_capture(self) -> None:
        self.check(run_capture(prepare=False))

    def test_prepared_capture_gives_the_same_output_and_leaves_no_fd(self) -> None:
        fresh = run_capture(prepare=False)
        prepared = run_capture(prepare=True)
        self.check(prepared)
        self.assertEqual(prepared["fds_left"], fresh["fds_left"])

    def test_a_prepared_capture_whose_fd_was_closed_is_replaced(self) -> None:
        self.check(run_capture(prepare=True, break_it=True))


if __name__ == "__main__":
    unittest.main()
