"""The agent against catalogue.json, generated from packages/protocol: limits, frame types, RPC methods, error codes."""

from __future__ import annotations

import ast
import unittest
from pathlib import Path
from typing import Iterator, Set

import support  # noqa: F401  (import paths)
from mcp_agent import framing, messages
from support import SANDBOX, fixture

CATALOGUE = fixture("catalogue.json")


def _calls(name_of_call: Set[str]) -> Iterator[ast.Call]:
    """Every call in the agent's sources whose function (or method) is named one of these."""
    for path in sorted((SANDBOX / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call):
                function = node.func
                name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
                if name in name_of_call:
                    yield node


def _string(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    raise AssertionError("line %d: the code is not a string literal, so no test can check it" % node.lineno)


def codes_raised_by_the_agent() -> Set[str]:
    """The literal ``code=`` of every MCPError, MCPTimeoutError and failed resolve in the agent."""
    found = set()
    for call in _calls({"MCPError", "MCPTimeoutError", "resolve"}):
        for argument in call.keywords:
            if argument.arg == "code":
                found.add(_string(argument.value))
    return found


def methods_called_by_the_agent() -> Set[str]:
    return {_string(call.args[0]) for call in _calls({"request", "request_sync"}) if call.args}


class Catalogue(unittest.TestCase):
    def test_limits_are_protocols(self) -> None:
        limits = CATALOGUE["limits"]
        self.assertEqual(framing.PROTOCOL_VERSION, CATALOGUE["wireVersion"])
        self.assertEqual(framing.MAX_FRAME_BYTES, limits["maxFrameBytes"])
        self.assertEqual(framing.RECORD_SEPARATOR, limits["frameStart"])
        self.assertEqual(framing.LINE_FEED, limits["frameEnd"])
        self.assertEqual(messages.MAX_ID_LENGTH, limits["maxIdLength"])
        self.assertEqual(messages.MAX_METHOD_LENGTH, limits["maxMethodLength"])

    def test_name_rules_are_protocols(self) -> None:
        self.assertEqual(sorted(messages.PYTHON_KEYWORDS), sorted(CATALOGUE["pythonKeywords"]))
        self.assertEqual("^%s$" % messages.ALIAS_PATTERN.pattern, CATALOGUE["aliasPattern"])
        self.assertEqual("^%s$" % messages.SKILL_NAME_PATTERN.pattern, CATALOGUE["skillNamePattern"])

    def test_frame_types_are_protocols(self) -> None:
        self.assertEqual(list(messages.HOST_TYPES), CATALOGUE["hostTypes"])
        self.assertEqual(list(messages.AGENT_TYPES), CATALOGUE["agentTypes"])

    def test_the_agent_calls_every_rpc_method_and_no_other(self) -> None:
        self.assertEqual(methods_called_by_the_agent(), set(CATALOGUE["rpcMethods"]))

    def test_every_code_the_agent_raises_is_in_the_catalogue_as_the_agents(self) -> None:
        codes = CATALOGUE["rpcErrorCodes"]
        raised = codes_raised_by_the_agent()
        self.assertEqual(raised - set(codes), set(), "codes the agent raises that protocol does not list")
        for code in sorted(raised):
            self.assertIn(codes[code]["origin"], ("agent", "both"), code)
        listed = {code for code, entry in codes.items() if entry["origin"] in ("agent", "both")}
        self.assertEqual(listed - raised, set(), "codes protocol says the agent raises that it never does")

    def test_the_scan_finds_what_it_looks_for(self) -> None:
        # A scan that matched nothing would let both tests above pass on an empty set.
        self.assertIn("channel_closed", codes_raised_by_the_agent())
        self.assertIn("call_tool", methods_called_by_the_agent())


if __name__ == "__main__":
    unittest.main()
