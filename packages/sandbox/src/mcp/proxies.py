"""The servers of a run as Python objects: ``mcp_<alias>`` proxies and ``mcp.servers.<alias>`` modules.

Both expose the same function per tool; the per-call timeout rule is in ``mcp.runtime``'s docstring.
"""

from __future__ import annotations

import sys
import types
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence

import mcp.servers as servers_package
from mcp import runtime
from mcp.values import wrap

ToolFunction = Callable[..., Awaitable[Any]]


def _refuse_positional(qualname: str, args: Sequence[Any]) -> None:
    if args:
        raise TypeError(
            "%s() takes the tool's arguments as keywords only; pass a dict as %s(**arguments)" % (qualname, qualname)
        )


def make_tool_function(server_name: str, server_alias: str, tool: Mapping[str, Any]) -> ToolFunction:
    """One async function calling ``tool`` of ``server_name``, with a ``with_timeout(seconds)`` variant."""
    name = str(tool["name"])
    alias = str(tool["alias"])
    qualname = "mcp_%s.%s" % (server_alias, alias)
    schema = tool.get("inputSchema")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    # `timeout=` is ours only when we know the tool cannot mean its own argument by it.
    timeout_is_ours = isinstance(schema, dict) and not (isinstance(properties, dict) and "timeout" in properties)

    async def tool_function(*args: Any, **arguments: Any) -> Any:
        _refuse_positional(qualname, args)
        timeout = arguments.pop("timeout", None) if timeout_is_ours else None
        return await runtime.call_tool(server_name, name, arguments, timeout=timeout)

    def with_timeout(seconds: Optional[float]) -> ToolFunction:
        """This tool with a per-call timeout in seconds; every keyword argument goes to the tool."""
        runtime._check_timeout(seconds)

        async def timed_tool_function(*args: Any, **arguments: Any) -> Any:
            _refuse_positional(qualname, args)
            return await runtime.call_tool(server_name, name, arguments, timeout=seconds)

        _describe(timed_tool_function, alias, qualname + ".with_timeout(%r)" % (seconds,), tool_function.__doc__)
        timed_tool_function.__module__ = tool_function.__module__
        return timed_tool_function

    description = str(tool.get("description") or "").strip()
    _describe(tool_function, alias, qualname, description or "MCP tool %r of server %r." % (name, server_name))
    tool_function.__module__ = "mcp.servers." + server_alias
    tool_function.with_timeout = with_timeout  # type: ignore[attr-defined]
    return tool_function


def _describe(function: Callable[..., Any], name: str, qualname: str, doc: Optional[str]) -> None:
    function.__name__ = name
    function.__qualname__ = qualname
    function.__doc__ = doc


class ServerProxy:
    """``mcp_<alias>``: one async function attribute per tool of an MCP server."""

    def __init__(self, name: str, alias: str, tools: Dict[str, ToolFunction]) -> None:
        # Tools live in the instance dict, so a tool called e.g. `list_tools` wins over the method.
        self.__dict__.update(tools)
        self._mcp_name = name
        self._mcp_alias = alias
        self._mcp_tools = sorted(tools)

    async def list_tools(self) -> List[Any]:
        """The server's tools as the host lists them (name, description, inputSchema)."""
        return await runtime.list_tools(self._mcp_name)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") or attribute.startswith("_mcp_"):
            raise AttributeError(attribute)
        raise AttributeError(
            "MCP server %r has no tool %r; its tools: %s. A tool missing from this list can still be "
            "called with `await runtime.call_tool(%r, name, arguments)`."
            % (self._mcp_name, attribute, ", ".join(self._mcp_tools) or "none", self._mcp_name)
        )

    def __dir__(self) -> List[str]:
        return sorted(set(self._mcp_tools) | {"list_tools"})

    def __repr__(self) -> str:
        return "<MCP server %r as mcp_%s: %s>" % (self._mcp_name, self._mcp_alias, ", ".join(self._mcp_tools))


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
        functions = {str(tool["alias"]): make_tool_function(name, alias, tool) for tool in tools}
        module = types.ModuleType("mcp.servers." + alias)
        module.__dict__.update(functions)
        # Module attributes after the tools, so that no tool alias can break the module itself.
        module.__doc__ = str(server.get("description") or "") or "Tools of MCP server %r." % name
        module.__all__ = list(functions)  # type: ignore[attr-defined]
        module.SERVER_NAME = name  # type: ignore[attr-defined]
        module.TOOLS = wrap(tools)  # type: ignore[attr-defined]
        module.TOOL_MAP = {tool["alias"]: tool for tool in module.TOOLS}  # type: ignore[attr-defined]
        sys.modules[module.__name__] = module
        setattr(servers_package, alias, module)
        proxies[name] = ServerProxy(name, alias, functions)
    return proxies
