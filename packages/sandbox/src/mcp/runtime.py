"""Helpers for sandbox code: ``from mcp import runtime``.

Discovery (answered from the run's own metadata, no round trip):
    runtime.discovered_servers(detailed=False)   names the host knows (dicts when detailed)
    runtime.list_loaded_server_metadata()        servers loaded for this run, with their tools
    runtime.describe_server(name)                one of them (by name or alias)
    runtime.capability_summary()                 a short manual of all of this

Host calls (each is one ``rpc`` frame; ``asyncio.gather`` runs them concurrently):
    await runtime.list_servers()                 await runtime.list_tools(server)
    await runtime.call_tool(server, tool, arguments=None, *, timeout=None)
    await runtime.query_tool_docs(server, tool=None, detail="summary")      # or "full", "stub"
    await runtime.search_tool_docs(query, limit=5, detail="summary")
    await runtime.list_resources(server)         await runtime.read_resource(server, uri)
    await runtime.list_prompts(server)           await runtime.get_prompt(server, name, arguments=None)
Sync variants, which block the calling thread until the host answers (they work in plain
scripts, in threads, and inside async code, where they stall the event loop meanwhile):
    list_servers_sync(), list_tools_sync(server), query_tool_docs_sync(...), search_tool_docs_sync(...)

Proxies: ``mcp_<alias>`` in the run's namespace (also ``mcp_servers[name]`` and the module
``mcp.servers.<alias>``) has one async function per tool: ``await mcp_x.some_tool(**arguments)``.
Each has the signature and docstring of its input schema (``help(mcp_x.some_tool)``), and
``query_tool_docs(server, detail="stub")`` gives them all as Python stub source. Keywords are
checked before a call leaves: an unknown one raises TypeError with the closest accepted name,
a missing required one is named. None for an optional argument means "not given" (it is not
sent) unless the schema allows null. Arguments left out are not sent: the server applies its
own defaults, which the signature shows.

Per-call timeouts never take a tool's argument away. A proxy passes its keyword arguments to
the tool, with one exception kept for the Python bridge's guide (``await mcp_x.slow(timeout=60)``):
``timeout=`` is the per-call timeout, in seconds, when the tool's input schema is known and
declares no ``timeout`` property. A tool that has its own ``timeout`` argument receives it.
Either way, ``await mcp_x.tool.with_timeout(5)(**arguments)`` and
``await runtime.call_tool(server, tool, arguments, timeout=5)`` set the per-call timeout
explicitly. When it expires the host is told to cancel the call and ``asyncio.TimeoutError``
is raised (the builtin ``TimeoutError`` on Python 3.11+).

Saved tools (kept by the daemon in the user's state directory, for every later run):
    runtime.save_tool(func)  or  @runtime.save_tool   store a function's source (and the run's
                                                  imports it uses); later: ``from skills import name``
    runtime.list_saved_tools()                    (name, docstring[, error]) of each saved tool
    runtime.delete_saved_tool(name)               remove one

Images and files back to the client (after the printed text; each in its own frame):
    runtime.show_image(x)                        a matplotlib figure, a PIL image, PNG/JPEG bytes or a path;
                                                  plt.show() does it for every open figure, and so
                                                  does the end of the run for those still open
    runtime.export_file(path, mime_type=None)    a file under /tmp or /workspace, as an MCP resource
    runtime.list_exports()                       what this run has exported
Caps: MCP_BRIDGE_MAX_IMAGES per run, MCP_BRIDGE_MAX_IMAGE_BYTES each (a figure over it is drawn
smaller), MCP_BRIDGE_MAX_EXPORT_BYTES for all exports; past them, a ValueError says which.

Results: a tool's ``structuredContent`` when present, else its lone text content (decoded when
it is JSON), else the content list. Dicts in results allow ``x["k"]`` and ``x.k``. A result with
``isError`` raises ``MCPError`` carrying the tool's text; a call the host refuses raises
``MCPError`` with ``code`` set (e.g. ``server_not_allowed``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple, TypeVar

from mcp.stubs import ServerStub
from mcp.suggest import did_you_mean, server_message
from mcp.values import AttrDict, wrap

__all__ = [
    "ApprovalDenied",
    "MCPError",
    "MCPTimeoutError",
    "call_batch",
    "call_tool",
    "capability_summary",
    "describe_server",
    "discovered_servers",
    "get_prompt",
    "list_loaded_server_metadata",
    "list_prompts",
    "list_resources",
    "list_servers",
    "list_servers_sync",
    "delete_saved_tool",
    "export_file",
    "list_exports",
    "show_image",
    "list_saved_tools",
    "list_tools",
    "list_tools_sync",
    "query_tool_docs",
    "query_tool_docs_sync",
    "read_resource",
    "save_tool",
    "search_tool_docs",
    "search_tool_docs_sync",
]

_DETAILS = ("name", "summary", "full", "stub")


class MCPError(RuntimeError):
    """A failed MCP call: the host refused it (``code``) or the tool reported ``isError``."""

    def __init__(self, message: str, code: Optional[str] = None, result: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.result = result


class MCPTimeoutError(MCPError, asyncio.TimeoutError):
    """A call that ran out of time: catchable both as ``MCPError`` and as ``TimeoutError``."""


class ApprovalDenied(MCPError):
    """A call that needed the user's approval and did not get it (denied, unanswered, or nobody to ask).

    Nothing reached the server; the code may catch it and go on.
    """


def error_for(code: Optional[str], message: str) -> MCPError:
    """The exception a failed ``rpc_result`` becomes in sandbox code, by its code."""
    error_type = MCPTimeoutError if code == "timeout" else ApprovalDenied if code == "approval_denied" else MCPError
    return error_type(message or "the host refused the call", code=code or None)


class Host(Protocol):
    """What the agent provides: the RPC channel to the daemon."""

    async def request(
        self, method: str, params: Dict[str, Any], timeout: Optional[float] = None, what: str = ""
    ) -> Any: ...

    def request_sync(self, method: str, params: Dict[str, Any]) -> Any: ...


class SavedToolStore(Protocol):
    """What the agent provides for saved tools (mcp_agent.skills.SavedTools)."""

    def save(self, func: Any) -> Tuple[str, Tuple[str, ...]]: ...

    def list(self) -> Tuple[AttrDict, ...]: ...

    def delete(self, name: str) -> None: ...


class AttachmentSink(Protocol):
    """What the agent provides for images and exports (mcp_agent.attachments.Attachments)."""

    def show_image(self, image: Any, name: Optional[str] = None) -> AttrDict: ...

    def export_file(self, path: Any, mime_type: Optional[str] = None) -> AttrDict: ...

    def exports(self) -> Tuple[AttrDict, ...]: ...


class _Binding:
    def __init__(
        self,
        host: Host,
        servers: Sequence[Mapping[str, Any]],
        discovered: Sequence[str],
        tools: Optional[SavedToolStore] = None,
        attachments: Optional[AttachmentSink] = None,
    ) -> None:
        self.attachments = attachments
        self.host = host
        self.servers = tuple(servers)
        self.discovered = tuple(discovered)
        self.tools = tools


# The API is module-level for compatibility with the Python bridge, so the agent binds the
# current run here before the user code starts.
_binding: Optional[_Binding] = None


def _bind(
    host: Host,
    servers: Sequence[Mapping[str, Any]],
    discovered: Sequence[str],
    tools: Optional[SavedToolStore] = None,
    attachments: Optional[AttachmentSink] = None,
) -> None:
    global _binding
    _binding = _Binding(host, servers, discovered, tools, attachments)


def _current() -> _Binding:
    if _binding is None:
        raise MCPError("mcp.runtime is only connected to MCP servers inside run_python", code="not_connected")
    return _binding


# ---- discovery from the run's metadata -------------------------------------------------


def discovered_servers(detailed: bool = False) -> Tuple[Any, ...]:
    """Names of every server the host knows; with ``detailed``, dicts with name, loaded, description."""
    binding = _current()
    if not detailed:
        return binding.discovered
    loaded = {str(server.get("name")): server for server in binding.servers}
    return tuple(
        AttrDict(name=name, loaded=name in loaded, description=str(loaded.get(name, {}).get("description") or ""))
        for name in binding.discovered
    )


def list_loaded_server_metadata() -> Tuple[AttrDict, ...]:
    """The servers loaded for this run: name, alias, description, tools (name, alias, description, inputSchema)."""
    return tuple(wrap(dict(server)) for server in _current().servers)


def _loaded_server(name: str) -> Mapping[str, Any]:
    binding = _current()
    for server in binding.servers:
        if name in (server.get("name"), server.get("alias")):
            return server
    loaded = [(str(server.get("name")), str(server.get("alias"))) for server in binding.servers]
    raise MCPError(server_message(str(name), loaded, binding.discovered), code="server_not_loaded")


def describe_server(name: str) -> AttrDict:
    """Metadata of one loaded server, found by name or alias."""
    return wrap(dict(_loaded_server(name)))


def capability_summary() -> str:
    """A short manual of the sandbox helpers."""
    loaded = ", ".join("mcp_%s" % server.get("alias") for server in _current().servers) or "none"
    return (
        "Python sandbox with MCP tool access. Proxies loaded: %s.\n"
        "Call tools: `await mcp_<alias>.<tool>(**args)`; run many at once with asyncio.gather.\n"
        "Per-call timeout: `await mcp_<alias>.<tool>.with_timeout(5)(**args)` or "
        "`await runtime.call_tool(server, tool, args, timeout=5)`.\n"
        "`from mcp import runtime`: discovered_servers(), list_loaded_server_metadata(), "
        "describe_server(name), await list_servers(), await list_tools(server), "
        "await query_tool_docs(server, tool=None, detail='summary'|'full'|'stub'), "
        "await search_tool_docs(query, limit=5), list_resources/read_resource, list_prompts/get_prompt; "
        "sync forms: list_servers_sync, list_tools_sync, query_tool_docs_sync, search_tool_docs_sync.\n"
        "Results: structuredContent, else the text (JSON-decoded), else the content list; "
        "dicts allow x['k'] and x.k. Tool errors raise runtime.MCPError. Only printed output is returned.\n"
        "Saved tools: runtime.save_tool(func) (or @runtime.save_tool) keeps a function for later runs, "
        "which import it with `from skills import name`; list_saved_tools(), delete_saved_tool(name).\n"
        "Images and files back: plt.show() or runtime.show_image(fig_or_png); "
        "runtime.export_file(path) for a file under /tmp or /workspace; list_exports()."
    ) % loaded


# ---- host calls ---------------------------------------------------------------------------


def _check_timeout(timeout: Any) -> Optional[float]:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError("timeout must be a number of seconds, not %s" % type(timeout).__name__)
    if not timeout > 0:
        raise ValueError("timeout must be positive, got %r" % (timeout,))
    return float(timeout)


def _check_detail(detail: Any) -> str:
    value = str(detail).lower()
    if value not in _DETAILS:
        raise ValueError("detail must be 'name', 'summary', 'full' or 'stub', got %r" % (detail,))
    return value


def _error_text(result: Mapping[str, Any]) -> str:
    content = result.get("content")
    texts = [
        item["text"]
        for item in (content if isinstance(content, list) else [])
        if isinstance(item, dict) and isinstance(item.get("text"), str)
    ]
    if texts:
        return "\n".join(texts)
    if result.get("structuredContent") is not None:
        return json.dumps(result["structuredContent"], ensure_ascii=False)
    return "the tool reported an error"


def unwrap_tool_result(result: Any) -> Any:
    """A CallToolResult as the value sandbox code wants (see the module docstring)."""
    if not isinstance(result, dict):
        return wrap(result)
    if result.get("isError"):
        raise MCPError(_error_text(result), code="tool_error", result=wrap(result))
    if result.get("structuredContent") is not None:
        return wrap(result["structuredContent"])
    content = result.get("content")
    if not isinstance(content, list):
        return wrap(content)
    if len(content) == 1 and isinstance(content[0], dict) and content[0].get("type") == "text":
        text = content[0].get("text")
        if isinstance(text, str):
            try:
                return wrap(json.loads(text))
            except ValueError:
                return text
    return wrap(content)


async def call_tool(
    server: str, tool: str, arguments: Optional[Mapping[str, Any]] = None, *, timeout: Optional[float] = None
) -> Any:
    """Call one tool of a loaded server; ``timeout`` (seconds) cancels it on the host when it expires."""
    if arguments is not None and not isinstance(arguments, Mapping):
        raise TypeError("arguments must be a dict of the tool's arguments, not %s" % type(arguments).__name__)
    seconds = _check_timeout(timeout)
    params: Dict[str, Any] = {"server": server, "tool": tool, "arguments": dict(arguments or {})}
    if seconds is not None:
        params["timeoutMs"] = max(1, int(round(seconds * 1000)))
    raw = await _current().host.request("call_tool", params, timeout=seconds, what="%s.%s" % (server, tool))
    return unwrap_tool_result(raw)


async def call_batch(
    server: str, tool: str, items: Sequence[Mapping[str, Any]], *, timeout: Optional[float] = None
) -> List[Any]:
    """Call one tool once per arguments dict, asking for approval once for all of them.

    The calls run concurrently (within MCP_BRIDGE_MAX_CONCURRENT_CALLS); the answer is a list in the
    order of ``items`` holding each call's value, or the ``MCPError`` that call raised (returned, not
    raised, so one failure does not cost the others). A denied batch raises ``ApprovalDenied``.
    ``timeout`` (seconds) applies to each call.
    """
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise TypeError("items must be a list of argument dicts, not %s" % type(items).__name__)
    for i, arguments in enumerate(items):
        if not isinstance(arguments, Mapping):
            raise TypeError("items[%d] must be a dict of the tool's arguments, not %s" % (i, type(arguments).__name__))
    if not items:
        return []
    seconds = _check_timeout(timeout)
    params: Dict[str, Any] = {"server": server, "tool": tool, "items": [dict(a) for a in items]}
    if seconds is not None:
        params["timeoutMs"] = max(1, int(round(seconds * 1000)))
    # No overall timeout here: the question to the user may wait, and each call has its own.
    raw = await _current().host.request("call_batch", params, what="%s.%s batch" % (server, tool))
    if not isinstance(raw, list) or len(raw) != len(items):
        raise MCPError("call_batch: the daemon answered %r items for %d calls" % (type(raw).__name__, len(items)), code="protocol_error")
    out: List[Any] = []
    for entry in raw:
        if isinstance(entry, dict) and entry.get("ok"):
            try:
                out.append(unwrap_tool_result(entry.get("result")))
            except MCPError as exc:
                out.append(exc)
        else:
            error = entry.get("error") if isinstance(entry, dict) else None
            error = error if isinstance(error, dict) else {}
            out.append(error_for(error.get("code"), str(error.get("message") or "")))
    return out


def _names(result: Any) -> Tuple[Any, ...]:
    return tuple(wrap(result)) if isinstance(result, list) else wrap(result)


def _docs_params(server: str, tool: Optional[str], detail: str) -> Dict[str, Any]:
    params: Dict[str, Any] = {"server": server, "detail": _check_detail(detail)}
    if tool is not None:
        params["tool"] = tool
    return params


def _docs_result(result: Any, tool: Optional[str]) -> Any:
    # The Python bridge returns the doc itself when one tool was asked for.
    docs = wrap(result)
    if tool is not None and isinstance(docs, list) and len(docs) == 1:
        return docs[0]
    return docs


def _search_params(query: str, limit: int, detail: str) -> Dict[str, Any]:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("limit must be a positive integer, got %r" % (limit,))
    return {"query": str(query), "limit": limit, "detail": _check_detail(detail)}


async def list_servers() -> Tuple[Any, ...]:
    """Names of the servers the host can serve."""
    return _names(await _current().host.request("list_servers", {}))


async def list_tools(server: str) -> List[AttrDict]:
    """The tools of a server: name, description, inputSchema."""
    return wrap(await _current().host.request("list_tools", {"server": server}))


async def query_tool_docs(server: str, tool: Optional[str] = None, detail: str = "summary") -> Any:
    """Docs of one tool (a dict) or of all tools of a server (a list); ``detail="stub"``: Python stub source."""
    params = _docs_params(server, tool, detail)
    if params["detail"] == "stub":
        return _stub(server, tool)
    return _docs_result(await _current().host.request("query_tool_docs", params), tool)


async def search_tool_docs(query: str, limit: int = 5, detail: str = "summary") -> List[AttrDict]:
    """Tool docs of every loaded server ranked against ``query``."""
    params = _search_params(query, limit, detail)
    return _search_result(await _current().host.request("search_tool_docs", params), str(query))


async def list_resources(server: str) -> List[AttrDict]:
    return wrap(await _current().host.request("list_resources", {"server": server}))


async def read_resource(server: str, uri: str) -> AttrDict:
    return wrap(await _current().host.request("read_resource", {"server": server, "uri": uri}))


async def list_prompts(server: str) -> List[AttrDict]:
    return wrap(await _current().host.request("list_prompts", {"server": server}))


async def get_prompt(server: str, name: str, arguments: Optional[Mapping[str, Any]] = None) -> AttrDict:
    params = {"server": server, "name": name, "arguments": dict(arguments or {})}
    return wrap(await _current().host.request("get_prompt", params))


def list_servers_sync() -> Tuple[Any, ...]:
    """``list_servers`` for sync code: blocks the calling thread until the host answers."""
    return _names(_current().host.request_sync("list_servers", {}))


def list_tools_sync(server: str) -> List[AttrDict]:
    """``list_tools`` for sync code."""
    return wrap(_current().host.request_sync("list_tools", {"server": server}))


def query_tool_docs_sync(server: str, tool: Optional[str] = None, detail: str = "summary") -> Any:
    """``query_tool_docs`` for sync code."""
    params = _docs_params(server, tool, detail)
    if params["detail"] == "stub":
        return _stub(server, tool)
    return _docs_result(_current().host.request_sync("query_tool_docs", params), tool)


def search_tool_docs_sync(query: str, limit: int = 5, detail: str = "summary") -> List[AttrDict]:
    """``search_tool_docs`` for sync code."""
    params = _search_params(query, limit, detail)
    return _search_result(_current().host.request_sync("search_tool_docs", params), str(query))


def _stub(server: str, tool: Optional[str]) -> str:
    """Stub source of a loaded server, or of one of its tools, made here from the run's metadata."""
    stub = ServerStub(_loaded_server(server))
    if tool is None:
        return stub.source()
    found = stub.tool(tool)
    if found is None:
        names = [t.alias for t in stub.tools] + [t.name for t in stub.tools]
        raise MCPError(
            "MCP server %r has no tool %r;%s its tools: %s"
            % (stub.name, tool, did_you_mean(tool, names, quote=False, count=3), ", ".join(t.alias for t in stub.tools) or "none"),
            code="unknown_tool",
        )
    return stub.tool_source(found)


