"""Runs the code of ``execute`` frames and reports how it ended, as values (never as exceptions).

The code runs on the main thread in one ``__main__`` module kept for the agent's life, so later
runs of a session see earlier definitions. Code with top-level ``await`` runs on a persistent
event loop; code without runs plainly, so that ``asyncio.run(main())`` works in it as in a script.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import inspect
import linecache
import os
import sys
import types
from typing import Any, Callable, Dict, Mapping, NoReturn, Optional

import mcp
from mcp import proxies, runtime, suggest
from mcp_agent import mpl_hook
from mcp_agent.attachments import Attachments
from mcp_agent.capture import OutputCapture
from mcp_agent.channel import Channel, ChannelClosed
from mcp_agent.rpc import RpcClient
from mcp_agent.skills import PACKAGE as SKILLS_PACKAGE
from mcp_agent.skills import SavedTools, SkillLibrary, rebind
from mcp_agent.tool_source import RunSources
from mcp_agent.tracebacks import USER_FILENAME, user_traceback

# An error's message and traceback are clipped to this many characters each (the frame limit is 8 MiB).
MAX_ERROR_CHARS = 64 * 1024

Outcome = Dict[str, Any]

_REAL_EXIT = os._exit
# How long os._exit in run code waits for its output to be forwarded before it exits anyway.
_EXIT_DRAIN_SECONDS = 2.0


class Executor:
    def __init__(self, channel: Channel, rpc: RpcClient) -> None:
        self._channel = channel
        self._rpc = rpc
        # A real module, installed as __main__, so that pickle, typing and dataclasses find
        # what the code defines.
        self._main = types.ModuleType("__main__")
        self._main.__dict__.update(__builtins__=builtins, asyncio=asyncio)
        self._injected: Dict[str, Any] = {}
        self._skills = SkillLibrary()
        self._sources = RunSources()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._pid = os.getpid()
        # The next run's capture: made at once, prepared (pipes, pump threads) when the agent is idle.
        self._capture = OutputCapture(self._channel.diag)
        self._failure: Optional[BaseException] = None
        mpl_hook.install()

    def prepare(self) -> None:
        """Make the next run's output capture now (pipes, pump threads), off the run's clock."""
        try:
            self._capture.prepare()
        except OSError as exc:  # e.g. code of an earlier run in a session used up every fd
            self._channel.diag("could not prepare the output capture ahead: %s" % exc)

    @property
    def namespace(self) -> Dict[str, Any]:
        return self._main.__dict__

    def execute(self, frame: Mapping[str, Any]) -> None:
        """Run one validated ``execute`` frame, streaming its output, then send its ``result``."""
        execute_id = frame["id"]
        self._bind(frame)

        def emit(name: str, text: str) -> None:
            try:
                self._channel.send("stream", re=execute_id, name=name, data=text)
            except ChannelClosed:
                return  # the daemon is gone; the reader thread ends the agent

        capture, self._capture = self._capture, OutputCapture(self._channel.diag)
        capture.start(emit, frame["maxOutputBytes"])
        os._exit = self._exit_keeping_output(capture)  # type: ignore[assignment]
        try:
            outcome = self._run(frame["code"])
            if os.getpid() != self._pid:
                _leave_forked_child(outcome)
            self._show_open_figures()
        finally:
            os._exit = _REAL_EXIT
            dropped = capture.finish()
        if any(dropped.values()):
            outcome["dropped"] = dropped
        try:
            self._channel.send("result", re=execute_id, **outcome)
        finally:
            capture.release()
            self._failure = None  # its frames are freed now, after the answer

    def _exit_keeping_output(self, capture: OutputCapture) -> Callable[[int], NoReturn]:
        """``os._exit`` for the run: what the code printed before it still reaches the daemon.

        The interpreter still ends at once with the code's status (the daemon reports the exit);
        only the output already written is forwarded first. A forked child exits as it would.
        """
        agent_pid = self._pid

        def _exit(status: int) -> NoReturn:
            if os.getpid() == agent_pid:
                try:
                    capture.finish(timeout=_EXIT_DRAIN_SECONDS)
                except BaseException:  # noqa: BLE001 - never keep an exiting process alive
                    pass
            _REAL_EXIT(status)

        _exit.__doc__ = _REAL_EXIT.__doc__
        return _exit

    def _bind(self, frame: Mapping[str, Any]) -> None:
        servers = frame["servers"]
        by_name = proxies.install(servers)
        self._skills.replace(frame.get("skills") or [])
        execute_id = frame["id"]

        def send_attachment(**fields: Any) -> None:
            try:
                self._channel.send("attachment", re=execute_id, **fields)
            except ChannelClosed:
                return  # the daemon is gone; the reader thread ends the agent

        attachments = Attachments(send_attachment, frame.get("attachments"))
        runtime._bind(self._rpc, servers, frame["discovered"], SavedTools(self._rpc, self._skills, self._sources), attachments)
        sys.modules["__main__"] = self._main
        sys.modules[SKILLS_PACKAGE] = self._skills.package
        injected: Dict[str, Any] = {"mcp_%s" % server["alias"]: by_name[server["name"]] for server in servers}
        injected.update(mcp=mcp, mcp_servers=proxies.ServerMap(by_name, frame["discovered"]), LOADED_MCP_SERVERS=tuple(by_name))
        rebind(self.namespace, self._injected, injected)  # keeps what the code itself rebound
        self._skills.bind(injected)
        self._injected = injected

    def _run(self, code: str) -> Outcome:
        linecache.cache[USER_FILENAME] = (len(code), None, code.splitlines(True), USER_FILENAME)
        try:
            compiled = compile(code, USER_FILENAME, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
        except (SyntaxError, ValueError) as exc:  # ValueError: null bytes, before Python 3.12
            return _error(exc)
        self._sources.add(compiled, code)  # so that runtime.save_tool finds the source of its functions
        try:
            if compiled.co_flags & inspect.CO_COROUTINE:
                self._event_loop().run_until_complete(eval(compiled, self.namespace))
            else:
                exec(compiled, self.namespace)
        except SystemExit as exc:
            return self._exit(exc)
        except NameError as exc:
            _explain_name_error(exc)
            return _error(exc)
        except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt & co. end the run, not the agent
            # Held until the result is sent: freeing a million frames (a deep RecursionError) takes
            # a fifth of a second that the answer need not wait for.
            self._failure = exc
            return _error(exc)
        return {"status": "success", "exitCode": 0}

    def _show_open_figures(self) -> None:
        """The figures the code left open go out after it (as a notebook's inline backend does)."""
        try:
            mpl_hook.show_open_figures()
        except Exception as exc:  # noqa: BLE001 - the code's figure may fail to draw in any way; the run's outcome stands
            try:
                print("the figures left open were not returned: %s: %s" % (type(exc).__name__, exc), file=sys.stderr, flush=True)
            except (OSError, ValueError) as error:  # the code closed its stderr
                self._channel.diag("figures left open not returned (%s), and stderr is closed: %s" % (exc, error))

    def _exit(self, exc: SystemExit) -> Outcome:
        """SystemExit as Python's own interpreter reports it."""
        code = exc.code
        if code is None or (isinstance(code, int) and code == 0):
            return {"status": "success", "exitCode": 0}
        if isinstance(code, int):
            return {"status": "error", "exitCode": int(code)}
        try:
            print(code, file=sys.stderr, flush=True)
        except (OSError, ValueError) as error:  # the code closed its stderr
            self._channel.diag("SystemExit message lost: %s" % error)
        return {"status": "error", "exitCode": 1}

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop


def _explain_name_error(exc: NameError) -> None:
    """``mcp_x`` for a server this run did not load: the message says to add it to ``servers``."""
    try:
        binding = runtime._current()
    except runtime.MCPError:
        return
    loaded = [(str(server["name"]), str(server["alias"])) for server in binding.servers]
    hint = suggest.name_error_hint(exc, loaded, binding.discovered)
    if hint and exc.args and isinstance(exc.args[0], str):
        exc.args = ("%s. %s" % (exc.args[0], hint),) + tuple(exc.args[1:])


def _leave_forked_child(outcome: Outcome) -> None:
    """End a child that the code forked (``os.fork()``) when it runs off the end of the code.

    Returning into the agent would finish the parent's run from the child: its wake-up byte
    would stop the parent's output pumps. A script's forked child exits there too.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            break  # the child's output is lost as it would be in a script whose stdout is closed
    os._exit(outcome["exitCode"] & 0xFF)


def _error(exc: BaseException) -> Outcome:
    return {
        "status": "error",
        "exitCode": 1,
        "error": {
            "type": type(exc).__name__,
            "message": _clip(_safe_str(exc)),
            "traceback": _clip(user_traceback(exc)),
        },
    }


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as error:  # noqa: BLE001 - a user __str__ may raise anything
        return "<exception str() failed: %r>" % (error,)


def _clip(text: str) -> str:
    if len(text) <= MAX_ERROR_CHARS:
        return text
    half = MAX_ERROR_CHARS // 2
    return "%s\n[... %d characters cut ...]\n%s" % (text[:half], len(text) - 2 * half, text[-half:])
