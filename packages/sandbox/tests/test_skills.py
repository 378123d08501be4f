"""Saved tools: source extraction for save_tool, the in-memory ``skills`` package, and both in a real agent."""

from __future__ import annotations

import ast
import sys
import textwrap
import unittest
from typing import Any, Dict, List

import support  # noqa: F401  (import paths)
from mcp_agent.skills import PACKAGE, SkillLibrary
from mcp_agent.tool_source import RunSources, ToolSourceError, function_source
from support import FakeHost

FILENAME = "<run_python>"


def define(code: str, sources: RunSources) -> Dict[str, Any]:
    """Compile and run ``code`` as the agent does (from a string, same filename every time)."""
    text = textwrap.dedent(code)
    compiled = compile(text, FILENAME, "exec", dont_inherit=True)
    sources.add(compiled, text)
    namespace: Dict[str, Any] = {"__name__": "__main__"}
    exec(compiled, namespace)
    return namespace


class FunctionSource(unittest.TestCase):
    def setUp(self) -> None:
        self.sources = RunSources()

    def test_a_function_defined_in_run_code_is_found_without_linecache(self) -> None:
        ns = define(
            '''
            x = 1
            def add(a, b):
                """Adds two numbers."""
                return a + b
            ''',
            self.sources,
        )
        found = function_source(ns["add"], self.sources)
        self.assertEqual(found.name, "add")
        self.assertEqual(found.docstring, "Adds two numbers.")
        self.assertEqual(found.source, 'def add(a, b):\n    """Adds two numbers."""\n    return a + b\n')
        self.assertEqual(found.missing, ())

    def test_each_run_of_a_session_keeps_its_own_text(self) -> None:
        first = define("def f():\n    return 'first'\n", self.sources)
        define("y = 2\n\n\ndef g():\n    return 'second'\n", self.sources)
        self.assertIn("return 'first'", function_source(first["f"], self.sources).source)

    def test_decorators_are_kept_but_save_tool_is_dropped(self) -> None:
        ns = define(
            """
            import functools
            def save_tool(f):
                return f
            class runtime:
                save_tool = staticmethod(save_tool)

            @runtime.save_tool
            @functools.lru_cache(maxsize=None)
            def square(n):
                return n * n

            @save_tool
            def cube(n):
                return n ** 3
            """,
            self.sources,
        )
        square = function_source(ns["square"].__wrapped__, self.sources)
        self.assertEqual(square.source, "import functools\n\n@functools.lru_cache(maxsize=None)\ndef square(n):\n    return n * n\n")
        cube = function_source(ns["cube"], self.sources)
        self.assertEqual(cube.source, "def cube(n):\n    return n ** 3\n")

    def test_async_and_indented_functions_are_dedented(self) -> None:
        ns = define(
            """
            if True:
                async def fetch(n):
                    return n
            """,
            self.sources,
        )
        found = function_source(ns["fetch"], self.sources)
        self.assertEqual(found.source, "async def fetch(n):\n    return n\n")
        ast.parse(found.source)

    def test_the_top_level_imports_it_uses_come_along(self) -> None:
        ns = define(
            """
            import csv, io
            import json as j
            from collections import Counter
            import os

            def count(text):
                rows = list(csv.reader(io.StringIO(text)))
                return j.dumps(Counter(r[0] for r in rows))
            """,
            self.sources,
        )
        found = function_source(ns["count"], self.sources)
        self.assertTrue(found.source.startswith("import csv, io\nimport json as j\nfrom collections import Counter\n\ndef count"))
        self.assertNotIn("import os", found.source)
        namespace: Dict[str, Any] = {}
        exec(found.source, namespace)
        self.assertEqual(namespace["count"]("a\na\nb\n"), '{"a": 2, "b": 1}')

    def test_run_globals_it_cannot_take_along_are_named(self) -> None:
        ns = define(
            """
            RATE = 3
            def helper(x):
                return x
            def scaled(x):
                local = x * RATE
                return helper(local) + len(mcp_servers) + sum([1])
            """,
            self.sources,
        )
        ns["mcp_servers"] = {}
        found = function_source(ns["scaled"], self.sources)
        self.assertEqual(found.missing, ("RATE", "helper"))

    def test_what_cannot_be_saved_says_why(self) -> None:
        ns = define(
            """
            square = lambda n: n * n
            def outer():
                k = 2
                def inner(n):
                    return n * k
                return inner
            """,
            self.sources,
        )
        with self.assertRaisesRegex(ToolSourceError, "lambda"):
            function_source(ns["square"], self.sources)
        with self.assertRaisesRegex(ToolSourceError, "enclosing function \\(k\\)"):
            function_source(ns["outer"](), self.sources)
        with self.assertRaisesRegex(ToolSourceError, "function defined with def"):
            function_source(len, self.sources)
        exec(compile("def ghost():\n    pass\n", "<nowhere>", "exec"), ns)
        with self.assertRaisesRegex(ToolSourceError, "cannot find the source of ghost"):
            function_source(ns["ghost"], self.sources)