class SearchResults(list):
    """The hits of ``search_tool_docs``; printed when empty, it says what was searched."""

    def __init__(self, hits: Sequence[Any], message: str) -> None:
        super().__init__(hits)
        self.message = message

    def __repr__(self) -> str:
        return list.__repr__(self) if self else "[]  # " + self.message

    __str__ = __repr__


def _search_result(result: Any, query: str) -> List[AttrDict]:
    hits = wrap(result) if isinstance(result, list) else []
    binding = _current()
    loaded = [str(server.get("name")) for server in binding.servers]
    others = [name for name in binding.discovered if name not in loaded]
    if not loaded:
        message = "no server is loaded in this run, so nothing was searched: add server names to run_python's `servers`"
    else:
        message = "no tool of %s matched %r; try other words, or list them: await runtime.list_tools(server)" % (
            ", ".join(loaded),
            query,
        )
    if others:
        message += "; servers not loaded (add them to `servers` to search them): %s" % ", ".join(others)
    return SearchResults(hits, message)


# ---- saved tools ----------------------------------------------------------------------------

_F = TypeVar("_F", bound=Callable[..., Any])


def _tools() -> SavedToolStore:
    tools = _current().tools
    if tools is None:
        raise MCPError("saved tools are only available inside run_python", code="not_connected")
    return tools


