"""The agent as the daemon starts it: bundle + bootstrap in a subprocess, frames over its stdio."""

from __future__ import annotations

import sys
import time
import unittest

import support
from support import FakeHost


class Bootstrap(unittest.TestCase):
    def test_the_daemons_command_starts_the_bootstrap_with_a_bundle_that_fits_in_argv(self) -> None:
        command = support.daemon_agent_command()
        self.assertEqual(command[:4], ["python3", "-I", "-u", "-c"])
        self.assertEqual(command[4], (support.SANDBOX / "bootstrap.py").read_text(encoding="utf-8"))
        # Linux caps one argv string at 128 KiB.
        self.assertLess(len(command[4].encode("utf-8")), 100 * 1024)
        self.assertLess(len(command[5].encode("utf-8")), 120 * 1024)

    def test_noise_before_the_first_frame_is_skipped(self) -> None:
        host = FakeHost(noise=b'{"stream":true,"stdin":true,"stdout":true,"stderr":true}')
        try:
            self.assertEqual(host.ready["type"], "ready")
            ping = host.send("ping")
            self.assertEqual(host.next_frame()["re"], ping)
        finally:
            host.close()

    def test_exits_when_the_daemon_closes_stdin(self) -> None:
        host = FakeHost()
        self.assertEqual(host.close(), 0)


class HardExit(unittest.TestCase):
    """os._exit ends the agent itself, so each case has an agent of its own."""

    def stream_then_exit(self, code: str) -> tuple:
        host = FakeHost()
        try:
            host.send("execute", code=code, servers=[], discovered=[], maxOutputBytes=65536)
            streams = []
            while True:
                item = host.frames.get(timeout=20)
                if item is None:
                    break
                self.assertNotEqual(item.get("type"), "result", "os._exit must not produce a result")
                if item.get("type") == "stream":
                    streams.append((item["name"], item["data"]))
            return "".join(d for n, d in streams if n == "stdout"), "".join(d for n, d in streams if n == "stderr"), host.proc.wait(10)
        finally:
            host.close()

    def test_output_just_before_os_exit_is_forwarded(self) -> None:
        stdout, stderr, status = self.stream_then_exit(
            "import os, sys\nprint('bye')\nsys.stdout.write('no newline')\nos.write(2, b'raw err')\nos._exit(5)"
        )
        self.assertEqual((stdout, stderr, status), ("bye\nno newline", "raw err", 5))

    def test_os_exit_in_a_forked_child_leaves_the_run_going(self) -> None:
        run_host = FakeHost()
        try:
            run = run_host.execute("import os\npid = os.fork()\nif pid == 0:\n    os._exit(7)\n_, status = os.waitpid(pid, 0)\nprint(os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else status >> 8)")
            self.assertEqual(run.stdout, "7\n")
            self.assertEqual(run.result["status"], "success")
            self.assertEqual(run_host.execute("print('still here')").stdout, "still here\n")
        finally:
            run_host.close()


