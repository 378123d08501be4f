"""The source text of a function, for ``runtime.save_tool``.

``inspect.getsource`` cannot see functions defined in code that was compiled from a string (the
Python bridge's ``save_tool`` fails there), and in a session every run is compiled under the same
filename, so linecache only holds the latest one. The agent therefore records, for every code
object it compiles, the text it came from (``RunSources``); ``function_source`` parses that text
with ``ast`` and slices the function out by line numbers, decorators included, except the
``save_tool`` decorator itself (it would save the tool again on every import).

The function's source alone would lose the run's top-level imports, so the imports whose names
the function uses are put in front of it. Names it takes from the run's globals that are neither
imported nor builtins are returned as ``missing``, so ``save_tool`` can warn about them.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import textwrap
import types
from typing import Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

# Names every saved tool gets at import, as run code does: no import needed for these.
PROVIDED_NAMES = frozenset(("asyncio", "mcp", "mcp_servers", "LOADED_MCP_SERVERS"))
_SAVE_DECORATOR = "save_tool"
# Runs whose code objects are remembered in a session; older ones are forgotten (memory bound).
MAX_REMEMBERED_RUNS = 256


class ToolSourceError(ValueError):
    """The function cannot be saved; the message says why and what to do."""


class ToolSource(NamedTuple):
    name: str
    source: str
    docstring: str
    missing: Tuple[str, ...]


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


class RunSources:
    """Which run's text each compiled code object came from."""

    def __init__(self, limit: int = MAX_REMEMBERED_RUNS) -> None:
        self._limit = limit
        self._runs: List[Tuple[Tuple[types.CodeType, ...], str]] = []
        self._text: Dict[types.CodeType, str] = {}

    def add(self, compiled: types.CodeType, text: str) -> None:
        codes = tuple(_code_objects(compiled))
        for code in codes:
            self._text[code] = text
        self._runs.append((codes, text))
        if len(self._runs) > self._limit:
            old_codes, old_text = self._runs.pop(0)
            for code in old_codes:
                # Equal code objects of a later run re-registered their own text: keep that.
                if self._text.get(code) is old_text:
                    del self._text[code]

    def text_of(self, code: types.CodeType) -> Optional[str]:
        return self._text.get(code)


def _module_text(func: types.FunctionType, sources: Optional[RunSources]) -> str:
    code = func.__code__
    text = sources.text_of(code) if sources is not None else None
    if text is None:
        # Functions from files, and from saved tools (the library registers them with linecache).
        text = "".join(linecache.getlines(code.co_filename, func.__globals__))
    if not text:
        raise ToolSourceError(
            "cannot find the source of %s (defined in %s); define it with def in run_python code"
            % (func.__name__, code.co_filename)
        )
    return text


def _is_save_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id == _SAVE_DECORATOR
    return isinstance(target, ast.Attribute) and target.attr == _SAVE_DECORATOR


def _find_def(tree: ast.AST, code: types.CodeType) -> ast.AST:
    candidates = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
            starts = {node.lineno} | {d.lineno for d in node.decorator_list}
            if code.co_firstlineno in starts:
                return node
            candidates.append(node)
    if len(candidates) == 1:
        return candidates[0]
    raise ToolSourceError("cannot find the definition of %s in its source" % code.co_name)


def _names_used(node: ast.AST) -> Set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _names_bound_inside(node: ast.AST) -> Set[str]:
    bound: Set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            bound.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n is not node:
            bound.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
    return bound


def _imports_needed(tree: ast.Module, used: Set[str], lines: List[str]) -> Tuple[List[str], Set[str]]:
    """The run's top-level import statements that bind a name the function uses."""
    needed: List[str] = []
    provided: Set[str] = set()
    for stmt in tree.body:
        if not isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        binds = {(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"}
        if binds & used:
            needed.append("".join(lines[stmt.lineno - 1 : stmt.end_lineno]).strip())
            provided |= binds
    return needed, provided


def function_source(func: object, sources: Optional[RunSources] = None) -> ToolSource:
    """The text that, run as a module, defines ``func`` under its own name."""
    if not isinstance(func, types.FunctionType):
        raise ToolSourceError("save_tool takes a function defined with def, not %s" % type(func).__name__)
    code = func.__code__
    name = func.__name__
    if name == "<lambda>" or not name.isidentifier():
        raise ToolSourceError("save_tool needs a function defined with def and a name, not a lambda")
    if code.co_freevars:
        raise ToolSourceError(
            "%s uses variables of an enclosing function (%s); define it at the top level to save it"
            % (name, ", ".join(code.co_freevars))
        )
    text = _module_text(func, sources)
    lines = text.splitlines(True)
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ToolSourceError("the source of %s does not parse: %s" % (name, exc)) from None
    node = _find_def(tree, code)
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    dropped: Set[int] = set()
    for decorator in node.decorator_list:
        if _is_save_decorator(decorator):
            # The "@" sits on the decorator expression's first line.
            dropped.update(range(decorator.lineno, (decorator.end_lineno or decorator.lineno) + 1))
    body = [line for number, line in enumerate(lines[start - 1 : node.end_lineno], start) if number not in dropped]
    function_text = textwrap.dedent("".join(body))
    kept = [d for d in node.decorator_list if not _is_save_decorator(d)]
    parts: List[ast.AST] = [*node.body, node.args, *kept] + ([node.returns] if node.returns else [])
    used = set().union(*(_names_used(part) for part in parts)) - _names_bound_inside(node)
    imports, imported = _imports_needed(tree, used, lines)
    missing = sorted(
        n
        for n in used - imported - PROVIDED_NAMES - {name}
        if not n.startswith("mcp_") and not hasattr(builtins, n) and n in func.__globals__
    )
    source = "\n".join(imports + [""] * bool(imports) + [function_text.rstrip("\n")]) + "\n"
    return ToolSource(name=name, source=source, docstring=ast.get_docstring(node) or "", missing=tuple(missing))
