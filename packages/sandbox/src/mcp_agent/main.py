"""The agent's process: claims the stdio channel, reads host frames, runs the code it is sent."""

from __future__ import annotations

import os
import queue
import sys
import threading
import traceback
from typing import Any, Dict, NamedTuple, Optional

from mcp_agent import AGENT_VERSION
from mcp_agent.capture import null_stdio
from mcp_agent.channel import Channel, ChannelClosed
from mcp_agent.executor import Executor
from mcp_agent.framing import FrameDecoder, FrameError
from mcp_agent.messages import host_problem
from mcp_agent.preload import configured, preload
from mcp_agent.rpc import RpcClient

_READ_BYTES = 64 * 1024


class Stdio(NamedTuple):
    in_fd: int
    out_fd: int
    diag_fd: int


def claim_stdio() -> Stdio:
    """Move the protocol to private fds, so that nothing user code does to fds 0-2 can reach it."""
    # os.dup gives non-inheritable fds: subprocesses never see the channel.
    stdio = Stdio(in_fd=os.dup(0), out_fd=os.dup(1), diag_fd=os.dup(2))
    null_stdio()  # until a run gives fds 1 and 2 their pipes, stray output goes nowhere
    return stdio


class HostReader(threading.Thread):
    """Reads the daemon's frames: answers pings, queues executes, hands rpc results to their callers."""

    def __init__(self, in_fd: int, channel: Channel, rpc: RpcClient, jobs: "queue.Queue[Optional[Dict[str, Any]]]") -> None:
        super().__init__(name="mcp-agent-reader", daemon=True)
        self._fd = in_fd
        self._channel = channel
        self._rpc = rpc
        self._jobs = jobs

    def run(self) -> None:
        decoder = FrameDecoder()
        try:
            while True:
                data = os.read(self._fd, _READ_BYTES)
                if not data:
                    break
                for item in decoder.feed(data):
                    self.dispatch(item)
        except Exception:  # noqa: BLE001 - report, then shut down like at EOF
            self._channel.diag("reader failed:\n" + traceback.format_exc())
        finally:
            self._rpc.close("the daemon closed the protocol channel")
            self._jobs.put(None)

    def dispatch(self, item: Any) -> None:
        if isinstance(item, FrameError):
            self._channel.diag("ignored a frame: %s" % item)
            return
        problem = host_problem(item)
        try:
            if problem is not None:
                self._reject(item, problem)
            elif item["type"] == "ping":
                self._channel.send("pong", re=item["id"])
            elif item["type"] == "execute":
                self._jobs.put(item)
            else:
                error = item.get("error") or {}
                self._rpc.resolve(item["re"], item["ok"], item.get("result"), error.get("code", ""), error.get("message", ""))
        except ChannelClosed as exc:
            self._channel.diag("could not answer %s: %s" % (item.get("type"), exc))

    def _reject(self, item: Any, problem: str) -> None:
        self._channel.diag("ignored an invalid frame: %s" % problem)
        if not isinstance(item, dict):
            return
        # Ignoring these would leave the daemon or the code waiting until a timeout.
        if item.get("type") == "execute" and isinstance(item.get("id"), str) and item["id"]:
            error = {"type": "ProtocolError", "message": "the agent rejected this execute frame: %s" % problem}
            self._channel.send("result", re=item["id"], status="error", exitCode=1, error=error)
        elif item.get("type") == "rpc_result" and isinstance(item.get("re"), str):
            self._rpc.resolve(item["re"], False, code="protocol_error", message="malformed rpc_result: %s" % problem)


WORKSPACE = "/workspace"


def enter_workspace() -> None:
    """Run code in /workspace (the container's working directory is / on purpose, see sandbox-spec.ts)."""
    if os.path.isdir(WORKSPACE):
        try:
            os.chdir(WORKSPACE)
        except OSError as exc:
            sys.stderr.write("mcp-agent: cannot enter %s: %s\n" % (WORKSPACE, exc))


def main() -> None:
    enter_workspace()
    stdio = claim_stdio()
    channel = Channel(stdio.out_fd, stdio.diag_fd)
    rpc = RpcClient(channel)
    executor = Executor(channel, rpc)
    jobs: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
    HostReader(stdio.in_fd, channel, rpc, jobs).start()
    try:
        executor.prepare()
        preload(configured(), channel.diag)  # before ready: the pool hands out only loaded sandboxes
        version = "%d.%d.%d" % sys.version_info[:3]
        channel.send("ready", python=version, pid=os.getpid(), agent=AGENT_VERSION)
        while True:
            frame = jobs.get()
            if frame is None:
                break
            _execute(executor, channel, frame)
            executor.prepare()  # for a next run in a session; the result has already gone
    except ChannelClosed as exc:
        channel.diag("stopping: %s" % exc)
    # Not a normal exit: threads or atexit hooks left by user code must not keep a finished agent alive.
    os._exit(0)


def _execute(executor: Executor, channel: Channel, frame: Dict[str, Any]) -> None:
    try:
        executor.execute(frame)
    except ChannelClosed:
        raise
    except Exception as exc:  # noqa: BLE001 - an agent bug fails this run, not the container
        channel.diag("agent error:\n" + traceback.format_exc())
        error = {"type": "AgentError", "message": "the sandbox agent failed: %r" % (exc,)}
        channel.send("result", re=frame["id"], status="error", exitCode=1, error=error)
