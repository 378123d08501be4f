"""Saved tools inside the sandbox: the in-memory ``skills`` package, and runtime's save/list/delete.

The daemon keeps saved tools as files in the user's state directory and sends their sources with
every ``execute``; nothing is mounted. ``from skills import name`` runs a tool's source the first
time it is asked for (lazily: a run that uses none pays nothing), in a module of its own that gets
the run's ``mcp_<alias>`` proxies as run code does. A tool that does not import raises an
ImportError naming it, and only when that tool is asked for: the others still load.
"""

from __future__ import annotations

import asyncio
import linecache
import sys
import types
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from mcp.runtime import MCPError
from mcp.values import AttrDict
from mcp_agent.tool_source import RunSources, function_source

PACKAGE = "skills"
FILE_PREFIX = "<skill>/"

_PACKAGE_DOC = """Saved tools: ``from skills import name``; ``runtime.list_saved_tools()`` lists them.

Save one with ``runtime.save_tool(func)`` (or ``@runtime.save_tool``); remove one with
``runtime.delete_saved_tool(name)``.
"""


def rebind(namespace: Dict[str, Any], previous: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    """Replace what was injected for the last run by what this run injects, keeping what code rebound."""
    for name, value in previous.items():
        if namespace.get(name) is value:
            del namespace[name]
    namespace.update(current)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return "SyntaxError: %s (line %s)" % (exc.msg, exc.lineno)
    return "%s: %s" % (type(exc).__name__, exc)


class SkillLibrary:
    """The saved tools of the current run, by name, loaded on first use."""

    def __init__(self) -> None:
        self._sources: Dict[str, str] = {}
        self._loaded: Dict[str, types.ModuleType] = {}
        self._errors: Dict[str, ImportError] = {}
        self._injected: Dict[str, Any] = {}
        self.package = self._make_package()

    def _make_package(self) -> types.ModuleType:
        package = types.ModuleType(PACKAGE, _PACKAGE_DOC)
        library = self

        def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562 module hook
            if name.startswith("_"):
                raise AttributeError("module %r has no attribute %r" % (PACKAGE, name))
            if name not in library._sources:
                raise ImportError(
                    "no saved tool named %r (saved: %s); runtime.list_saved_tools() lists them"
                    % (name, ", ".join(library.names()) or "none"),
                    name=PACKAGE,
                )
            return library.tool(name)

        def __dir__() -> List[str]:  # noqa: N807
            return library.names()

        package.__getattr__ = __getattr__  # type: ignore[attr-defined]
        package.__dir__ = __dir__  # type: ignore[assignment]
        return package

    def names(self) -> List[str]:
        return sorted(self._sources)

    def replace(self, skills: Sequence[Mapping[str, Any]]) -> None:
        """The saved tools of a new ``execute``; a tool whose source changed is loaded afresh."""
        new = {str(skill["name"]): str(skill["source"]) for skill in skills}
        for name in set(self._sources) | set(new):
            if self._sources.get(name) != new.get(name):
                self._forget(name)
        self._sources = new

    def put(self, name: str, source: str) -> None:
        if self._sources.get(name) != source:
            self._forget(name)
        self._sources[name] = source

    def remove(self, name: str) -> None:
        self._forget(name)
        self._sources.pop(name, None)

    def bind(self, injected: Mapping[str, Any]) -> None:
        """Give every loaded tool the proxies of the current run."""
        for module in self._loaded.values():
            rebind(module.__dict__, self._injected, injected)
        self._injected = dict(injected)

    def _forget(self, name: str) -> None:
        self._loaded.pop(name, None)
        self._errors.pop(name, None)
        sys.modules.pop("%s.%s" % (PACKAGE, name), None)

    def load(self, name: str) -> types.ModuleType:
        """The module of one saved tool; raises ImportError (cached until its source changes)."""
        if name in self._loaded:
            return self._loaded[name]
        if name in self._errors:
            raise self._errors[name]
        source = self._sources[name]
        filename = "%s%s.py" % (FILE_PREFIX, name)
        # inspect.getsource and tracebacks read the tool's lines from here.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        module = types.ModuleType("%s.%s" % (PACKAGE, name))
        module.__file__ = filename
        module.__dict__.update(self._injected, asyncio=asyncio)
        sys.modules[module.__name__] = module
        try:
            exec(compile(source, filename, "exec", dont_inherit=True), module.__dict__)
            if not callable(module.__dict__.get(name)):
                raise ImportError("its source does not define a function %s" % name)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure is this tool's, reported by name
            sys.modules.pop(module.__name__, None)
            error = ImportError(
                "saved tool %r does not import: %s; save it again with runtime.save_tool, or remove it "
                "with runtime.delete_saved_tool(%r)" % (name, _describe(exc), name),
                name=module.__name__,
            )
            error.__cause__ = exc
            self._errors[name] = error
            raise error from exc
        self._loaded[name] = module
        return module

    def tool(self, name: str) -> Any:
        return getattr(self.load(name), name)

    def describe(self, name: str) -> AttrDict:
        """``{name, docstring}``, plus ``error`` when the tool does not import."""
        try:
            doc = getattr(self.tool(name), "__doc__", None) or ""
        except ImportError as exc:
            return AttrDict(name=name, docstring="", error=str(exc))
        return AttrDict(name=name, docstring=str(doc).strip())


class SavedTools:
    """What ``runtime.save_tool`` and friends call: the daemon stores, the library serves."""

    def __init__(self, host: Any, library: SkillLibrary, sources: Optional[RunSources]) -> None:
        self._host = host
        self._library = library
        self._sources = sources

    def save(self, func: Any) -> Tuple[str, Tuple[str, ...]]:
        """Stores ``func``; returns its name and the run globals it uses that the saved tool will lack."""
        found = function_source(func, self._sources)
        self._host.request_sync("save_tool", {"name": found.name, "source": found.source})
        self._library.put(found.name, found.source)
        return found.name, found.missing

    def list(self) -> Tuple[AttrDict, ...]:
        return tuple(self._library.describe(name) for name in self._library.names())

    def delete(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError("delete_saved_tool takes the tool's name, a string")
        answer = self._host.request_sync("delete_saved_tool", {"name": name})
        self._library.remove(name)
        if not (isinstance(answer, dict) and answer.get("deleted")):
            raise MCPError("no saved tool named %r" % name, code="unknown_saved_tool")
