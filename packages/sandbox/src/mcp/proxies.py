"""The servers of a run as Python objects: ``mcp_<alias>`` proxies and ``mcp.servers.<alias>`` modules.

Both expose the same function per tool; the per-call timeout rule is in ``mcp.runtime``'s docstring.
"""

from __future__ import annotations

import sys
import types
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence

import mcp.servers as servers_package
from mcp import runtime
from mcp.stubs import ServerStub, ToolStub
from mcp.suggest import did_you_mean, server_message
from mcp.values import wrap

ToolFunction = Callable[..., Awaitable[Any]]


def _refuse_positional(qualname: str, args: Sequence[Any]) -> None:
    if args:
        raise TypeError(
            "%s() takes the tool's arguments as keywords only; pass a dict as %s(**arguments)" % (qualname, qualname)
        )


def _check(qualname: str, stub: ToolStub, keywords: Mapping[str, Any], timeout_is_ours: bool) -> Dict[str, Any]:
    """The arguments to send, or a TypeError naming each unknown and missing keyword."""
    arguments, unknown, missing = stub.arguments(keywords)
    if not unknown and not missing:
        return arguments
    accepted = stub.accepted()
    candidates = accepted + (["timeout"] if timeout_is_ours else [])
    problems = []
    for keyword in unknown:
        hint = did_you_mean(str(keyword), candidates).strip()
        problems.append("got an unexpected keyword argument %r%s" % (keyword, " (%s)" % hint if hint else ""))
    if missing:
        problems.append("missing required keyword argument%s %s" % ("s" if len(missing) > 1 else "", ", ".join(map(repr, missing))))
    takes = ", ".join(accepted) or "no arguments"
    if timeout_is_ours:
        takes += "; timeout=seconds sets this call's timeout"
    raise TypeError("%s() %s; it takes: %s" % (qualname, "; ".join(problems), takes))


def make_tool_function(server_name: str, server_alias: str, tool: Mapping[str, Any], stub: ToolStub) -> ToolFunction:
    """One async function calling ``tool`` of ``server_name``, with a ``with_timeout(seconds)`` variant.

    Its signature and docstring come from ``stub``; keywords are checked against it before the
    call leaves the sandbox (the daemon still checks the values against the schema).
    """
    name = str(tool["name"])
    alias = str(tool["alias"])
    qualname = "mcp_%s.%s" % (server_alias, alias)
    schema = tool.get("inputSchema")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    # `timeout=` is ours only when we know the tool cannot mean its own argument by it.
    timeout_is_ours = isinstance(schema, dict) and not (isinstance(properties, dict) and "timeout" in properties)

    async def tool_function(*args: Any, **keywords: Any) -> Any:
        _refuse_positional(qualname, args)
        timeout = keywords.pop("timeout", None) if timeout_is_ours else None
        arguments = _check(qualname, stub, keywords, timeout_is_ours)
        return await runtime.call_tool(server_name, name, arguments, timeout=timeout)

    def with_timeout(seconds: Optional[float]) -> ToolFunction:
        """This tool with a per-call timeout in seconds; every keyword argument goes to the tool."""
        runtime._check_timeout(seconds)

        async def timed_tool_function(*args: Any, **keywords: Any) -> Any:
            _refuse_positional(qualname, args)
            arguments = _check(qualname + ".with_timeout(%r)" % (seconds,), stub, keywords, False)
            return await runtime.call_tool(server_name, name, arguments, timeout=seconds)

        _describe(timed_tool_function, alias, qualname + ".with_timeout(%r)" % (seconds,), stub)
        timed_tool_function.__module__ = tool_function.__module__
        return timed_tool_function

    _describe(tool_function, alias, qualname, stub)
    tool_function.__module__ = "mcp.servers." + server_alias
    tool_function.with_timeout = with_timeout  # type: ignore[attr-defined]
    return tool_function


def _describe(function: Callable[..., Any], name: str, qualname: str, stub: ToolStub) -> None:
    function.__name__ = name
    function.__qualname__ = qualname
    function.__doc__ = stub.doc
    function.__signature__ = stub.signature  # type: ignore[attr-defined]


