"""Imports the modules the daemon names (MCP_BRIDGE_PRELOAD) while the sandbox waits in the pool.

A run on the data image then finds numpy, pandas and pyplot loaded instead of paying seconds for
them. A module the image lacks is skipped; one that fails to import is reported on the diagnostic
channel and skipped: a broken package must not keep the sandbox from starting.
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable, Sequence


def preload(names: Sequence[str], diag: Callable[[str], None]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Not in this image (the base image has none of the defaults): nothing to say.
            if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
                continue
            diag("preload of %s failed: %r" % (name, exc))
        except BaseException as exc:  # noqa: BLE001 - SystemExit or worse from a package's import
            sys.modules.pop(name, None)
            diag("preload of %s failed: %r" % (name, exc))


def configured() -> Sequence[str]:
    """The daemon's list, from the bundle's generated settings module (absent in a bare checkout)."""
    try:
        from mcp_agent import settings  # type: ignore[attr-defined]
    except ImportError:
        return ()
    return tuple(getattr(settings, "PRELOAD", ()))
