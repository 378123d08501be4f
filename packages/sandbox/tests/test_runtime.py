"""mcp.runtime, mcp.proxies and the RPC client, in-process with fakes (no agent process)."""

from __future__ import annotations

import asyncio
import copy
import json
import pickle
import sys
import threading
import unittest
from typing import Any, Dict, List, Optional, Tuple

import support  # noqa: F401  (import paths)
from mcp import proxies, runtime
from mcp.values import AttrDict, wrap
from mcp_agent.rpc import RpcClient

SCHEMA = {"type": "object", "properties": {"message": {"type": "string"}}}
SERVER = {
    "name": "my-server",
    "alias": "my_server",
    "description": "test server",
    "tools": [
        {"name": "echo", "alias": "echo", "description": "Echoes back the input", "inputSchema": SCHEMA},
        {
            "name": "wait",
            "alias": "wait",
            "inputSchema": {"type": "object", "properties": {"timeout": {"type": "number"}}},
        },
        {"name": "no-schema", "alias": "no_schema"},
        {"name": "list_tools", "alias": "list_tools", "inputSchema": {"type": "object"}},
    ],
}


class RecordingHost:
    """A runtime.Host that records requests and answers from a table."""

    def __init__(self, answers: Optional[Dict[str, Any]] = None) -> None:
        self.requests: List[Tuple[str, Dict[str, Any], Optional[float]]] = []
        self.answers = answers or {}

    async def request(self, method: str, params: Dict[str, Any], timeout: Optional[float] = None, what: str = "") -> Any:
        self.requests.append((method, params, timeout))
        return self.answers.get(method)

    def request_sync(self, method: str, params: Dict[str, Any]) -> Any:
        self.requests.append((method, params, None))
        return self.answers.get(method)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


class Values(unittest.TestCase):
    def test_attribute_and_item_access_recursively(self) -> None:
        value = wrap({"a": {"b": [{"c": 1}]}, "items": 3})
        self.assertEqual(value.a.b[0].c, 1)
        self.assertEqual(value["a"]["b"][0]["c"], 1)
        self.assertEqual(value["items"], 3)  # clashes with dict.items stay reachable by key
        self.assertIsInstance(value, dict)
        self.assertEqual(json.loads(json.dumps(value)), {"a": {"b": [{"c": 1}]}, "items": 3})

    def test_missing_key_is_an_attribute_error_naming_the_keys(self) -> None:
        with self.assertRaises(AttributeError) as caught:
            wrap({"x": 1}).y
        self.assertIn("keys: x", str(caught.exception))
        self.assertFalse(hasattr(wrap({}), "anything"))

    def test_copy_and_pickle(self) -> None:
        value = wrap({"a": {"b": 1}})
        self.assertEqual(copy.deepcopy(value).a.b, 1)
        self.assertEqual(pickle.loads(pickle.dumps(value)).a.b, 1)
        self.assertIsInstance(copy.copy(value), AttrDict)


class ToolResults(unittest.TestCase):
    def test_structured_content_wins(self) -> None:
        result = {"content": [{"type": "text", "text": "ignored"}], "structuredContent": {"n": 1}}
        self.assertEqual(runtime.unwrap_tool_result(result).n, 1)

    def test_lone_text_is_json_decoded_when_it_is_json(self) -> None:
        text = lambda t: {"content": [{"type": "text", "text": t}]}  # noqa: E731
        self.assertEqual(runtime.unwrap_tool_result(text('{"k": [1]}')).k, [1])
        self.assertEqual(runtime.unwrap_tool_result(text("Echo: hi")), "Echo: hi")
        self.assertEqual(runtime.unwrap_tool_result(text("42")), 42)

    def test_other_content_is_the_list(self) -> None:
        content = [{"type": "text", "text": "a"}, {"type": "image", "data": "...", "mimeType": "image/png"}]
        value = runtime.unwrap_tool_result({"content": content})
        self.assertEqual(value[1].mimeType, "image/png")
        self.assertEqual(runtime.unwrap_tool_result({"content": []}), [])

    def test_is_error_raises_mcp_error_with_the_text(self) -> None:
        with self.assertRaises(runtime.MCPError) as caught:
            runtime.unwrap_tool_result({"isError": True, "content": [{"type": "text", "text": "boom"}]})
        self.assertEqual(str(caught.exception), "boom")
        self.assertEqual(caught.exception.code, "tool_error")


