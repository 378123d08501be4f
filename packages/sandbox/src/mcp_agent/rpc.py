"""Calls from sandbox code to the daemon: ``rpc`` frames out, ``rpc_result`` frames back.

Answers arrive on the channel's reader thread, in any order. Each call waits on its own
waiter: an asyncio future of the loop that made the call (resolved thread-safely on that
loop), or a threading event for the blocking ``request_sync``, which needs no loop at all
and so cannot deadlock one.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Dict, Optional, Tuple

from mcp.runtime import MCPError, MCPTimeoutError, error_for
from mcp_agent.channel import Channel, ChannelClosed

Outcome = Tuple[bool, Any]  # (True, result) or (False, MCPError)
Settle = Callable[[Outcome], None]


class _ThreadWaiter:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._outcome: Outcome = (False, MCPError("no answer", code="internal"))

    def settle(self, outcome: Outcome) -> None:
        self._outcome = outcome
        self._event.set()

    def wait(self) -> Outcome:
        self._event.wait()
        return self._outcome


def _settle_future(future: "asyncio.Future[Any]", outcome: Outcome) -> None:
    if future.done():  # the caller gave up (timeout, cancellation) meanwhile
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class RpcClient:
    """Implements ``mcp.runtime.Host`` over a Channel."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._lock = threading.Lock()
        self._pending: Dict[str, Settle] = {}
        self._closed_reason: Optional[str] = None

    async def request(
        self, method: str, params: Dict[str, Any], timeout: Optional[float] = None, what: str = ""
    ) -> Any:
        loop = asyncio.get_running_loop()
        future: "asyncio.Future[Any]" = loop.create_future()

        def settle(outcome: Outcome) -> None:
            try:
                loop.call_soon_threadsafe(_settle_future, future, outcome)
            except RuntimeError:
                # The caller's loop is closed (its asyncio.run ended): nobody waits any more.
                self._channel.diag("dropped the answer to %s: its event loop is closed" % method)

        call_id = self._start(method, params, settle)
        try:
            if timeout is None:
                return await future
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            self._abandon(call_id)
            raise MCPTimeoutError("%s timed out after %gs" % (what or method, timeout), code="timeout") from None
        except asyncio.CancelledError:
            self._abandon(call_id)
            raise

    def request_sync(self, method: str, params: Dict[str, Any]) -> Any:
        waiter = _ThreadWaiter()
        self._start(method, params, waiter.settle)
        ok, value = waiter.wait()
        if not ok:
            raise value
        return value

    def resolve(self, call_id: str, ok: bool, result: Any = None, code: str = "", message: str = "") -> None:
        """Hand an answer to its caller; called from the reader thread."""
        with self._lock:
            settle = self._pending.pop(call_id, None)
        if settle is None:
            self._channel.diag("rpc_result for unknown or abandoned call %r ignored" % call_id)
            return
        if ok:
            settle((True, result))
            return
        # The daemon's own deadline for the call raises what a sandbox-side timeout raises; a denied
        # approval raises ApprovalDenied.
        settle((False, error_for(code, message)))

    def close(self, reason: str) -> None:
        """Fail every call in flight and every later one: the daemon is gone."""
        with self._lock:
            self._closed_reason = reason
            pending, self._pending = self._pending, {}
        for settle in pending.values():
            settle((False, MCPError(reason, code="channel_closed")))

    def _start(self, method: str, params: Dict[str, Any], settle: Settle) -> str:
        call_id = self._channel.next_id()
        with self._lock:
            if self._closed_reason is not None:
                raise MCPError(self._closed_reason, code="channel_closed")
            self._pending[call_id] = settle
        try:
            self._channel.send_with_id(call_id, "rpc", method=method, params=params)
        except ChannelClosed as exc:
            self._forget(call_id)
            raise MCPError(str(exc), code="channel_closed") from None
        except BaseException:
            # Arguments that are not JSON (bytes, sets, NaN...) fail here, in the caller's frame.
            self._forget(call_id)
            raise
        return call_id

    def _forget(self, call_id: str) -> bool:
        with self._lock:
            return self._pending.pop(call_id, None) is not None

    def _abandon(self, call_id: str) -> None:
        if not self._forget(call_id):
            return  # answered meanwhile: nothing to cancel
        try:
            self._channel.send("rpc_cancel", re=call_id)
        except ChannelClosed as exc:
            self._channel.diag("could not cancel %s: %s" % (call_id, exc))
