"""Start the mcp-code-mode sandbox agent from a bundle passed as argv.

Run as: python3 -I -u -c "<this file>" BUNDLE [--code-fd=N]
BUNDLE = base64(zlib(JSON {"pkg/module.py": "source", ...})), built from packages/sandbox/src.
Nothing is written to disk: the container's root is read-only and its tmpfs mounts are noexec.
--code-fd=N: fd N holds the bundle compiled by this same Python (precompile.py's output), read to
its end and closed before anything else runs; the modules then run from it instead of being
compiled from source. Output of another Python, or for another bundle, is not used.
"""
import base64
import importlib.machinery
import json
import linecache
import marshal
import os
import sys
import zlib

PREFIX = "<agent>/"


class BundleImporter:
    """Imports the bundle's modules from memory; first on sys.meta_path, so it shadows the image's.

    A plain class (finder and loader by its methods): importlib.abc would import importlib.resources,
    pathlib and tempfile, ~15 ms of every sandbox's start.
    """

    def __init__(self, files, code=None):
        self.files = files
        self.code = code or {}

    def find_spec(self, fullname, path=None, target=None):
        base = fullname.replace(".", "/")
        for relative, is_package in ((base + "/__init__.py", True), (base + ".py", False)):
            if relative in self.files:
                spec = importlib.machinery.ModuleSpec(fullname, self, origin=PREFIX + relative, is_package=is_package)
                spec.has_location = True  # so that __file__ is set, to the pseudo path
                return spec
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        filename = module.__spec__.origin
        source = self.files[filename[len(PREFIX):]]
        # Tracebacks read lines through linecache; get_source below refills it after a clearcache().
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = self.code.pop(filename[len(PREFIX):], None)
        exec(code if code is not None else compile(source, filename, "exec", dont_inherit=True), module.__dict__)

    def get_source(self, fullname):
        spec = self.find_spec(fullname)
        return None if spec is None else self.files[spec.origin[len(PREFIX):]]


def read_all(fd):
    chunks = []
    try:
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def precompiled(bundle, data):
    """The code objects in `data` (precompile.py's output) when they are this bundle's, compiled by this Python; else None and why."""
    end = data.find(b"\n")
    fields = data[:end].decode("utf-8", "replace").split(" ", 4) if end > 0 else []
    if len(fields) != 5 or fields[:2] != ["mcp-agent-code", "1"]:
        return None, "not precompiled agent code"
    key = bundle.encode("ascii")
    if fields[2:4] != [str(zlib.crc32(key)), str(len(key))]:
        return None, "compiled from another bundle"
    version = " ".join(sys.version.split())  # on one line, as precompile.py writes it
    if fields[4] != version:
        return None, "compiled by Python %s, this is %s" % (fields[4], version)
    try:
        code = marshal.loads(data[end + 1:])
    except (EOFError, ValueError, TypeError) as exc:
        return None, "unreadable: %s" % exc
    if not isinstance(code, dict):
        return None, "unreadable: not a map of modules"
    return code, None


def start():
    args = sys.argv[1:]
    code_fd = [a for a in args[1:] if a.startswith("--code-fd=")]
    if len(args) < 1 or len(args) - len(code_fd) != 1:
        sys.stderr.write("mcp-agent: usage: python3 -I -u -c <bootstrap.py> <bundle> [--code-fd=N]\n")
        sys.exit(2)
    bundle = args[0]
    files = json.loads(zlib.decompress(base64.b64decode(bundle)).decode("utf-8"))
    code = None
    for arg in code_fd:
        try:
            code, why = precompiled(bundle, read_all(int(arg[len("--code-fd="):])))
        except (OSError, ValueError) as exc:
            why = str(exc)
        if code is None:
            # The agent still starts (compiling from source); the runtime logs what the sandbox wrote.
            sys.stderr.write("mcp-agent: precompiled code not used: %s\n" % why)
    sys.argv[:] = [""]  # the bundle is no business of user code
    sys.meta_path.insert(0, BundleImporter(files, code))
    from mcp_agent.main import main

    main()


start()
