"""Python identifiers for MCP server and tool names.

The daemon computes the aliases it sends in each ``execute`` frame with a TypeScript twin of
this function; both are checked against ``tests/alias_cases.json``. The rules, in order:

1. every run of characters outside ``[0-9A-Za-z_]`` becomes one ``_`` (no trimming first);
2. the result is lower-cased (ASCII only, so both languages agree);
3. an empty result becomes ``_``; a leading digit gets a ``_`` prefix;
4. a Python keyword gets a ``_`` suffix;
5. within one list, a repeated alias becomes ``alias_2``, ``alias_3``... (the first free number,
   skipping aliases already taken, so the output never holds duplicates).
"""

from __future__ import annotations

import re
from typing import Iterable, List, Set

# Frozen here rather than read from `keyword.kwlist` so that every Python version (and the
# TypeScript twin) agrees. Only the lower-case keywords can survive step 2. `__peg_parser__`
# is a keyword of Python 3.9 only.
KEYWORDS = frozenset(
    "and as assert async await break class continue def del elif else except finally for "
    "from global if import in is lambda nonlocal not or pass raise return try while with "
    "yield __peg_parser__".split()
)

_NON_IDENTIFIER = re.compile(r"[^0-9A-Za-z_]+")


def to_identifier(name: str) -> str:
    """Rules 1 to 4: one name to a valid, non-keyword Python identifier."""
    alias = _NON_IDENTIFIER.sub("_", name).lower()
    if not alias:
        return "_"
    if alias[0].isdigit():
        alias = "_" + alias
    if alias in KEYWORDS:
        alias += "_"
    return alias


def make_aliases(names: Iterable[str]) -> List[str]:
    """All five rules: one alias per name, in order, with collisions numbered."""
    taken: Set[str] = set()
    aliases: List[str] = []
    for name in names:
        base = to_identifier(name)
        alias = base
        number = 2
        while alias in taken:
            alias = "%s_%d" % (base, number)
            number += 1
        taken.add(alias)
        aliases.append(alias)
    return aliases
