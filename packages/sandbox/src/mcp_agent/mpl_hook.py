"""Makes ``plt.show()`` return figures, without importing matplotlib in runs that do not use it.

A one-shot import hook: when the code first imports ``matplotlib``, the hook lets the import run
and then sets the default backend to ``mcp_agent.mpl_backend``. The environment variable MPLBACKEND
would do it too, but subprocesses inherit it and cannot import the agent (it lives in memory).
A backend the code picks itself (``matplotlib.use``, or MPLBACKEND other than the image's Agg) still wins.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any, Optional, Sequence

BACKEND = "module://mcp_agent.mpl_backend"


# Plain classes, not importlib.abc's: that module imports importlib.resources (pathlib, tempfile and
# more), ~15 ms of every sandbox's start. The import system asks only for the methods below.
class _Loader:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        # get_data, get_resource_reader & co.: whatever the real loader offers.
        return getattr(self._inner, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[ModuleType]:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        # The data image sets MPLBACKEND=Agg so that nothing looks for a display: that one is ours to replace.
        if os.environ.get("MPLBACKEND", "agg").lower() == "agg":
            module.rcParams["backend"] = BACKEND  # type: ignore[attr-defined]


class MatplotlibHook:
    def find_spec(self, name: str, path: Optional[Sequence[str]], target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if name != "matplotlib":
            return None
        uninstall()  # one import only; and find_spec below must not come back here
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _Loader(spec.loader)
        return spec


_hook = MatplotlibHook()


def show_open_figures() -> None:
    """At the end of a run: the figures left open go out as ``plt.show()`` would send them.

    Only when pyplot runs on our backend: a backend the code chose keeps its figures.
    """
    backend = sys.modules.get("mcp_agent.mpl_backend")
    pyplot = sys.modules.get("matplotlib.pyplot")
    if backend is not None and pyplot is not None and pyplot.get_backend() == BACKEND:
        backend.show_open_figures()


def install() -> None:
    if "matplotlib" not in sys.modules and _hook not in sys.meta_path:
        sys.meta_path.insert(0, _hook)


def uninstall() -> None:
    if _hook in sys.meta_path:
        sys.meta_path.remove(_hook)
