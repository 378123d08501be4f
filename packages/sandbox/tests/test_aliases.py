"""Alias rules, against the cases the daemon's TypeScript twin is also tested with."""

from __future__ import annotations

import json
import keyword
import unittest
from pathlib import Path

import support  # noqa: F401  (import paths)
from mcp.aliases import make_aliases, to_identifier

CASES = json.loads((Path(__file__).parent / "alias_cases.json").read_text(encoding="utf-8"))


class Aliases(unittest.TestCase):
    def test_shared_cases(self) -> None:
        self.assertGreaterEqual(len(CASES), 10)
        for case in CASES:
            with self.subTest(case["names"]):
                self.assertEqual(make_aliases(case["names"]), case["aliases"])

    def test_every_alias_is_a_usable_unique_identifier(self) -> None:
        for case in CASES:
            aliases = case["aliases"]
            self.assertEqual(len(set(aliases)), len(aliases))
            for alias in aliases:
                self.assertTrue(alias.isidentifier() and not keyword.iskeyword(alias), alias)

    def test_every_python_keyword_is_covered(self) -> None:
        for word in keyword.kwlist:
            alias = to_identifier(word)
            self.assertFalse(keyword.iskeyword(alias), word)


if __name__ == "__main__":
    unittest.main()
