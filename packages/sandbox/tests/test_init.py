"""The bwrap sandbox's pid 1 (init.py), run here as an ordinary process: its child, its signals, its exit code."""
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
INIT = os.path.join(os.path.dirname(HERE), "init.py")


def start(*command, **kwargs):
    return subprocess.Popen([sys.executable, "-I", "-S", INIT, *command], **kwargs)


def wait_for_child(init, timeout=10):
    """The pid of init's one child, once it has exec'd (its cmdline is no longer init's)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/task/%d/children" % (init.pid, init.pid)) as f:
                children = [int(p) for p in f.read().split()]
            if children:
                with open("/proc/%d/cmdline" % children[0], "rb") as f:
                    if INIT.encode() not in f.read():
                        return children[0]
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError("init started no child within %s s" % timeout)


def stop(init, child=None):
    """SIGKILL to init, and to its child: out of a pid namespace of its own, init's death does not take the child along."""
    for pid in (init.pid, child):
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    init.wait()
    for stream in (init.stdin, init.stdout, init.stderr):
        if stream is not None:
            stream.close()


class InitTest(unittest.TestCase):
    def test_exits_with_the_exit_code_of_its_child(self):
        done = subprocess.run([sys.executable, "-I", "-S", INIT, "sh", "-c", "exit 5"], timeout=30)
        self.assertEqual(done.returncode, 5)

    def test_a_child_killed_by_a_signal_is_128_plus_the_signal(self):
        done = subprocess.run([sys.executable, "-I", "-S", INIT, "sh", "-c", "kill -SEGV $$"], timeout=30)
        self.assertEqual(done.returncode, 128 + signal.SIGSEGV)

    def test_sigterm_to_init_is_forwarded_and_ends_the_child(self):
        init = start("sleep", "600")
        child = None
        try:
            child = wait_for_child(init)
            init.send_signal(signal.SIGTERM)
            self.assertEqual(init.wait(timeout=30), 128 + signal.SIGTERM)
        finally:
            stop(init, child)

    def test_a_signal_the_child_handles_does_not_end_it(self):
        init = start("sh", "-c", "trap 'echo got-usr1' USR1; echo ready; while :; do sleep 0.05; done", stdout=subprocess.PIPE)
        child = None
        try:
            self.assertEqual(init.stdout.readline(), b"ready\n")
            child = wait_for_child(init)
            init.send_signal(signal.SIGUSR1)
            self.assertEqual(init.stdout.readline(), b"got-usr1\n")
            self.assertIsNone(init.poll())
        finally:
            stop(init, child)

    def test_the_child_starts_with_no_signal_blocked_or_ignored_and_no_pwd(self):
        code = "import os; s = open('/proc/self/status').read(); print([l for l in s.splitlines() if l.startswith(('SigBlk', 'SigIgn'))], 'PWD' in os.environ)"
        done = subprocess.run([sys.executable, "-I", "-S", INIT, sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=30, env={**os.environ, "PWD": "/"})
        self.assertEqual(done.returncode, 0, done.stderr)
        # Python ignores SIGPIPE and SIGXFSZ itself when it starts: the child shows exactly those.
        ignored = (1 << (signal.SIGPIPE - 1)) | (1 << (signal.SIGXFSZ - 1))
        self.assertEqual(done.stdout.strip(), "['SigBlk:\\t%016x', 'SigIgn:\\t%016x'] False" % (0, ignored))

    def test_a_python_isolated_program_runs_in_the_forked_child_as_its_own_interpreter_would(self):
        code = (
            "import os, sys; s = open('/proc/self/status').read(); cmdline = open('/proc/self/cmdline', 'rb').read();"
            "print(sys.argv, __name__, 'PWD' in os.environ, any(p.endswith('-packages') for p in sys.path));"
            "print([l for l in s.splitlines() if l.startswith(('SigBlk', 'SigIgn'))], %r.encode() in cmdline);"
            "sys.exit(int(sys.argv[1]))" % INIT
        )
        done = subprocess.run([sys.executable, "-I", "-S", INIT, sys.executable, "-I", "-u", "-c", code, "4", "x"], capture_output=True, text=True, timeout=30, env={**os.environ, "PWD": "/"})
        self.assertEqual(done.returncode, 4, done.stderr)
        ignored = (1 << (signal.SIGPIPE - 1)) | (1 << (signal.SIGXFSZ - 1))
        site = any(p.endswith("-packages") for p in subprocess.run([sys.executable, "-I", "-c", "import sys; print(sys.path)"], capture_output=True, text=True).stdout.split("'"))
        self.assertEqual(
            done.stdout.splitlines(),
            ["['-c', '4', 'x'] __main__ False %s" % site, "['SigBlk:\\t%016x', 'SigIgn:\\t%016x'] True" % (0, ignored)],
        )

    def test_an_in_process_program_that_raises_or_exits_with_a_message_ends_as_python_would(self):
        raised = subprocess.run([sys.executable, "-I", "-S", INIT, sys.executable, "-I", "-c", "raise ValueError('boom')"], capture_output=True, text=True, timeout=30)
        self.assertEqual(raised.returncode, 1)
        self.assertIn("ValueError: boom", raised.stderr)
        said = subprocess.run([sys.executable, "-I", "-S", INIT, sys.executable, "-I", "-S", "-c", "import sys; print('out'); sys.exit('no way')"], capture_output=True, text=True, timeout=30)
        self.assertEqual((said.returncode, said.stdout, said.stderr), (1, "out\n", "no way\n"))

    def test_other_commands_are_execd(self):
        # Without -I (or with a flag this interpreter does not have) the command gets an interpreter of its own.
        done = subprocess.run([sys.executable, "-I", "-S", INIT, sys.executable, "-S", "-c", "import sys; print(sys.flags.isolated)"], capture_output=True, text=True, timeout=30)
        self.assertEqual((done.returncode, done.stdout), (0, "0\n"))
        done = subprocess.run([sys.executable, "-I", "-S", INIT, sys.executable, "-I", "-O", "-c", "import sys; print(sys.flags.optimize)"], capture_output=True, text=True, timeout=30)
        self.assertEqual((done.returncode, done.stdout), (0, "1\n"))

    def test_init_holds_no_end_of_the_channel_once_the_child_runs(self):
        init = start("sleep", "600", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        child = None
        try:
            child = wait_for_child(init)
            # The dup2 follows the fork: wait for it rather than race it.
            deadline = time.monotonic() + 10
            while os.readlink("/proc/%d/fd/1" % init.pid) != "/dev/null" and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertEqual([os.readlink("/proc/%d/fd/%d" % (init.pid, fd)) for fd in (0, 1)], ["/dev/null", "/dev/null"])
        finally:
            stop(init, child)

    def test_a_command_that_cannot_start_is_127_saying_why(self):
        done = subprocess.run([sys.executable, "-I", "-S", INIT, "/nonexistent/agent"], capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 127)
        self.assertIn("mcp-init: cannot start /nonexistent/agent", done.stderr)

    def test_no_command_is_a_usage_error(self):
        done = subprocess.run([sys.executable, "-I", "-S", INIT], capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 2)
        self.assertIn("usage", done.stderr)


if __name__ == "__main__":
    unittest.main()
