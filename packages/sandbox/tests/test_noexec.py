"""The Landlock prelude of the bwrap runtime: which directories keep execve, and that the rest loses it."""
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import noexec  # noqa: E402

BWRAP_LIKE = """\
22 1 0:10 / / ro,nosuid,nodev - ext4 /dev/vda rw
23 22 0:20 / /proc rw,nosuid,nodev,noexec - proc proc rw
24 22 0:21 / /dev rw,nosuid - tmpfs tmpfs rw,size=64k
25 24 0:5 /null /dev/null rw,nosuid - devtmpfs udev rw
26 22 0:22 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw,size=1024k
27 22 0:23 / /workspace rw,nosuid,nodev - tmpfs tmpfs rw,size=1024k
28 22 0:24 / /var/cache/my\\040dir rw - tmpfs tmpfs rw
"""


class ExecRootsTest(unittest.TestCase):
    def test_read_only_directories_keep_exec_and_writable_mounts_lose_it(self):
        mounts = noexec.parse_mountinfo(BWRAP_LIKE)
        self.assertIn(("/var/cache/my dir", False), mounts)
        roots = noexec.exec_roots(["usr", "etc", "tmp", "workspace", "dev", "proc", "var", "opt"], mounts)
        # /var holds a writable mount below it, so it loses exec as a whole.
        self.assertEqual(roots, ["/etc", "/opt", "/usr"])

    def test_a_writable_root_allows_nothing(self):
        mounts = noexec.parse_mountinfo("1 0 0:1 / / rw - ext4 /dev/vda rw\n")
        self.assertEqual(noexec.exec_roots(["usr", "tmp"], mounts), [])

    def test_a_later_mount_on_the_same_point_wins(self):
        text = "1 0 0:1 / / ro - ext4 a ro\n2 1 0:2 / /usr ro - ext4 b ro\n3 1 0:3 / /usr rw - tmpfs c rw\n"
        self.assertEqual(noexec.exec_roots(["usr"], noexec.parse_mountinfo(text)), [])

    def test_no_directory_is_refused(self):
        with self.assertRaises(noexec.NoexecError):
            noexec.allow_exec_only_beneath([])


def landlock_available():
    return noexec.landlock_abi(ctypes.CDLL(None, use_errno=True)) >= 1


@unittest.skipUnless(landlock_available(), "this kernel has no Landlock")
class LandlockTest(unittest.TestCase):
    def test_exec_outside_the_allowed_directories_fails(self):
        with tempfile.TemporaryDirectory() as tmp:
            copy = os.path.join(tmp, "true")
            shutil.copy(shutil.which("true"), copy)
            probe = (
                "import subprocess, noexec\n"
                "noexec.allow_exec_only_beneath(['/usr'])\n"
                "print(subprocess.run(['/usr/bin/true']).returncode)\n"
                "try:\n"
                "    subprocess.run([%r])\n"
                "    print('ran')\n"
                "except PermissionError:\n"
                "    print('refused')\n" % copy
            )
            out = subprocess.run([sys.executable, "-c", probe], cwd=os.path.dirname(HERE), capture_output=True, text=True, timeout=30)
            self.assertEqual(out.stdout.split(), ["0", "refused"], out.stderr)


if __name__ == "__main__":
    unittest.main()
