"""Make every writable place of the sandbox non-executable with Landlock, then start the agent.

Run as: python3 -I -u -c "<this file>" "<bootstrap.py>" BUNDLE
The bwrap runtime needs it: bwrap mounts /tmp, /workspace and /dev as tmpfs without noexec (it has
no flag for it). Landlock allows execve only beneath the top-level directories whose filesystem is
read-only and holds no writable mount, so a file written to /tmp, /workspace or /dev/shm (or a memfd)
cannot be executed. It needs no privilege: no_new_privs (which bwrap sets) is enough. A kernel
without Landlock (before 5.13, or with it disabled) stops the sandbox here, before any user code.
"""
import ctypes
import os
import sys

SYS_LANDLOCK_CREATE_RULESET = 444  # x86_64 and every other arch since 5.13 (the unified table)
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
LANDLOCK_ACCESS_FS_EXECUTE = 1
PR_SET_NO_NEW_PRIVS = 38


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in linux/landlock.h
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class NoexecError(Exception):
    pass


def parse_mountinfo(text):
    """[(mount point, read_only)] from /proc/self/mountinfo (octal escapes decoded)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 6:
            continue
        point = fields[4].encode().decode("unicode_escape")
        mounts.append((point, "ro" in fields[5].split(",")))
    return mounts


def exec_roots(entries, mounts):
    """The top-level directories (of `entries`, real directories of /) where execve may stay allowed.

    A directory qualifies when the mount it lives on is read-only and no writable mount sits at or
    beneath it. The later of two mounts on the same point wins, as in mountinfo's order.
    """
    def mount_of(path):
        best = None
        for point, read_only in mounts:
            if path == point or path.startswith(point.rstrip("/") + "/"):
                if best is None or len(point) >= len(best[0]):
                    best = (point, read_only)
        return best

    roots = []
    for name in sorted(entries):
        path = "/" + name
        here = mount_of(path)
        if here is None or not here[1]:
            continue
        below = [p for p, _ in mounts if p == path or p.startswith(path + "/")]
        if all(mount_of(p)[1] for p in below):
            roots.append(path)
    return roots


def _syscall(libc, number, *args):
    result = libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        err = ctypes.get_errno()
        raise NoexecError("syscall %d failed: %s" % (number, os.strerror(err)))
    return result


def landlock_abi(libc):
    result = libc.syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_long(0), ctypes.c_long(LANDLOCK_CREATE_RULESET_VERSION))
    return result if result > 0 else 0


def allow_exec_only_beneath(paths):
    """Restricts this process and its future children: execve works only beneath `paths`."""
    if not paths:
        raise NoexecError("no read-only directory to allow execution from")
    libc = ctypes.CDLL(None, use_errno=True)
    if landlock_abi(libc) < 1:
        raise NoexecError("the kernel has no Landlock (Linux 5.13+ with landlock in the lsm= list); the bwrap runtime needs it to make /tmp and /workspace non-executable")
    attr = _RulesetAttr(LANDLOCK_ACCESS_FS_EXECUTE)
    ruleset = _syscall(libc, SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0))
    try:
        for path in paths:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneathAttr(LANDLOCK_ACCESS_FS_EXECUTE, fd)
                _syscall(libc, SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
            finally:
                os.close(fd)
        if libc.prctl(ctypes.c_int(PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
            raise NoexecError("prctl(PR_SET_NO_NEW_PRIVS) failed: %s" % os.strerror(ctypes.get_errno()))
        _syscall(libc, SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)


def start():
    if len(sys.argv) < 3:
        sys.stderr.write('mcp-agent: usage: python3 -I -u -c "<noexec.py>" "<bootstrap.py>" BUNDLE\n')
        sys.exit(2)
    try:
        with open("/proc/self/mountinfo") as f:
            mounts = parse_mountinfo(f.read())
        entries = [e.name for e in os.scandir("/") if e.is_dir(follow_symlinks=False)]
        allow_exec_only_beneath(exec_roots(entries, mounts))
    except (OSError, NoexecError) as exc:
        sys.stderr.write("mcp-agent: cannot make the writable mounts non-executable: %s\n" % exc)
        sys.exit(3)
    bootstrap = sys.argv[1]
    sys.argv[:] = ["-c"] + sys.argv[2:]
    # The bootstrap runs as if it were the -c program itself: in __main__, without our names.
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    exec(compile(bootstrap, "<bootstrap>", "exec"), namespace)


if __name__ == "__main__":
    start()