class Batches(unittest.TestCase):
    def tearDown(self) -> None:
        runtime._binding = None

    def test_call_batch_sends_one_rpc_and_answers_each_item_in_order(self) -> None:
        answer = [
            {"ok": True, "result": {"content": [{"type": "text", "text": "one"}]}},
            {"ok": False, "error": {"code": "upstream_error", "message": "it failed"}},
            {"ok": True, "result": {"isError": True, "content": [{"type": "text", "text": "tool said no"}]}},
        ]
        host = RecordingHost({"call_batch": answer})
        runtime._bind(host, [SERVER], ["my-server"])
        results = run(runtime.call_batch("my-server", "echo", [{"message": "a"}, {"message": "b"}, {"message": "c"}], timeout=2))
        self.assertEqual(results[0], "one")
        self.assertIsInstance(results[1], runtime.MCPError)
        self.assertEqual((results[1].code, str(results[1])), ("upstream_error", "it failed"))
        self.assertEqual(results[2].code, "tool_error")
        method, params, _ = host.requests[0]
        self.assertEqual((method, params["items"][2], params["timeoutMs"]), ("call_batch", {"message": "c"}, 2000))
        self.assertEqual(len(host.requests), 1)

    def test_call_batch_refuses_what_is_not_a_list_of_dicts(self) -> None:
        runtime._bind(RecordingHost(), [SERVER], ["my-server"])
        with self.assertRaisesRegex(TypeError, "items must be a list"):
            run(runtime.call_batch("my-server", "echo", {"message": "a"}))
        with self.assertRaisesRegex(TypeError, r"items\[1\] must be a dict"):
            run(runtime.call_batch("my-server", "echo", [{}, "x"]))
        self.assertEqual(run(runtime.call_batch("my-server", "echo", [])), [])

    def test_a_denied_call_is_approval_denied_an_mcp_error(self) -> None:
        error = runtime.error_for("approval_denied", "my-server.echo was not run: the user denied it")
        self.assertIsInstance(error, runtime.ApprovalDenied)
        self.assertIsInstance(error, runtime.MCPError)
        self.assertEqual(error.code, "approval_denied")
        self.assertIsInstance(runtime.error_for("timeout", "t"), runtime.MCPTimeoutError)
        self.assertNotIsInstance(runtime.error_for("upstream_error", "u"), runtime.ApprovalDenied)


class Runtime(unittest.TestCase):
    def setUp(self) -> None:
        self.host = RecordingHost({"call_tool": {"content": [{"type": "text", "text": "ok"}]}})
        runtime._bind(self.host, [SERVER], ["my-server", "other"])

    def tearDown(self) -> None:
        runtime._binding = None

    def test_metadata_helpers(self) -> None:
        self.assertEqual(runtime.discovered_servers(), ("my-server", "other"))
        detailed = runtime.discovered_servers(detailed=True)
        self.assertEqual((detailed[0].name, detailed[0].loaded, detailed[0].description), ("my-server", True, "test server"))
        self.assertFalse(detailed[1].loaded)
        self.assertEqual(runtime.list_loaded_server_metadata()[0].tools[0].alias, "echo")
        self.assertEqual(runtime.describe_server("my_server").name, "my-server")
        with self.assertRaises(runtime.MCPError):
            runtime.describe_server("nope")
        self.assertIn("mcp_my_server", runtime.capability_summary())

    def test_call_tool_params(self) -> None:
        self.assertEqual(run(runtime.call_tool("my-server", "echo", {"message": "hi"}, timeout=1.5)), "ok")
        self.assertEqual(
            self.host.requests[-1],
            ("call_tool", {"server": "my-server", "tool": "echo", "arguments": {"message": "hi"}, "timeoutMs": 1500}, 1.5),
        )
        with self.assertRaises(ValueError):
            run(runtime.call_tool("my-server", "echo", timeout=0))
        with self.assertRaises(TypeError):
            run(runtime.call_tool("my-server", "echo", ["not", "a", "dict"]))  # type: ignore[arg-type]

    def test_doc_helpers_and_sync_variants(self) -> None:
        self.host.answers.update(query_tool_docs=[{"tool": "echo"}], search_tool_docs=[{"tool": "echo"}], list_servers=["a"])
        self.assertEqual(run(runtime.query_tool_docs("my-server", "echo")).tool, "echo")  # one tool: the doc itself
        self.assertEqual(self.host.requests[-1][1], {"server": "my-server", "detail": "summary", "tool": "echo"})
        self.assertEqual(runtime.query_tool_docs_sync("my-server", detail="full")[0].tool, "echo")
        self.assertEqual(runtime.search_tool_docs_sync("echo", 3)[0].tool, "echo")
        self.assertEqual(self.host.requests[-1], ("search_tool_docs", {"query": "echo", "limit": 3, "detail": "summary"}, None))
        self.assertEqual(runtime.list_servers_sync(), ("a",))
        with self.assertRaises(ValueError):
            runtime.search_tool_docs_sync("x", detail="everything")

    def test_other_methods_send_their_params(self) -> None:
        run(runtime.get_prompt("s", "p", {"a": "b"}))
        self.assertEqual(self.host.requests[-1][:2], ("get_prompt", {"server": "s", "name": "p", "arguments": {"a": "b"}}))
        run(runtime.read_resource("s", "file:///x"))
        self.assertEqual(self.host.requests[-1][:2], ("read_resource", {"server": "s", "uri": "file:///x"}))

    def test_unbound_runtime_says_so(self) -> None:
        runtime._binding = None
        with self.assertRaises(runtime.MCPError) as caught:
            runtime.discovered_servers()
        self.assertEqual(caught.exception.code, "not_connected")


