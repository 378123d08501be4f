"""Sandbox code calling the host: proxies, runtime helpers, concurrency, errors, timeouts."""

from __future__ import annotations

import random
import unittest
from typing import Any, Dict, List

from support import FakeHost, Run, echo_handler, echo_server

EVERYTHING = echo_server(
    name="everything",
    alias="everything",
    tools=[
        {
            "name": "echo",
            "alias": "echo",
            "description": "Echoes back the input",
            "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
        {
            "name": "long-running",
            "alias": "long_running",
            "description": "Waits",
            "inputSchema": {"type": "object", "properties": {"timeout": {"type": "number"}}},
        },
    ],
)


def answer_with(result: Any = None, error: Any = None):  # type: ignore[no-untyped-def]
    def handler(host: FakeHost, rpc: Dict[str, Any]) -> None:
        host.answer(rpc, result, error)

    return handler


def never_answer(host: FakeHost, rpc: Dict[str, Any]) -> None:
    return None


class AgentRpc(unittest.TestCase):
    host: FakeHost

    @classmethod
    def setUpClass(cls) -> None:
        cls.host = FakeHost()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.host.close()

    def run_code(self, code: str, on_rpc: Any = echo_handler, servers: Any = (EVERYTHING,), **options: Any) -> Run:
        run = self.host.execute(code, servers=servers, discovered=["everything", "memory"], on_rpc=on_rpc, **options)
        self.assertIn("status", run.result)
        return run

    def assertOutput(self, run: Run, stdout: str) -> None:
        self.assertEqual(run.result["status"], "success", run.result.get("error"))
        self.assertEqual(run.stdout, stdout)

    def test_proxy_call(self) -> None:
        run = self.run_code("r = await mcp_everything.echo(message='hi')\nprint(r)")
        self.assertOutput(run, "Echo: hi\n")
        self.assertEqual(
            run.rpcs[0]["params"], {"server": "everything", "tool": "echo", "arguments": {"message": "hi"}}
        )
        self.assertEqual(run.rpcs[0]["method"], "call_tool")

    def test_other_ways_to_reach_a_tool(self) -> None:
        run = self.run_code(
            "from mcp import runtime\n"
            "from mcp.servers import everything\n"
            "print(await mcp_servers['everything'].echo(message='a'))\n"
            "print(await everything.echo(message='b'))\n"
            "print(await runtime.call_tool('everything', 'echo', {'message': 'c'}))\n"
            "print(everything.echo.__doc__, LOADED_MCP_SERVERS)\n"
        )
        self.assertOutput(run, "Echo: a\nEcho: b\nEcho: c\nEchoes back the input ('everything',)\n")

    def test_gather_of_50_calls_answered_out_of_order(self) -> None:
        held: List[Dict[str, Any]] = []

        def hold_then_answer_shuffled(host: FakeHost, rpc: Dict[str, Any]) -> None:
            held.append(rpc)
            if len(held) == 50:  # all 50 are in flight at once: the calls really are concurrent
                random.Random(7).shuffle(held)
                for call in held:
                    echo_handler(host, call)

        run = self.run_code(
            "results = await asyncio.gather(*(mcp_everything.echo(message=str(i)) for i in range(50)))\n"
            "print(results == ['Echo: %d' % i for i in range(50)])",
            on_rpc=hold_then_answer_shuffled,
        )
        self.assertOutput(run, "True\n")
        self.assertEqual(len({rpc["id"] for rpc in run.rpcs}), 50)

    def test_is_error_raises_mcp_error(self) -> None:
        result = {"isError": True, "content": [{"type": "text", "text": "tool exploded"}]}
        run = self.run_code(
            "from mcp import runtime\n"
            "try:\n"
            "    await mcp_everything.echo(message='x')\n"
            "except runtime.MCPError as exc:\n"
            "    print('caught', exc, exc.code)\n",
            on_rpc=answer_with(result),
        )
        self.assertOutput(run, "caught tool exploded tool_error\n")

    def test_uncaught_mcp_error_shows_only_user_frames(self) -> None:
        error = {"code": "server_not_allowed", "message": "server 'x' is not in this run's servers allowlist"}
        run = self.run_code("async def go():\n    await mcp_everything.echo(message='x')\n\nawait go()", on_rpc=answer_with(error=error))
        self.assertEqual(run.result["error"]["type"], "MCPError")
        self.assertEqual(run.result["error"]["message"], error["message"])
        trace = run.result["error"]["traceback"]
        self.assertIn('File "<run_python>", line 4, in <module>', trace)
        self.assertIn('File "<run_python>", line 2, in go', trace)
        self.assertNotIn("<agent>", trace)
        self.assertTrue(trace.endswith("MCPError: %s\n" % error["message"]), trace)

    def test_results_allow_attribute_access(self) -> None:
        structured = {"structuredContent": {"user": {"name": "ada", "tags": [{"id": 1}]}}, "content": []}
        run = self.run_code(
            "r = await mcp_everything.echo(message='x')\n"
            "print(r.user.name, r['user']['tags'][0].id, isinstance(r, dict))",
            on_rpc=answer_with(structured),
        )
        self.assertOutput(run, "ada 1 True\n")

    def test_json_text_is_decoded(self) -> None:
        json_text = {"content": [{"type": "text", "text": '{"items": [{"n": 2}]}'}]}
        run = self.run_code("r = await mcp_everything.echo(message='x')\nprint(r['items'][0].n)", on_rpc=answer_with(json_text))
        self.assertOutput(run, "2\n")

    def test_per_call_timeout_cancels_on_the_host(self) -> None:
        run = self.run_code(
            "try:\n"
            "    await mcp_everything.echo.with_timeout(0.2)(message='slow')\n"
            "except asyncio.TimeoutError as exc:\n"
            "    print('timed out:', exc)\n",
            on_rpc=never_answer,
        )
        self.assertOutput(run, "timed out: everything.echo timed out after 0.2s\n")
        self.assertEqual(run.rpcs[0]["params"]["timeoutMs"], 200)
        self.assertEqual([cancel["re"] for cancel in run.cancels], [run.rpcs[0]["id"]])

    def test_timeout_keyword_follows_the_tools_schema(self) -> None:
        run = self.run_code(
            "try:\n"
            "    await mcp_everything.echo(message='x', timeout=0.1)\n"
            "except asyncio.TimeoutError:\n"
            "    print('per-call timeout')\n",
            on_rpc=never_answer,
        )
        self.assertOutput(run, "per-call timeout\n")
        self.assertEqual(run.rpcs[0]["params"]["arguments"], {"message": "x"})
        run = self.run_code("await mcp_everything.long_running(timeout=5)", on_rpc=answer_with({"content": []}))
        self.assertEqual(run.rpcs[0]["params"]["arguments"], {"timeout": 5})
        self.assertNotIn("timeoutMs", run.rpcs[0]["params"])

    def test_sync_helpers_work_in_sync_and_async_code(self) -> None:
        code = (
            "from mcp import runtime\n"
            "print(runtime.list_servers_sync())\n"
            "async def inside():\n"
            "    return runtime.list_servers_sync()\n"
        )
        names = answer_with(["everything", "memory"])
        self.assertOutput(self.run_code(code, on_rpc=names), "('everything', 'memory')\n")
        self.assertOutput(self.run_code("print(await inside())", on_rpc=names), "('everything', 'memory')\n")

    def test_doc_rpcs(self) -> None:
        docs = [{"server": "everything", "tool": "echo", "description": "Echoes back the input"}]
        run = self.run_code(
            "from mcp import runtime\n"
            "print((await runtime.search_tool_docs('echo', limit=2))[0].tool)\n"
            "print((await runtime.query_tool_docs('everything', 'echo', detail='full')).description)\n",
            on_rpc=answer_with(docs),
        )
        self.assertOutput(run, "echo\nEchoes back the input\n")
        self.assertEqual(
            [(rpc["method"], rpc["params"]) for rpc in run.rpcs],
            [
                ("search_tool_docs", {"query": "echo", "limit": 2, "detail": "summary"}),
                ("query_tool_docs", {"server": "everything", "detail": "full", "tool": "echo"}),
            ],
        )

    def test_metadata_helpers_need_no_rpc(self) -> None:
        run = self.run_code(
            "from mcp import runtime\n"
            "print(runtime.discovered_servers())\n"
            "print(runtime.describe_server('everything').tools[1].alias)\n"
            "print([s.name for s in runtime.list_loaded_server_metadata()])\n"
            "print('mcp_everything' in runtime.capability_summary())\n",
            on_rpc=None,
        )
        self.assertOutput(run, "('everything', 'memory')\nlong_running\n['everything']\nTrue\n")

    def test_servers_change_between_runs(self) -> None:
        self.run_code("pass")
        other = echo_server(name="other", alias="other")
        run = self.run_code(
            "import sys\nprint('mcp_everything' in globals(), 'mcp.servers.everything' in sys.modules, mcp_other)",
            servers=[other],
            on_rpc=None,
        )
        self.assertOutput(run, "False False <MCP server 'other' as mcp_other: echo>\n")

    def test_arguments_that_are_not_json(self) -> None:
        run = self.run_code("await mcp_everything.echo(message=b'bytes')", on_rpc=None)
        self.assertEqual(run.result["error"]["type"], "TypeError")
        self.assertIn("not JSON serializable", run.result["error"]["message"])


class ChannelLoss(unittest.TestCase):
    def test_calls_in_flight_fail_when_the_daemon_goes_away(self) -> None:
        host = FakeHost()
        try:
            host.send(
                "execute",
                code="from mcp import runtime\ntry:\n    await mcp_x.echo(message='x')\nexcept runtime.MCPError as e:\n    print(e.code)",
                servers=[echo_server()],
                discovered=["x"],
                maxOutputBytes=1000,
            )
            self.assertEqual(host.next_frame()["type"], "rpc")
            host.proc.stdin.close()  # type: ignore[union-attr]
            output = ""
            frame = host.next_frame()
            while frame["type"] == "stream":
                output += frame["data"]
                frame = host.next_frame()
            self.assertEqual((output, frame["type"], frame["status"]), ("channel_closed\n", "result", "success"))
            self.assertEqual(host.proc.wait(timeout=10), 0)
        finally:
            host.close()


if __name__ == "__main__":
    unittest.main()
