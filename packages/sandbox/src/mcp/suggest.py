"""The closest names to a misspelt one, and the messages that name them.

Models guess names: ``get-sum`` for ``get_sum``, ``entitytype`` for ``entityType``, ``mcp_fs`` for
``mcp_filesystem``. A name that matches once case, ``-`` and ``_`` are ignored is the answer;
otherwise difflib's ratio picks the closest.
"""

from __future__ import annotations

import difflib
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from mcp.aliases import to_identifier

_SEPARATORS = re.compile(r"[-_\s.]+")
_NAME_ERROR = re.compile(r"name '([^']+)' is not defined")


def fold(name: str) -> str:
    return _SEPARATORS.sub("", name).lower()


def closest(word: str, candidates: Iterable[str], count: int = 1) -> List[str]:
    """Up to ``count`` candidates nearest to ``word``, best first."""
    by_fold: Dict[str, str] = {}
    for candidate in candidates:
        by_fold.setdefault(fold(candidate), candidate)
    folded = fold(word)
    if folded in by_fold:
        return [by_fold[folded]]
    return [by_fold[match] for match in difflib.get_close_matches(folded, list(by_fold), n=count, cutoff=0.6)]


def did_you_mean(word: str, candidates: Iterable[str], quote: bool = True, count: int = 1) -> str:
    """`` did you mean 'b'?`` (a leading space), or nothing when no candidate is close."""
    found = closest(word, candidates, count)
    if not found:
        return ""
    shown = [repr(name) if quote else name for name in found]
    return " did you mean %s?" % " or ".join(shown)


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def server_message(name: str, loaded: Sequence[Tuple[str, str]], discovered: Sequence[str]) -> str:
    """Why ``name`` is no server of this run: a known one to add to ``servers``, or the closest.

    ``loaded`` holds (name, alias) pairs; ``discovered`` every server name the host knows.
    """
    loaded_names = [server for server, _ in loaded]
    unloaded = [server for server in discovered if server not in loaded_names]
    match = next((server for server in unloaded if name in (server, to_identifier(server))), None)
    if match is not None:
        return "MCP server %r is not loaded in this run: add %r to run_python's `servers` (loaded: %s)" % (
            match,
            match,
            _listed(loaded_names),
        )
    candidates = loaded_names + [alias for _, alias in loaded] + unloaded
    hint = did_you_mean(name, candidates)
    return "no MCP server %r;%s loaded in this run: %s; others known: %s" % (
        name,
        hint + " Servers" if hint else " servers",
        _listed(loaded_names),
        _listed(unloaded),
    )


def name_error_hint(exc: NameError, loaded: Sequence[Tuple[str, str]], discovered: Sequence[str]) -> Optional[str]:
    """For ``mcp_<x>`` used without loading server x: what to add to ``servers``; else None."""
    name = getattr(exc, "name", None)  # Python 3.10+
    if not isinstance(name, str):
        match = _NAME_ERROR.search(str(exc))
        name = match.group(1) if match else None
    if not name or not name.startswith("mcp_"):
        return None
    wanted = name[len("mcp_") :]
    loaded_names = {server for server, _ in loaded}
    for server in discovered:
        if server not in loaded_names and wanted in (server, to_identifier(server)):
            return "%s is MCP server %r, which this run did not load: add %r to run_python's `servers`" % (name, server, server)
    aliases = ["mcp_" + alias for _, alias in loaded] + ["mcp_" + to_identifier(s) for s in discovered if s not in loaded_names]
    hint = did_you_mean(name, aliases, quote=False)
    if hint:
        return "%s is no server proxy;%s (a server not loaded must be added to run_python's `servers`)" % (name, hint)
    return None
