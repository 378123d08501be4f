"""Start the mcp-code-mode sandbox agent from a bundle passed as argv.

Run as: python3 -I -u -c "<this file>" BUNDLE
BUNDLE = base64(zlib(JSON {"pkg/module.py": "source", ...})), built from packages/sandbox/src.
Nothing is written to disk: the container's root is read-only and its tmpfs mounts are noexec.
"""
import base64
import importlib.machinery
import json
import linecache
import sys
import zlib

PREFIX = "<agent>/"


class BundleImporter:
    """Imports the bundle's modules from memory; first on sys.meta_path, so it shadows the image's.

    A plain class (finder and loader by its methods): importlib.abc would import importlib.resources,
    pathlib and tempfile, ~15 ms of every sandbox's start.
    """

    def __init__(self, files):
        self.files = files

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
        exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)

    def get_source(self, fullname):
        spec = self.find_spec(fullname)
        return None if spec is None else self.files[spec.origin[len(PREFIX):]]


def start():
    if len(sys.argv) < 2:
        sys.stderr.write("mcp-agent: usage: python3 -I -u -c <bootstrap.py> <bundle>\n")
        sys.exit(2)
    files = json.loads(zlib.decompress(base64.b64decode(sys.argv[1])).decode("utf-8"))
    sys.argv[:] = [""]  # the bundle is no business of user code
    sys.meta_path.insert(0, BundleImporter(files))
    from mcp_agent.main import main

    main()


start()