class Library(unittest.TestCase):
    def setUp(self) -> None:
        self.library = SkillLibrary()
        self.saved_package = sys.modules.get(PACKAGE)
        sys.modules[PACKAGE] = self.library.package

    def tearDown(self) -> None:
        if self.saved_package is None:
            sys.modules.pop(PACKAGE, None)
        else:
            sys.modules[PACKAGE] = self.saved_package

    def test_from_skills_import_gives_the_function_lazily(self) -> None:
        self.library.replace([{"name": "add", "source": "def add(a, b):\n    'Adds.'\n    return a + b\n"}, {"name": "boom", "source": "raise RuntimeError('never loaded')\n"}])
        from skills import add  # type: ignore[import-not-found]

        self.assertEqual(add(2, 3), 5)
        self.assertEqual(dir(self.library.package), ["add", "boom"])

    def test_a_broken_tool_is_named_and_the_others_still_load(self) -> None:
        self.library.replace(
            [
                {"name": "good", "source": "def good():\n    'Works.'\n    return 'ok'\n"},
                {"name": "syntax", "source": "def syntax(:\n    pass\n"},
                {"name": "raises", "source": "import no_such_module_here\ndef raises():\n    pass\n"},
                {"name": "other", "source": "def not_the_name():\n    pass\n"},
            ]
        )
        with self.assertRaisesRegex(ImportError, "saved tool 'syntax' does not import: SyntaxError"):
            from skills import syntax  # type: ignore[import-not-found]  # noqa: F401
        with self.assertRaisesRegex(ImportError, "saved tool 'raises' does not import: ModuleNotFoundError"):
            from skills import raises  # type: ignore[import-not-found]  # noqa: F401
        from skills import good  # type: ignore[import-not-found]

        self.assertEqual(good(), "ok")
        listed = {name: self.library.describe(name) for name in self.library.names()}
        self.assertEqual(listed["good"], {"name": "good", "docstring": "Works."})
        self.assertIn("SyntaxError", listed["syntax"]["error"])
        self.assertIn("does not define a function other", listed["other"]["error"])

    def test_an_unknown_name_says_what_is_saved(self) -> None:
        self.library.replace([{"name": "add", "source": "def add():\n    pass\n"}])
        with self.assertRaisesRegex(ImportError, "no saved tool named 'nope' \\(saved: add\\)"):
            from skills import nope  # type: ignore[import-not-found]  # noqa: F401

    def test_a_changed_source_is_loaded_afresh_and_proxies_follow_the_run(self) -> None:
        self.library.replace([{"name": "who", "source": "def who():\n    return ('v1', mcp_x)\n"}])
        self.library.bind({"mcp_x": "proxy-1"})
        self.assertEqual(self.library.tool("who")(), ("v1", "proxy-1"))
        self.library.bind({"mcp_x": "proxy-2"})
        self.assertEqual(self.library.tool("who")(), ("v1", "proxy-2"))
        self.library.replace([{"name": "who", "source": "def who():\n    return 'v2'\n"}])
        self.assertEqual(self.library.tool("who")(), "v2")