class Proxies(unittest.TestCase):
    def setUp(self) -> None:
        self.host = RecordingHost({"call_tool": {"structuredContent": {"ok": True}}})
        runtime._bind(self.host, [SERVER], ["my-server"])
        self.proxy = proxies.install([SERVER])["my-server"]

    def tearDown(self) -> None:
        runtime._binding = None
        proxies.install([])

    def last_call(self) -> Tuple[Dict[str, Any], Optional[float]]:
        method, params, timeout = self.host.requests[-1]
        self.assertEqual(method, "call_tool")
        return params["arguments"], timeout

    def test_timeout_is_per_call_when_the_schema_has_no_timeout_argument(self) -> None:
        self.assertTrue(run(self.proxy.echo(message="hi", timeout=2)).ok)
        self.assertEqual(self.last_call(), ({"message": "hi"}, 2))

    def test_timeout_goes_to_a_tool_that_declares_it(self) -> None:
        run(self.proxy.wait(timeout=2))
        self.assertEqual(self.last_call(), ({"timeout": 2}, None))
        run(self.proxy.wait.with_timeout(5)(timeout=2))
        self.assertEqual(self.last_call(), ({"timeout": 2}, 5))

    def test_timeout_goes_to_a_tool_without_a_known_schema(self) -> None:
        run(self.proxy.no_schema(timeout=2))
        self.assertEqual(self.last_call(), ({"timeout": 2}, None))

    def test_tools_shadow_proxy_methods_and_carry_their_docs(self) -> None:
        run(self.proxy.list_tools())
        self.assertEqual(self.host.requests[-1][0], "call_tool")
        self.assertEqual(self.proxy.echo.__doc__, "Echoes back the input")
        self.assertEqual(self.proxy.echo.__name__, "echo")
        self.assertTrue(asyncio.iscoroutinefunction(self.proxy.echo))

    def test_positional_arguments_and_unknown_tools_fail_clearly(self) -> None:
        with self.assertRaises(TypeError) as caught:
            run(self.proxy.echo({"message": "hi"}))
        self.assertIn("**arguments", str(caught.exception))
        with self.assertRaises(AttributeError) as missing:
            self.proxy.ecko
        self.assertIn("echo", str(missing.exception))

    def test_server_modules(self) -> None:
        from mcp.servers import my_server  # type: ignore[attr-defined]

        self.assertIs(my_server.echo, self.proxy.echo)
        self.assertEqual(my_server.TOOL_MAP["echo"].name, "echo")
        self.assertIn("echo", dir(self.proxy))
        proxies.install([])
        self.assertNotIn("mcp.servers.my_server", sys.modules)


