"""The sandbox's pid 1 on runtimes that bring no init of their own (bwrap): what docker-init (tini) is to a container.

Run as: python3 -I -S -c "<this file>" COMMAND... (on bwrap behind noexec.py, so that pid 1 is under
Landlock too). It starts COMMAND (the agent) as its one child (a `python3 -I -c PROGRAM` command of
this same interpreter runs in the forked child itself, with no second interpreter start), forwards to it every signal it is sent
(so SIGTERM to pid 1 stops the sandbox, as in a container, where bwrap's own pid 1 ignores it), reaps
every orphan, and exits as its child did (128+N when signal N killed it); the kernel then kills what is
left of the pid namespace. It holds no end of the agent's protocol channel (fds 0 and 1 go to
/dev/null once the child has them) nor any other fd (those above 2 are closed), and the child's
environment has no PWD (which bwrap sets after --chdir; a container's has none).
"""
import os
import signal
import sys

# Faults of pid 1 itself, and the terminal's job-control stops: left at their defaults, as tini does.
NOT_FORWARDED = frozenset(
    getattr(signal, name)
    for name in ("SIGFPE", "SIGILL", "SIGSEGV", "SIGBUS", "SIGABRT", "SIGTRAP", "SIGSYS", "SIGTTIN", "SIGTTOU", "SIGKILL", "SIGSTOP")
)
# Python ignores these at start-up; an ignored disposition outlives execve, a default one is what the agent expects.
RESET_IN_CHILD = (signal.SIGPIPE, signal.SIGXFSZ)


def forwarded_signals():
    """Every signal pid 1 blocks and waits for: SIGCHLD (to reap) and the ones it passes on."""
    return set(signal.valid_signals()) - NOT_FORWARDED


def exit_code(status):
    """The shell's convention, which the runtime reads back: the exit code, or 128 + the killing signal."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


# Flags of a `python3 ... -c PROGRAM` command that this interpreter (started -I -S) can honour itself.
IN_PROCESS_FLAGS = frozenset(("-I", "-u", "-S"))


def _which(name):
    # Not shutil.which: importing shutil (bz2, lzma, fnmatch) costs ~10 ms of every sandbox's start.
    if "/" in name:
        return name
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    return None


def in_process(argv):
    """(program, args, site) when argv is `python3 [-I -u -S] -c PROGRAM ARGS...` for this very
    interpreter, with -I (the isolation this one has): the child then runs PROGRAM itself, without
    a second interpreter start (~40 ms of CPU per sandbox). Else None: the child execs argv."""
    if "-c" not in argv:
        return None
    c = argv.index("-c")
    flags = argv[1:c]
    if c + 1 >= len(argv) or "-I" not in flags or not set(flags) <= IN_PROCESS_FLAGS:
        return None
    found = _which(argv[0])
    if found is None or os.path.realpath(found) != os.path.realpath(sys.executable):
        return None
    return argv[c + 1], argv[c + 2:], "-S" not in flags


def run_in_process(program, args, site):
    """What `python3 -I -c PROGRAM ARGS...` runs, in this (forked) interpreter: as its -c program, in a
    fresh __main__, with the site packages unless -S; exits as that interpreter would."""
    sys.argv[:] = ["-c"] + args
    code = 0
    try:
        if site:
            import site as site_module

            site_module.main()
        exec(compile(program, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            sys.stderr.write("%s\n" % (exc.code,))
            code = 1
    except BaseException:  # noqa: BLE001 - reported as the interpreter would, then exit 1
        import traceback

        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code & 0xFF)


def spawn(argv, env):
    program = in_process(argv)
    pid = os.fork()
    if pid == 0:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            if program is not None:
                # SIGPIPE and SIGXFSZ stay ignored, as Python itself sets them at its start.
                os.environ.pop("PWD", None)
                run_in_process(*program)
            for sig in RESET_IN_CHILD:
                signal.signal(sig, signal.SIG_DFL)
            os.execvpe(argv[0], argv, env)
        except OSError as exc:
            os.write(2, ("mcp-init: cannot start %s: %s\n" % (argv[0], exc)).encode())
        os._exit(127)
    return pid


def reap(child):
    """Waits for every child that has ended; the exit code of `child` if it is one of them, else None."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return None
        if pid == 0:
            return None
        if pid == child:
            return exit_code(status)


def run(argv):
    """Runs argv as pid 1's child until it ends; returns its exit code."""
    signals = forwarded_signals()
    # Blocked before the fork: a signal sent at any moment waits for sigwaitinfo. A blocked signal
    # also reaches pid 1 at all: the kernel drops the ones sent from inside the namespace to an init
    # whose disposition is the default.
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    env = dict(os.environ)
    env.pop("PWD", None)
    child = spawn(argv, env)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    # Nor any other fd the runtime handed down for the agent (bwrap: the precompiled code on fd 4).
    os.closerange(3, 1 << 20)
    while True:
        info = signal.sigwaitinfo(signals)
        if info.si_signo == signal.SIGCHLD:
            code = reap(child)
            if code is not None:
                return code
            continue
        try:
            os.kill(child, info.si_signo)
        except ProcessLookupError:
            pass  # ended; its SIGCHLD is next


def main():
    if len(sys.argv) < 2:
        sys.stderr.write('mcp-init: usage: python3 -I -S -c "<init.py>" COMMAND...\n')
        sys.exit(2)
    sys.stderr.flush()
    os._exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