class InTheAgent(unittest.TestCase):
    """save_tool and the skills package through a real agent process and the wire protocol."""

    def setUp(self) -> None:
        self.host = FakeHost()
        self.store: Dict[str, str] = {}
        self.calls: List[Dict[str, Any]] = []

    def tearDown(self) -> None:
        self.host.close()

    def on_rpc(self, host: FakeHost, rpc: Dict[str, Any]) -> None:
        self.calls.append(rpc)
        params = rpc["params"]
        if rpc["method"] == "save_tool":
            self.store[params["name"]] = params["source"]
            host.answer(rpc, {"saved": True, "name": params["name"]})
        elif rpc["method"] == "delete_saved_tool":
            host.answer(rpc, {"deleted": self.store.pop(params["name"], None) is not None})
        else:
            host.answer(rpc, error={"code": "unknown_method", "message": rpc["method"]})

    def run_code(self, code: str) -> Any:
        # FakeHost.execute sends no skills: add the store's to its execute frame.
        original = self.host.send

        def send(kind: str, **fields: Any) -> str:
            if kind == "execute":
                fields["skills"] = [{"name": n, "source": s} for n, s in sorted(self.store.items())]
            return original(kind, **fields)

        self.host.send = send  # type: ignore[method-assign]
        try:
            return self.host.execute(code, on_rpc=self.on_rpc)
        finally:
            self.host.send = original  # type: ignore[method-assign]

    def test_save_in_one_run_import_in_the_next(self) -> None:
        run = self.run_code(
            textwrap.dedent(
                '''
                import statistics
                from mcp import runtime

                @runtime.save_tool
                def spread(values):
                    """Max minus min, and the mean."""
                    return max(values) - min(values), statistics.mean(values)

                from skills import spread as same_run
                print(same_run([1, 5, 3]))
                '''
            )
        )
        self.assertEqual(run.result["status"], "success", run.result)
        self.assertEqual(run.stdout, "(4, 3)\n")
        self.assertEqual([c["method"] for c in self.calls], ["save_tool"])
        self.assertEqual(
            self.store["spread"],
            'import statistics\n\ndef spread(values):\n    """Max minus min, and the mean."""\n    return max(values) - min(values), statistics.mean(values)\n',
        )
        run = self.run_code("from skills import spread\nfrom mcp import runtime\nprint(spread([2, 4]))\nprint([dict(t) for t in runtime.list_saved_tools()])")
        self.assertEqual(run.result["status"], "success", run.result)
        self.assertEqual(run.stdout, "(2, 3)\n[{'name': 'spread', 'docstring': 'Max minus min, and the mean.'}]\n")

    def test_a_function_of_an_earlier_run_in_the_same_process_is_saved_from_its_own_text(self) -> None:
        self.run_code("def first():\n    return 1\n")
        self.run_code("x = 5\n\n\n\ndef second():\n    return 2\n")
        run = self.run_code("from mcp import runtime\nruntime.save_tool(first)\nruntime.save_tool(second)")
        self.assertEqual(run.result["status"], "success", run.result)
        self.assertEqual(self.store, {"first": "def first():\n    return 1\n", "second": "def second():\n    return 2\n"})

    def test_delete_and_a_broken_tool(self) -> None:
        self.store["broken"] = "def broken(:\n"
        self.store["fine"] = "def fine():\n    return 'fine'\n"
        run = self.run_code(
            textwrap.dedent(
                """
                from mcp import runtime
                from skills import fine
                print(fine())
                try:
                    from skills import broken
                except ImportError as e:
                    print("ImportError", "'broken'" in str(e))
                print(sorted((t.name, "error" in t) for t in runtime.list_saved_tools()))
                runtime.delete_saved_tool("broken")
                try:
                    runtime.delete_saved_tool("broken")
                except runtime.MCPError as e:
                    print(e.code)
                """
            )
        )
        self.assertEqual(run.result["status"], "success", run.result)
        self.assertEqual(run.stdout, "fine\nImportError True\n[('broken', True), ('fine', False)]\nunknown_saved_tool\n")
        self.assertEqual(sorted(self.store), ["fine"])

    def test_saving_a_lambda_fails_the_run_with_the_reason(self) -> None:
        run = self.run_code("from mcp import runtime\nruntime.save_tool(lambda: 1)")
        self.assertEqual(run.result["status"], "error")
        self.assertIn("lambda", run.error["message"])
        self.assertEqual(self.calls, [])


if __name__ == "__main__":
    unittest.main()