class StubChannel:
    """The Channel surface RpcClient uses, recording what would be sent."""

    def __init__(self) -> None:
        self.sent: List[Dict[str, Any]] = []
        self.notes: List[str] = []
        self._next = 0
        self.on_send = lambda message: None

    def next_id(self) -> str:
        self._next += 1
        return "a%d" % self._next

    def send_with_id(self, message_id: str, kind: str, **fields: Any) -> str:
        message = dict(fields, type=kind, id=message_id)
        self.sent.append(message)
        self.on_send(message)
        return message_id

    def send(self, kind: str, **fields: Any) -> str:
        return self.send_with_id(self.next_id(), kind, **fields)

    def diag(self, text: str) -> None:
        self.notes.append(text)


class Rpc(unittest.TestCase):
    def setUp(self) -> None:
        self.channel = StubChannel()
        self.rpc = RpcClient(self.channel)  # type: ignore[arg-type]

    def test_answers_out_of_order_from_another_thread_reach_their_callers(self) -> None:
        def answer_all_later() -> None:
            calls = [m for m in self.channel.sent if m["type"] == "rpc"]
            for message in reversed(calls):
                self.rpc.resolve(message["id"], True, message["params"]["n"])

        async def main() -> List[Any]:
            tasks = [asyncio.ensure_future(self.rpc.request("m", {"n": n})) for n in range(20)]
            await asyncio.sleep(0)
            threading.Thread(target=answer_all_later).start()
            return await asyncio.gather(*tasks)

        self.assertEqual(run(main()), list(range(20)))

    def test_refusal_is_an_mcp_error_with_its_code(self) -> None:
        self.channel.on_send = lambda m: self.rpc.resolve(m["id"], False, code="server_not_allowed", message="no")
        with self.assertRaises(runtime.MCPError) as caught:
            run(self.rpc.request("call_tool", {}))
        self.assertEqual((caught.exception.code, str(caught.exception)), ("server_not_allowed", "no"))

    def test_timeout_cancels_on_the_host(self) -> None:
        with self.assertRaises(asyncio.TimeoutError) as caught:
            run(self.rpc.request("call_tool", {}, timeout=0.05, what="s.t"))
        self.assertIn("s.t timed out", str(caught.exception))
        rpc, cancel = self.channel.sent
        self.assertEqual((cancel["type"], cancel["re"]), ("rpc_cancel", rpc["id"]))
        self.rpc.resolve(rpc["id"], True, "late")  # a late answer is ignored, not an error
        self.assertTrue(any("abandoned" in note for note in self.channel.notes))

    def test_sync_requests_work_inside_a_running_loop(self) -> None:
        self.channel.on_send = lambda m: threading.Timer(0.05, self.rpc.resolve, (m["id"], True, "sync")).start()

        async def main() -> Any:
            return self.rpc.request_sync("list_servers", {})

        self.assertEqual(run(main()), "sync")

    def test_close_fails_calls_in_flight_and_later(self) -> None:
        self.channel.on_send = lambda m: threading.Timer(0.05, self.rpc.close, ("gone",)).start()
        with self.assertRaises(runtime.MCPError) as caught:
            self.rpc.request_sync("list_servers", {})
        self.assertEqual(caught.exception.code, "channel_closed")
        with self.assertRaises(runtime.MCPError):
            self.rpc.request_sync("list_servers", {})

    def test_arguments_that_are_not_json_fail_in_the_caller(self) -> None:
        def refuse(message: Dict[str, Any]) -> None:
            raise TypeError("Object of type bytes is not JSON serializable")

        self.channel.on_send = refuse
        with self.assertRaises(TypeError):
            self.rpc.request_sync("call_tool", {"arguments": {"b": b"x"}})
        self.rpc.resolve("a1", True, None)
        self.assertTrue(any("unknown" in note for note in self.channel.notes))


if __name__ == "__main__":
    unittest.main()


class TimeoutErrorTypeTest(unittest.TestCase):
    def test_a_call_timeout_is_both_an_mcp_error_and_a_timeout_error(self) -> None:
        import asyncio

        from mcp.runtime import MCPError, MCPTimeoutError

        error = MCPTimeoutError("echo timed out after 1s", code="timeout")
        self.assertIsInstance(error, MCPError)
        self.assertIsInstance(error, asyncio.TimeoutError)
        self.assertEqual(error.code, "timeout")
