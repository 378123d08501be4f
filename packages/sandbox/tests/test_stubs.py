"""Typed tool functions and stubs (mcp.stubs, mcp.proxies) against the shared fixture of packages/protocol.

The TypeScript generator (daemon/src/upstreams/stubs.ts) is checked against the same fixture, so
the two cannot drift; here the stub is also compiled, executed, and compared with the proxies.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import pydoc
import re
import typing
import unittest
from typing import Any, Dict, List, Optional, Tuple

import support
from mcp import proxies, runtime, stubs

CASES = json.loads((support.FIXTURES.parent / "stubs" / "cases.json").read_text(encoding="utf-8"))["cases"]
HAS_REQUIRED = hasattr(typing, "Required")  # Python 3.11+; the stub text uses it either way


def exec_stub(source: str) -> Dict[str, Any]:
    # __name__ "builtins" so that its TypedDicts print bare, as the proxies' do.
    namespace: Dict[str, Any] = {"__name__": "builtins"}
    exec(compile(source, "<stub>", "exec", dont_inherit=True), namespace)  # no `annotations` future
    return namespace


def stub_signature_lines(source: str) -> Dict[str, str]:
    """alias -> the signature text written after `async def alias` in the stub."""
    return dict(re.findall(r"^async def (\w+)(\(.*?\)): \"\"\"", source, flags=re.M))


class Fixture(unittest.TestCase):
    def test_every_case_gives_the_expected_stub_and_it_compiles(self) -> None:
        self.assertGreaterEqual(len(CASES), 5)
        for case in CASES:
            with self.subTest(case["name"]):
                source = stubs.ServerStub(case["server"]).source()
                self.assertEqual(source, case["stub"])
                compile(source, case["name"], "exec")

    @unittest.skipUnless(HAS_REQUIRED, "the stubs import typing.Required (Python 3.11+)")
    def test_signatures_docstrings_and_help_agree_with_the_stub(self) -> None:
        for case in CASES:
            server = case["server"]
            proxy = proxies.install([server])[server["name"]]
            namespace = exec_stub(case["stub"])
            lines = stub_signature_lines(case["stub"])
            for tool in server["tools"]:
                alias = tool["alias"]
                with self.subTest(case=case["name"], tool=alias):
                    function = getattr(proxy, alias)
                    declared = namespace[alias]
                    signature = str(inspect.signature(function))
                    self.assertEqual(signature, str(inspect.signature(declared)))
                    # typing writes Union[..., None] as Union[..., NoneType]; the stub cannot name NoneType.
                    self.assertEqual(signature.replace("NoneType", "None"), lines[alias])
                    self.assertEqual(inspect.getdoc(function), inspect.getdoc(declared))
                    self.assertTrue(inspect.iscoroutinefunction(declared))
                    text = pydoc.render_doc(function, renderer=pydoc.plaintext)
                    self.assertIn("async %s%s" % (alias, signature), text)
                    self.assertIn(inspect.getdoc(declared).splitlines()[0], text)
        proxies.install([])

    def test_one_tool_stub_has_the_typed_dicts_it_needs(self) -> None:
        memory = stubs.ServerStub(CASES[1]["server"])
        source = memory.tool_source(memory.tool("delete_relations"))
        self.assertTrue(source.startswith("RelationsItem = TypedDict('RelationsItem', {"), source)
        self.assertNotIn("EntitiesItem", source)
        compile(source, "<one tool>", "exec")
        edge = stubs.ServerStub(CASES[3]["server"])
        source = edge.tool_source(edge.tool("containers"))
        self.assertLess(source.index("class Filter("), source.index("class Options("))  # nested first
        self.assertEqual(edge.tool("options-again").alias, "options_again")  # by name or by alias


class Rules(unittest.TestCase):
    def test_parameter_aliases(self) -> None:
        self.assertEqual(
            stubs.parameter_aliases(["from", "user-id", "user_id", "2fa", "", "None", "ok", "a b", "a_b"]),
            ["from_", "user_id_2", "user_id", "_2fa", "_", "None_", "ok", "a_b_2", "a_b"],
        )

    def test_repr_of_json_values_as_javascript_sent_them(self) -> None:
        self.assertEqual(stubs.pyrepr(2.0), "2")
        self.assertEqual(stubs.pyrepr(-0.0), "0")
        self.assertEqual(stubs.pyrepr(1e21), "1e+21")
        self.assertEqual(stubs.pyrepr({"a": [1.0, None, True]}), "{'a': [1, None, True]}")

    def test_docstring_literals_give_their_text_back(self) -> None:
        for text in ['plain', 'ends with "', 'a """ b', 'ends with """', 'ends with ""', "back\\slash\\", "two\nlines\n  indented", 'two\nlines, "quoted"', "nul\x00 cr\r"]:
            with self.subTest(text=text):
                source = "def f(): %s\n" % stubs.docstring_source(text, stubs.DOC_INDENT)
                namespace: Dict[str, Any] = {}
                exec(compile(source, "<doc>", "exec", dont_inherit=True), namespace)
                self.assertEqual(inspect.getdoc(namespace["f"]), inspect.cleandoc(text))


class RecordingHost:
    def __init__(self) -> None:
        self.requests: List[Tuple[str, Dict[str, Any]]] = []
        self.answers: Dict[str, Any] = {"call_tool": {"structuredContent": {"ok": True}}}

    async def request(self, method: str, params: Dict[str, Any], timeout: Optional[float] = None, what: str = "") -> Any:
        self.requests.append((method, params))
        return self.answers.get(method)

    def request_sync(self, method: str, params: Dict[str, Any]) -> Any:
        self.requests.append((method, params))
        return self.answers.get(method)


EVERYTHING = CASES[0]["server"]
MEMORY = CASES[1]["server"]
EDGE = CASES[3]["server"]


class Checks(unittest.TestCase):
    """What a call is checked for before it leaves the sandbox."""

    def setUp(self) -> None:
        self.host = RecordingHost()
        runtime._bind(self.host, [EVERYTHING, MEMORY, EDGE], ["everything", "memory", "edge-cases", "filesystem"])
        self.by_name = proxies.install([EVERYTHING, MEMORY, EDGE])
        self.everything = self.by_name["everything"]
        self.edge = self.by_name["edge-cases"]

    def tearDown(self) -> None:
        runtime._binding = None
        proxies.install([])

    def sent(self) -> Dict[str, Any]:
        method, params = self.host.requests[-1]
        self.assertEqual(method, "call_tool")
        return params["arguments"]

    def call(self, function: Any, **keywords: Any) -> Any:
        return asyncio.run(function(**keywords))

    def test_unknown_keyword_names_it_the_accepted_ones_and_the_closest(self) -> None:
        with self.assertRaises(TypeError) as caught:
            self.call(self.everything.get_sum, a=1, bb=2)
        message = str(caught.exception)
        self.assertIn("mcp_everything.get_sum() got an unexpected keyword argument 'bb' (did you mean 'b'?)", message)
        self.assertIn("missing required keyword argument 'b'", message)
        self.assertIn("it takes: a, b", message)
        self.assertEqual(self.host.requests, [], "nothing left the sandbox")
        with self.assertRaises(TypeError) as caught:
            self.call(self.everything.get_annotated_message, message_type="error")
        self.assertIn("(did you mean 'messageType'?)", str(caught.exception))  # case and _ folded
        with self.assertRaises(TypeError) as caught:
            self.call(self.everything.echo, message="x", timout=3)
        self.assertIn("(did you mean 'timeout'?)", str(caught.exception))

    def test_missing_required_keywords_are_named(self) -> None:
        with self.assertRaises(TypeError) as caught:
            self.call(self.everything.get_sum)
        self.assertIn("missing required keyword arguments 'a', 'b'", str(caught.exception))
        with self.assertRaises(TypeError):
            self.call(self.everything.get_sum.with_timeout(3), a=1)

    def test_aliases_are_sent_under_their_schema_names(self) -> None:
        self.call(self.edge.names, from_="a", class_="b", user_id_2=1, user_id=2)
        self.assertEqual(self.sent(), {"from": "a", "class": "b", "user-id": 1, "user_id": 2})
        self.call(self.edge.names, **{"from": "a", "class": "b", "2fa": True})  # the schema names work too
        self.assertEqual(self.sent(), {"from": "a", "class": "b", "2fa": True})

    def test_none_for_an_optional_argument_is_not_sent_unless_the_schema_allows_null(self) -> None:
        self.call(self.edge.unions, either=1, choice={"kind": "a"}, maybe=None, several=None, same=None)
        self.assertEqual(self.sent(), {"either": 1, "choice": {"kind": "a"}, "maybe": None, "several": None})
        self.call(self.everything.gzip_file_as_resource)
        self.assertEqual(self.sent(), {}, "defaults shown in the signature are the server's to apply")

    def test_timeout_is_ours_or_the_tools(self) -> None:
        self.call(self.everything.echo, message="hi", timeout=2)
        self.assertEqual(self.sent(), {"message": "hi"})
        self.assertEqual(self.host.requests[-1][1]["timeoutMs"], 2000)
        self.call(self.edge.names, from_="a", class_="b", timeout=5)
        self.assertEqual(self.sent(), {"from": "a", "class": "b", "timeout": 5})

    def test_additional_properties_take_any_keyword(self) -> None:
        self.call(self.edge.open_, kwargs="k", anything=1)
        self.assertEqual(self.sent(), {"kwargs": "k", "anything": 1})
        self.call(self.edge.no_schema, whatever=[1])
        self.assertEqual(self.sent(), {"whatever": [1]})
        with self.assertRaises(TypeError):
            self.call(self.edge.closed, b=1)

    def test_unknown_tool_names_the_closest(self) -> None:
        for attribute, closest in [("get_summ", "get_sum"), ("sum", "get_sum"), ("echos", "echo"), ("getSum", "get_sum")]:
            with self.subTest(attribute):
                with self.assertRaises(AttributeError) as caught:
                    getattr(self.everything, attribute)
                self.assertIn("has no tool %r; did you mean %s?" % (attribute, closest), str(caught.exception))
        with self.assertRaises(AttributeError) as caught:
            self.everything.zzzz
        self.assertIn("its tools: echo, get_annotated_message", str(caught.exception))
        import mcp.servers.everything as module

        with self.assertRaises(AttributeError) as caught:
            module.get_summ
        self.assertIn("did you mean get_sum?", str(caught.exception))
        self.assertIs(module.get_sum.__signature__, module.get_sum.__signature__)
        import mcp.servers.memory as memory

        self.assertEqual(memory.EntitiesItem.__required_keys__, frozenset({"name", "entityType", "observations"}))

    def test_unknown_servers_say_what_to_do(self) -> None:
        servers = proxies.ServerMap(self.by_name, runtime.discovered_servers())
        with self.assertRaises(KeyError) as caught:
            servers["filesystem"]
        self.assertIn("MCP server 'filesystem' is not loaded in this run: add 'filesystem' to run_python's `servers`", str(caught.exception))
        with self.assertRaises(KeyError) as caught:
            servers["everythin"]
        self.assertIn("no MCP server 'everythin'; did you mean 'everything'?", str(caught.exception))
        with self.assertRaises(runtime.MCPError) as error:
            runtime.describe_server("memroy")
        self.assertIn("did you mean 'memory'?", str(error.exception))
        self.assertIs(servers["memory"], self.by_name["memory"])

    def test_stub_detail_is_answered_in_the_sandbox(self) -> None:
        source = asyncio.run(runtime.query_tool_docs("everything", detail="stub"))
        self.assertEqual(source, CASES[0]["stub"])
        self.assertEqual(runtime.query_tool_docs_sync("everything", "get-sum", detail="stub"), stubs.ServerStub(EVERYTHING).tool("get_sum").source + "\n")
        self.assertEqual(self.host.requests, [], "no round trip")
        with self.assertRaises(runtime.MCPError) as caught:
            runtime.query_tool_docs_sync("everything", "get_summ", detail="stub")
        self.assertIn("did you mean get_sum?", str(caught.exception))
        with self.assertRaises(runtime.MCPError) as caught:
            runtime.query_tool_docs_sync("filesystem", detail="stub")
        self.assertIn("add 'filesystem' to run_python's `servers`", str(caught.exception))

    def test_a_search_that_matched_nothing_says_so(self) -> None:
        self.host.answers["search_tool_docs"] = []
        hits = runtime.search_tool_docs_sync("frobnicate")
        self.assertEqual(hits, [])
        self.assertIn("no tool of everything, memory, edge-cases matched 'frobnicate'", repr(hits))
        self.assertIn("servers not loaded (add them to `servers` to search them): filesystem", str(hits))
        self.host.answers["search_tool_docs"] = [{"tool": "echo"}]
        self.assertEqual(repr(runtime.search_tool_docs_sync("echo")), "[{'tool': 'echo'}]")


class NameErrors(unittest.TestCase):
    """``mcp_x`` for a known server that the run did not load, through a real agent process."""

    def test_the_name_error_says_to_add_the_server(self) -> None:
        host = support.FakeHost()
        try:
            server = support.echo_server("everything", "everything")
            run = host.execute("await mcp_filesystem.read_text_file(path='/x')", servers=[server], discovered=["everything", "file-system", "filesystem"])
            self.assertEqual(run.error["type"], "NameError")
            self.assertIn("mcp_filesystem is MCP server 'filesystem', which this run did not load: add 'filesystem' to run_python's `servers`", run.error["message"])
            run = host.execute("mcp_everythin.echo", servers=[server], discovered=["everything"])
            self.assertIn("did you mean mcp_everything?", run.error["message"])
            run = host.execute("undefined_name", servers=[server], discovered=["everything"])
            self.assertEqual(run.error["message"], "name 'undefined_name' is not defined")
            run = host.execute("mcp_servers['file-system']", servers=[server], discovered=["everything", "file-system"])
            self.assertIn("add 'file-system' to run_python's `servers`", run.error["message"])
        finally:
            host.close()


if __name__ == "__main__":
    unittest.main()
