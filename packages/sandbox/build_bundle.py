"""Build the agent bundle as the daemon does, for the tests only (the daemon builds it in TypeScript).

BUNDLE = base64(zlib(JSON {"relative/path.py": "source"})) over every *.py under src/, paths
relative to src/ with forward slashes. ``python3 build_bundle.py`` prints the sizes.
"""

from __future__ import annotations

import base64
import json
import sys
import zlib
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
BOOTSTRAP = HERE / "bootstrap.py"


def bundle_files(src: Path = SRC) -> Dict[str, str]:
    return {
        path.relative_to(src).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(src.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def build_bundle(src: Path = SRC) -> str:
    payload = json.dumps(bundle_files(src), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(payload, 9)).decode("ascii")


def agent_argv(python: str = "python3", src: Path = SRC) -> List[str]:
    """The exact command the daemon gives each container."""
    return [python, "-I", "-u", "-c", BOOTSTRAP.read_text(encoding="utf-8"), build_bundle(src)]


if __name__ == "__main__":
    bundle = build_bundle()
    print("bundle: %d bytes (base64), bootstrap: %d bytes" % (len(bundle), len(BOOTSTRAP.read_bytes())))
    sys.exit(0)