def _no_tool_message(server: str, attribute: str, tools: Sequence[str], names: Sequence[str]) -> str:
    hint = did_you_mean(attribute, list(tools) + list(names), quote=False, count=3)
    return (
        "MCP server %r has no tool %r;%s its tools: %s. A tool missing from this list can still be "
        "called with `await runtime.call_tool(%r, name, arguments)`."
        % (server, attribute, hint + " All of" if hint else "", ", ".join(tools) or "none", server)
    )


class ServerProxy:
    """``mcp_<alias>``: one async function attribute per tool of an MCP server."""

    def __init__(self, name: str, alias: str, tools: Dict[str, ToolFunction], stub: Optional[ServerStub] = None) -> None:
        # Tools live in the instance dict, so a tool called e.g. `list_tools` wins over the method.
        self.__dict__.update(tools)
        self._mcp_name = name
        self._mcp_alias = alias
        self._mcp_tools = sorted(tools)
        self._mcp_stub = stub

    async def list_tools(self) -> List[Any]:
        """The server's tools as the host lists them (name, description, inputSchema)."""
        return await runtime.list_tools(self._mcp_name)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") or attribute.startswith("_mcp_"):
            raise AttributeError(attribute)
        names = [tool.name for tool in self._mcp_stub.tools] if self._mcp_stub is not None else []
        raise AttributeError(_no_tool_message(self._mcp_name, attribute, self._mcp_tools, names))

    def __dir__(self) -> List[str]:
        return sorted(set(self._mcp_tools) | {"list_tools"})

    def __repr__(self) -> str:
        return "<MCP server %r as mcp_%s: %s>" % (self._mcp_name, self._mcp_alias, ", ".join(self._mcp_tools))


class ServerMap(dict):
    """``mcp_servers``: the proxies by server name; a missing name says what to do about it."""

    def __init__(self, proxies: Mapping[str, "ServerProxy"], discovered: Sequence[str]) -> None:
        super().__init__(proxies)
        self._discovered = tuple(discovered)

    def __missing__(self, key: Any) -> Any:
        loaded = [(name, proxy._mcp_alias) for name, proxy in self.items()]
        raise UnknownServerError(server_message(str(key), loaded, self._discovered))


class UnknownServerError(KeyError):
    """A KeyError whose message reads as a sentence (KeyError's own str() is the repr of its key)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _module_getattr(server: str, tools: Sequence[str], names: Sequence[str]) -> Callable[[str], Any]:
    def __getattr__(attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise AttributeError(_no_tool_message(server, attribute, tools, names))

    return __getattr__


def install(servers: Sequence[Mapping[str, Any]]) -> Dict[str, ServerProxy]:
    """Replace the ``mcp.servers.*`` modules with this run's servers; return their proxies by name."""
    for key in [key for key in sys.modules if key.startswith("mcp.servers.")]:
        del sys.modules[key]
        servers_package.__dict__.pop(key[len("mcp.servers.") :], None)
    proxies: Dict[str, ServerProxy] = {}
    for server in servers:
        name = str(server["name"])
        alias = str(server["alias"])
        tools = list(server.get("tools") or ())
        stub = ServerStub(server)
        functions = {
            str(tool["alias"]): make_tool_function(name, alias, tool, tool_stub) for tool, tool_stub in zip(tools, stub.tools)
        }
        module = types.ModuleType("mcp.servers." + alias)
        # The TypedDicts of the stub first: their names never clash with a tool (stubs reserves them).
        module.__dict__.update((typed.name, typed.obj) for typed in stub.typed_dicts)
        module.__dict__.update(functions)
        # Module attributes after the tools, so that no tool alias can break the module itself.
        module.__doc__ = str(server.get("description") or "") or "Tools of MCP server %r." % name
        module.__all__ = list(functions)  # type: ignore[attr-defined]
        module.__getattr__ = _module_getattr(name, sorted(functions), [t.name for t in stub.tools])  # type: ignore[attr-defined]
        module.SERVER_NAME = name  # type: ignore[attr-defined]
        module.TOOLS = wrap(tools)  # type: ignore[attr-defined]
        module.TOOL_MAP = {tool["alias"]: tool for tool in module.TOOLS}  # type: ignore[attr-defined]
        sys.modules[module.__name__] = module
        setattr(servers_package, alias, module)
        proxies[name] = ServerProxy(name, alias, functions, stub)
    return proxies