class Agent(unittest.TestCase):
    """One agent for the whole class, as a session would reuse it; runs must not disturb each other."""

    host: FakeHost

    @classmethod
    def setUpClass(cls) -> None:
        cls.host = FakeHost()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.host.close()

    def run_code(self, code: str, **options: object):  # type: ignore[no-untyped-def]
        return self.host.execute(code, **options)  # type: ignore[arg-type]

    def assertSuccess(self, run: support.Run) -> None:
        self.assertEqual((run.result["status"], run.result["exitCode"]), ("success", 0), run.result)

    def test_ready_and_ping(self) -> None:
        ready = self.host.ready
        self.assertEqual(ready["python"], "%d.%d.%d" % sys.version_info[:3])
        self.assertEqual(ready["pid"], self.host.proc.pid)
        ping = self.host.send("ping")
        pong = self.host.next_frame()
        self.assertEqual((pong["type"], pong["re"]), ("pong", ping))
        self.assertNotEqual(pong["id"], ready["id"])

    def test_bundle_modules_have_pseudo_files_and_sources(self) -> None:
        run = self.run_code(
            "import inspect, linecache\n"
            "from mcp import runtime\n"
            "print(runtime.__file__)\n"
            "linecache.clearcache()\n"
            "print(inspect.getsource(runtime.call_tool).splitlines()[0])\n"
        )
        self.assertEqual(run.stdout, "<agent>/mcp/runtime.py\nasync def call_tool(\n")

    def test_print(self) -> None:
        run = self.run_code("print(6*7)")
        self.assertEqual(run.stdout, "42\n")
        self.assertEqual(run.stderr, "")
        self.assertSuccess(run)
        self.assertNotIn("dropped", run.result)

    def test_stderr_is_separate(self) -> None:
        run = self.run_code("import sys\nprint('out')\nprint('err', file=sys.stderr)")
        self.assertEqual((run.stdout, run.stderr), ("out\n", "err\n"))

    def test_exception(self) -> None:
        run = self.run_code("def f(x):\n    return 1 / x\n\nf(0)\n")
        self.assertEqual((run.result["status"], run.result["exitCode"]), ("error", 1))
        self.assertEqual(run.error["type"], "ZeroDivisionError")
        self.assertEqual(run.error["message"], "division by zero")
        trace = run.error["traceback"]
        self.assertTrue(trace.startswith("Traceback (most recent call last):\n"), trace)
        self.assertIn('File "<run_python>", line 4, in <module>', trace)
        self.assertIn('File "<run_python>", line 2, in f', trace)
        self.assertIn("return 1 / x", trace)
        for internal in ("<agent>", "mcp_agent", "<string>", "asyncio"):
            self.assertNotIn(internal, trace)

    def test_async_exception_hides_the_event_loop(self) -> None:
        run = self.run_code("await asyncio.sleep(0)\nraise ValueError('bad')")
        self.assertEqual(run.error["type"], "ValueError")
        self.assertIn('File "<run_python>", line 2, in <module>', run.error["traceback"])
        self.assertNotIn("base_events", run.error["traceback"])

    def test_syntax_error(self) -> None:
        run = self.run_code("x = 1\nprint(x +)\n")
        self.assertEqual((run.result["status"], run.result["exitCode"]), ("error", 1))
        self.assertEqual(run.error["type"], "SyntaxError")
        self.assertIn("line 2", run.error["message"])
        self.assertIn('File "<run_python>", line 2', run.error["traceback"])
        self.assertNotIn("<agent>", run.error["traceback"])

    def test_exit_codes(self) -> None:
        self.assertEqual(self.run_code("import sys; sys.exit(3)").result["exitCode"], 3)
        self.assertEqual(self.run_code("import sys; sys.exit(3)").result["status"], "error")
        self.assertSuccess(self.run_code("import sys; sys.exit(0)"))
        self.assertSuccess(self.run_code("raise SystemExit"))
        run = self.run_code("import sys; sys.exit('bye')")
        self.assertEqual((run.result["status"], run.result["exitCode"], run.stderr), ("error", 1, "bye\n"))
        self.assertEqual(self.run_code("await asyncio.sleep(0); raise SystemExit(4)").result["exitCode"], 4)

    def test_keyboard_interrupt_and_base_exceptions_do_not_kill_the_agent(self) -> None:
        run = self.run_code("raise KeyboardInterrupt")
        self.assertEqual((run.result["status"], run.error["type"]), ("error", "KeyboardInterrupt"))
        run = self.run_code("class Odd(BaseException): pass\nawait asyncio.sleep(0)\nraise Odd('x')")
        self.assertEqual(run.error["type"], "Odd")
        self.assertSuccess(self.run_code("pass"))

    def test_top_level_await(self) -> None:
        run = self.run_code("import asyncio\nawait asyncio.sleep(0.05)\nprint('slept')")
        self.assertEqual(run.stdout, "slept\n")
        self.assertSuccess(run)

    def test_asyncio_run_works_in_code_without_top_level_await(self) -> None:
        run = self.run_code("import asyncio\nasync def main():\n    return 7\nprint(asyncio.run(main()))")
        self.assertEqual(run.stdout, "7\n")

    def test_namespace_persists_and_is_main(self) -> None:
        self.assertSuccess(self.run_code("counter = 41\nclass Point:\n    pass"))
        run = self.run_code(
            "import pickle\ncounter += 1\nprint(counter, __name__, type(pickle.loads(pickle.dumps(Point()))).__name__)"
        )
        self.assertEqual(run.stdout, "42 __main__ Point\n")

    def test_raw_writes_to_fds(self) -> None:
        run = self.run_code("import os\nos.write(1, b'raw out\\n')\nos.write(2, b'raw err\\n')\nos.write(0, b'junk')")
        self.assertEqual((run.stdout, run.stderr), ("raw out\n", "raw err\n"))
        self.assertSuccess(run)

    def test_closing_fds_1_and_2_and_0(self) -> None:
        run = self.run_code("import os\nprint('before', flush=True)\nos.close(1)\nos.close(2)\nos.close(0)")
        self.assertEqual(run.stdout, "before\n")
        self.assertSuccess(run)
        run = self.run_code("print('next run is fine')")
        self.assertEqual(run.stdout, "next run is fine\n")

    def test_code_that_uses_up_every_fd_still_finishes(self) -> None:
        # A thread holds every free fd while the run ends, then gives them back for the next run.
        run = self.run_code(
            "import os, threading, time\n"
            "full = threading.Event()\n"
            "def hog():\n"
            "    held = []\n"
            "    try:\n"
            "        while True:\n"
            "            held.append(os.open('/dev/null', os.O_RDONLY))\n"
            "    except OSError:\n"
            "        full.set()\n"
            "    time.sleep(0.5)\n"
            "    for fd in held:\n"
            "        os.close(fd)\n"
            "threading.Thread(target=hog, daemon=True).start()\n"
            "full.wait()\n"
            "print('all fds in use')"
        )
        self.assertEqual(run.stdout, "all fds in use\n")
        self.assertSuccess(run)
        time.sleep(0.7)
        self.assertSuccess(self.run_code("pass"))

    def test_replacing_sys_stdout(self) -> None:
        run = self.run_code("import io, sys\nsys.stdout = io.StringIO()\nprint('hidden')")
        self.assertEqual(run.stdout, "")
        self.assertEqual(self.run_code("print('visible')").stdout, "visible\n")

    def test_subprocess_output_is_captured(self) -> None:
        run = self.run_code(
            "import subprocess, os\nsubprocess.run(['echo', 'from child'])\nos.system('echo from shell >&2')"
        )
        self.assertEqual((run.stdout, run.stderr), ("from child\n", "from shell\n"))

    def test_a_forked_child_does_not_end_the_run(self) -> None:
        run = self.run_code(
            "import os, time\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    print('child', flush=True)\n"
            "else:\n"
            "    os.waitpid(pid, 0)\n"
            "    time.sleep(0.1)\n"
            "    print('parent')\n"
        )
        self.assertEqual(run.stdout, "child\nparent\n")
        self.assertSuccess(run)
        self.assertSuccess(self.run_code("pass"))

    def test_protocol_fds_are_not_inherited(self) -> None:
        run = self.run_code("import os\nos.system('ls /proc/self/fd')")
        self.assertLessEqual({int(fd) for fd in run.stdout.split()}, {0, 1, 2, 3})

    def test_background_process_that_outlives_the_code(self) -> None:
        started = time.monotonic()
        run = self.run_code(
            "import subprocess\n"
            "subprocess.Popen(['sh', '-c', 'echo early; sleep 3; echo late'])\n"
            "import time; time.sleep(0.3)\n"
            "print('done')"
        )
        self.assertLess(time.monotonic() - started, 2.5)
        self.assertEqual(sorted(run.stdout.splitlines()), ["done", "early"])
        self.assertEqual(self.run_code("print('clean')").stdout, "clean\n")

    def test_split_and_invalid_utf8(self) -> None:
        run = self.run_code(
            "import os, time\nos.write(1, b'\\xe2\\x82')\ntime.sleep(0.05)\nos.write(1, b'\\xac|\\xff|\\n')"
        )
        self.assertEqual(run.stdout, "\u20ac|\ufffd|\n")

    def test_output_cap_counts_what_it_drops(self) -> None:
        run = self.run_code("import sys\nprint('x' * 1000)\nprint('e' * 10, file=sys.stderr)", max_output=100)
        self.assertEqual(run.stdout, "x" * 100)
        self.assertEqual(run.stderr, "e" * 10 + "\n")
        self.assertEqual(run.result["dropped"], {"stdout": 901, "stderr": 0})
        self.assertSuccess(run)

    def test_large_output_is_chunked(self) -> None:
        run = self.run_code("print('\u20ac' * 100000)", max_output=10 * 1024 * 1024)
        self.assertEqual(run.stdout, "\u20ac" * 100000 + "\n")
        self.assertGreater(len(run.streams), 1)
        self.assertTrue(all(len(frame["data"].encode("utf-8")) <= 16 * 1024 for frame in run.streams))

    def test_invalid_frames_are_ignored_and_a_bad_execute_is_answered(self) -> None:
        self.host.write(b'\x1e{"v":2,"type":"ping","id":"old"}\n\x1enot json\n')
        self.host.send("execute", code="print(1)", servers="nope", discovered=[], maxOutputBytes=10)
        result = self.host.next_frame()
        self.assertEqual((result["type"], result["status"], result["error"]["type"]), ("result", "error", "ProtocolError"))
        self.assertIn("servers", result["error"]["message"])
        ping = self.host.send("ping")
        self.assertEqual(self.host.next_frame()["re"], ping)
        self.assertTrue(self.host.wait_for_diag("unsupported protocol version"))

    def test_pings_are_answered_while_code_runs(self) -> None:
        execute_id = self.host.send("execute", code="import time; time.sleep(0.5)", servers=[], discovered=[], maxOutputBytes=10)
        time.sleep(0.1)
        ping = self.host.send("ping")
        first = self.host.next_frame()
        self.assertEqual((first["type"], first["re"]), ("pong", ping))
        self.assertEqual(self.host.next_frame()["re"], execute_id)


if __name__ == "__main__":
    unittest.main()
