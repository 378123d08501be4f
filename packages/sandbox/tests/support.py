"""Test helpers: import paths, the shared fixtures, and a fake daemon that drives a real agent process."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

SANDBOX = Path(__file__).resolve().parent.parent
REPO = SANDBOX.parent.parent
sys.path[:0] = [str(SANDBOX / "src")]  # first, so that src/mcp shadows any installed mcp

from mcp_agent.framing import FrameDecoder, FrameError, encode_frame  # noqa: E402
from mcp_agent.messages import AGENT_TYPES, problem  # noqa: E402

FIXTURES = SANDBOX.parent / "protocol" / "fixtures" / "wire"
AGENT_COMMAND_SCRIPT = REPO / "scripts" / "agent-command.ts"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


_daemon_command: List[str] = []


def daemon_agent_command() -> List[str]:
    """The command the daemon gives each sandbox (bootstrap and bundle), built by the daemon's own code."""
    if not _daemon_command:
        try:
            done = subprocess.run(
                ["node", "--import", "tsx", str(AGENT_COMMAND_SCRIPT)],
                cwd=REPO,  # where node finds tsx
                capture_output=True,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError("could not run node to build the daemon's agent bundle: %s" % exc) from exc
        if done.returncode != 0:
            raise RuntimeError(
                "node %s failed (%d); run npm install at the repo root first:\n%s"
                % (AGENT_COMMAND_SCRIPT, done.returncode, done.stderr.decode("utf-8", "replace"))
            )
        _daemon_command.extend(json.loads(done.stdout))
    return list(_daemon_command)


def agent_argv(python: str = sys.executable) -> List[str]:
    """The daemon's command, with this Python in place of the image's python3."""
    return [python] + daemon_agent_command()[1:]


class Run:
    """What one execute produced."""

    def __init__(self) -> None:
        self.stdout = ""
        self.stderr = ""
        self.streams: List[Dict[str, Any]] = []
        self.rpcs: List[Dict[str, Any]] = []
        self.cancels: List[Dict[str, Any]] = []
        self.attachments: List[Dict[str, Any]] = []
        self.result: Dict[str, Any] = {}

    @property
    def error(self) -> Dict[str, Any]:
        return self.result.get("error") or {}


RpcHandler = Callable[["FakeHost", Dict[str, Any]], None]


class FakeHost:
    """Starts the agent exactly as the daemon does and speaks the protocol to it."""

    def __init__(
        self,
        python: str = sys.executable,
        noise: bytes = b"",
        wait_ready: bool = True,
        extra_args: Sequence[str] = (),
        pass_fds: Sequence[int] = (),
    ) -> None:
        self._workdir = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen(
            agent_argv(python) + list(extra_args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self._workdir.name,
            pass_fds=tuple(pass_fds),
        )
        for fd in pass_fds:
            os.close(fd)  # the agent's copy is the only one
        self.frames: "queue.Queue[Any]" = queue.Queue()
        self.diag: List[str] = []
        self._write_lock = threading.Lock()
        self._ids = 0
        threading.Thread(target=self._read_frames, daemon=True).start()
        threading.Thread(target=self._read_diag, daemon=True).start()
        if noise:
            self.write(noise)
        self.ready: Dict[str, Any] = self.next_frame() if wait_ready else {}

    # -- plumbing --------------------------------------------------------------------------

    def _read_frames(self) -> None:
        decoder = FrameDecoder()
        assert self.proc.stdout is not None
        while True:
            data = self.proc.stdout.read1(65536)  # type: ignore[attr-defined]
            if not data:
                self.frames.put(None)
                return
            for item in decoder.feed(data):
                self.frames.put(item)

    def _read_diag(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.diag.append(line.decode("utf-8", "replace"))

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, kind: str, **fields: Any) -> str:
        self._ids += 1
        message = {"v": 1, "type": kind, "id": "h%d" % self._ids}
        message.update(fields)
        self.write(encode_frame(message))
        return message["id"]

    def next_frame(self, timeout: float = 20.0) -> Dict[str, Any]:
        item = self.frames.get(timeout=timeout)
        if item is None:
            raise AssertionError("agent closed its stdout; diagnostics:\n" + "".join(self.diag))
        if isinstance(item, FrameError):
            raise AssertionError("agent sent an unreadable frame: %s" % item)
        error = problem(item, AGENT_TYPES)
        if error:
            raise AssertionError("agent sent an invalid frame (%s): %r" % (error, item))
        return item

    def wait_for_diag(self, text: str, timeout: float = 5.0) -> bool:
        """Whether the agent's diagnostics (read by another thread) mention ``text`` in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.diag):
                return True
            time.sleep(0.01)
        return False

    def answer(self, rpc: Dict[str, Any], result: Any = None, error: Optional[Dict[str, str]] = None) -> None:
        if error is None:
            self.send("rpc_result", re=rpc["id"], ok=True, result=result)
        else:
            self.send("rpc_result", re=rpc["id"], ok=False, error=error)

    # -- conversations -------------------------------------------------------------------

    def execute(
        self,
        code: str,
        servers: Sequence[Dict[str, Any]] = (),
        discovered: Sequence[str] = (),
        max_output: int = 65536,
        on_rpc: Optional[RpcHandler] = None,
        timeout: float = 30.0,
        attachments: Optional[Dict[str, int]] = None,
    ) -> Run:
        extra = {"attachments": attachments} if attachments else {}
        execute_id = self.send(
            "execute", code=code, servers=list(servers), discovered=list(discovered), maxOutputBytes=max_output, **extra
        )
        run = Run()
        deadline = time.monotonic() + timeout
        while True:
            frame = self.next_frame(max(0.1, deadline - time.monotonic()))
            kind = frame["type"]
            if kind == "stream" and frame["re"] == execute_id:
                run.streams.append(frame)
                if frame["name"] == "stdout":
                    run.stdout += frame["data"]
                else:
                    run.stderr += frame["data"]
            elif kind == "rpc":
                run.rpcs.append(frame)
                if on_rpc is None:
                    raise AssertionError("unexpected rpc %r" % frame)
                on_rpc(self, frame)
            elif kind == "attachment" and frame["re"] == execute_id:
                run.attachments.append(frame)
            elif kind == "rpc_cancel":
                run.cancels.append(frame)
            elif kind == "result" and frame["re"] == execute_id:
                run.result = frame
                return run
            else:
                raise AssertionError("unexpected frame during a run: %r" % frame)

    def close(self) -> int:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # the agent is already gone; its exit code tells the rest
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
            self._workdir.cleanup()


def echo_server(name: str = "x", alias: str = "x", tools: Sequence[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """Server metadata as the daemon puts it in an execute frame."""
    default_tools = [
        {
            "name": "echo",
            "alias": "echo",
            "description": "Echoes back the input",
            "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}},
        }
    ]
    return {"name": name, "alias": alias, "description": "test server", "tools": list(tools) or default_tools}


def echo_handler(host: FakeHost, rpc: Dict[str, Any]) -> None:
    """Answers call_tool like server-everything's echo tool."""
    params = rpc["params"]
    text = "Echo: %s" % params.get("arguments", {}).get("message")
    host.answer(rpc, {"content": [{"type": "text", "text": text}]})

