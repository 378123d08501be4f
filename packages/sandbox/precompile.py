"""Compile the agent bundle once, with the sandbox's own Python, for the sandboxes that follow.

Run as: python3 -I -S -c "<this file>" -, the BUNDLE (the bootstrap's argument) on stdin.
Writes to stdout: a header line, then marshal data of {relative path: code object}.
Header: b"mcp-agent-code 1 <crc32 of BUNDLE> <len(BUNDLE)> <sys.version on one line>\\n".

The bwrap runtime runs it in a sandbox of its own before any user code, and hands the result to
each later sandbox's bootstrap (see bootstrap.py, --code-fd), which then skips compiling ~4000
lines of source at every start. Marshal data is only good for the Python that wrote it: the
bootstrap checks the version in the header and compiles from source when it differs.
"""
import base64
import json
import marshal
import sys
import zlib

PREFIX = "<agent>/"  # as in bootstrap.py: the code objects' file names are the bootstrap's own


def header(bundle):
    version = " ".join(sys.version.split())
    return ("mcp-agent-code 1 %d %d %s\n" % (zlib.crc32(bundle), len(bundle), version)).encode("utf-8")


def main():
    bundle = sys.stdin.buffer.read().strip()
    files = json.loads(zlib.decompress(base64.b64decode(bundle)).decode("utf-8"))
    code = {}
    for relative, source in files.items():
        if relative.endswith(".py"):
            code[relative] = compile(source, PREFIX + relative, "exec", dont_inherit=True)
    out = sys.stdout.buffer
    out.write(header(bundle))
    out.write(marshal.dumps(code))
    out.flush()


main()