def save_tool(func: Optional[_F] = None) -> Any:
    """Save ``func`` so that every later run can ``from skills import <its name>``.

    Works on functions defined in run_python code, as a call or as a decorator (``@runtime.save_tool``);
    it returns the function unchanged. The saved source is the function's own (decorators included,
    except this one), after the run's top-level imports that it uses. Other run globals are not
    saved: import or define what the function needs inside it. Saving a name again replaces it.
    """
    if func is None:
        return save_tool
    name, missing = _tools().save(func)
    if missing:
        print(
            "save_tool: %s uses %s from this run, which the saved tool will not have; "
            "import or define them inside the function" % (name, ", ".join(missing)),
            file=sys.stderr,
        )
    return func


def list_saved_tools() -> Tuple[AttrDict, ...]:
    """Every saved tool: ``name``, ``docstring``, and ``error`` when it does not import."""
    return _tools().list()


def delete_saved_tool(name: str) -> None:
    """Remove a saved tool; raises MCPError (code ``unknown_saved_tool``) when there is none of that name."""
    _tools().delete(name)


# ---- images and files back to the client --------------------------------------------------


def _attachments() -> AttachmentSink:
    sink = _current().attachments
    if sink is None:
        raise MCPError("images and files are only returned inside run_python", code="not_connected")
    return sink


def show_image(image: Any, name: Optional[str] = None) -> AttrDict:
    """Return ``image`` to the client as an MCP image after the text: a matplotlib figure, a PIL image,
    PNG or JPEG bytes, or a path. Returns its mimeType, bytes, width and height. ValueError past the caps."""
    return _attachments().show_image(image, name)


def export_file(path: Any, mime_type: Optional[str] = None) -> AttrDict:
    """Return a file written under /tmp or /workspace to the client as an MCP embedded resource (text
    for UTF-8 text, else a base64 blob); ``mime_type`` defaults to one guessed from the name.
    ValueError for another path or past MCP_BRIDGE_MAX_EXPORT_BYTES."""
    return _attachments().export_file(path, mime_type)


def list_exports() -> Tuple[AttrDict, ...]:
    """The files this run has exported: name, path, mimeType, bytes."""
    return _attachments().exports()
