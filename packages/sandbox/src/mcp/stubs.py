"""Python signatures and stub source for MCP tools, built from their JSON Schemas.

One pass over a server's tools gives, per tool, the ``inspect.Signature`` and docstring of its
proxy function and the stub text (``async def get_sum(*, a: float, b: float): ...`` with its docstring).
The daemon has a TypeScript twin of the text part (``daemon/src/upstreams/stubs.ts``); both are
checked against ``packages/protocol/fixtures/stubs/cases.json``, so a rule changed here must be
changed there. The rules:

Annotations. ``string``/``integer``/``number``/``boolean``/``null`` give ``str``/``int``/``float``/
``bool``/``None``; ``array`` gives ``List[items]``; an object with properties gives a TypedDict,
one without gives ``Dict[str, additionalProperties or Any]``; ``enum``/``const`` of strings,
integers, booleans and null give ``Literal[...]``; ``anyOf``/``oneOf`` and type lists give
``Optional[...]`` or ``Union[..., None]`` (members in order, duplicates dropped, ``Any`` absorbs
all); local ``$ref`` (``#/$defs/X``, ``#/definitions/X``) is followed, a cycle gives ``Any``;
anything else gives ``Any``. Written with ``typing`` names so that Python 3.9 reads them.

TypedDicts. Named after the property (``EntitiesItem`` for the items of ``entities``,
``...Value`` for additionalProperties, ``...OptionN`` for anyOf members when several are not
null, the def name for a ``$ref``); a name already taken gets the tool's name in front, then a
number. Equal schemas under the same name share one TypedDict. All keys required: ``class X(TypedDict)``; otherwise
``total=False`` with ``Required[...]`` on the required keys (``Required`` exists from Python
3.11; on older Pythons the runtime object simply leaves it out). Keys that are not identifiers
(``from``, ``user-id``) use the functional form ``X = TypedDict('X', {...})``.

Parameters. Keyword-only, in schema order. A property name that is not an ASCII identifier or
is a keyword gets an alias (``from`` -> ``from_``, ``user-id`` -> ``user_id``, numbered on a
clash) and the docstring says ``(sent as 'from')``. Required: no default. Optional: the schema
default, else ``= None``, which means "not sent" (the annotation stays as the schema gives it;
``Optional[...]`` only when the schema itself allows null, and then None is sent as null). A
schema without ``properties``, or with ``additionalProperties``, adds ``**kwargs``. No return
annotation (a tool result has no schema here).

Text, as compact as it can be without losing what a model needs. Literals and defaults are written
as Python's ``repr`` writes them. The docstring follows ``async def ...():`` on the same line and
closes on its last line; its lines after the first are indented by one space. Descriptions become
docstrings (parameters one line each: ``a: First number (>=1, <=10)``; constraints as ``>=``,
``<=``, ``>``, ``<`` for the bounds, ``len``/``items`` before the length bounds, ``format=``,
``pattern=``) and TypedDict fields get them as comments. The typing names imported are the used ones.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from mcp.aliases import KEYWORDS

# Every keyword a name could be, case included (aliases.KEYWORDS holds only the lower-case ones).
PYTHON_KEYWORDS = KEYWORDS | frozenset(("False", "None", "True"))
TYPING_NAMES = ("Any", "Dict", "List", "Literal", "Optional", "Required", "TypedDict", "Union")
# Attributes of the mcp.servers.<alias> module that a TypedDict must not take.
MODULE_NAMES = ("SERVER_NAME", "TOOLS", "TOOL_MAP")
# Each constraint key and how the docstring writes it before the value.
CONSTRAINTS = (
    ("format", "format="),
    ("pattern", "pattern="),
    ("minimum", ">="),
    ("maximum", "<="),
    ("exclusiveMinimum", ">"),
    ("exclusiveMaximum", "<"),
    ("minLength", "len>="),
    ("maxLength", "len<="),
    ("minItems", "items>="),
    ("maxItems", "items<="),
)
# Continuation lines of a tool's docstring (cleandoc takes any common indentation off again).
DOC_INDENT = " "

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NOT_IDENTIFIER_CHARS = re.compile(r"[^A-Za-z0-9_]+")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_BLANKS = re.compile(r"[\x00-\x20\x7f]+")
_LOCAL_REF = re.compile(r"^#/(\$defs|definitions)/([^/]+)$")
_REQUIRED = getattr(typing, "Required", None)
# JavaScript writes integral numbers below this as integers, so the daemon never sends 1.0.
_JS_INTEGER_LIMIT = 1e21


# ---- values as Python writes them ---------------------------------------------------------


def normalize(value: Any) -> Any:
    """A JSON value as the daemon's JavaScript would have sent it: integral floats become ints."""
    if isinstance(value, float) and value.is_integer() and abs(value) < _JS_INTEGER_LIMIT:
        return int(value)
    if isinstance(value, dict):
        return {key: normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalize(item) for item in value]
    return value


def pyrepr(value: Any) -> str:
    """``repr`` of a JSON value (the TypeScript twin reimplements Python's repr)."""
    return repr(normalize(value))


def _canonical(value: Any) -> str:
    return json.dumps(normalize(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _literal_able(value: Any) -> bool:
    value = normalize(value)
    return value is None or isinstance(value, (bool, str, int))


def _one_line(text: str) -> str:
    text = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    return _BLANKS.sub(" ", text).strip(" ")


def clean_doc(text: str) -> str:
    """A description as docstring text: tabs become spaces (a tab's width would depend on the
    docstring's indentation), and only ASCII blanks are stripped (so both languages agree)."""
    return text.replace("\t", " ").strip(" \n\r\x0b\x0c")


def _escape_doc(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\t":
            out.append(ch)
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append("\\x%02x" % code)
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\u%04x" % code)
        else:
            out.append(ch)
    return "".join(out).replace('"""', '""\\"')


def docstring_source(text: str, indent: str) -> str:
    """``text`` as a docstring literal whose lines after the first are at ``indent`` and which
    closes on its last line; ``inspect.cleandoc`` gives ``text`` back."""
    # A closing quote of the text must not meet the closing quotes: escaped apart from the rest, so
    # that it cannot join an escaped triple quote before it either.
    tail = ""
    if text.endswith('"'):
        text, tail = text[:-1], '\\"'
    lines = (_escape_doc(text) + tail).split("\n")
    return '"""%s"""' % "\n".join(lines[:1] + [indent + line if line else "" for line in lines[1:]])


def camel(text: str) -> str:
    """``entity_type`` -> ``EntityType``: a class name from any property name (ASCII only)."""
    name = "".join(part[0].upper() + part[1:] for part in _NOT_ALNUM.split(text) if part) or "Object"
    return "T" + name if name[0].isdigit() else name


def is_identifier(name: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(name)) and name not in PYTHON_KEYWORDS


def parameter_aliases(names: Sequence[str]) -> List[str]:
    """A parameter name per property: itself when it is an identifier, else a numbered alias."""
    taken: Set[str] = {name for name in names if is_identifier(name)}
    aliases: List[str] = []
    for name in names:
        if is_identifier(name):
            aliases.append(name)
            continue
        base = _NOT_IDENTIFIER_CHARS.sub("_", name) or "_"
        if base[0].isdigit():
            base = "_" + base
        if base in PYTHON_KEYWORDS:
            base += "_"
        alias, number = base, 2
        while alias in taken:
            alias, number = "%s_%d" % (base, number), number + 1
        taken.add(alias)
        aliases.append(alias)
    return aliases


# ---- annotations ----------------------------------------------------------------------------


class Annotation:
    """One annotation as stub text and as a typing object; ``parts`` are its union members."""

    __slots__ = ("text", "obj", "parts", "nullable", "uses")

    def __init__(
        self,
        text: str,
        obj: Any,
        nullable: bool = False,
        parts: Optional[Tuple["Annotation", ...]] = None,
        uses: Tuple[str, ...] = (),
    ) -> None:
        self.text = text
        self.obj = obj
        self.nullable = nullable
        self.parts = parts if parts is not None else (self,)
        self.uses = uses  # the names this annotation needs: typing names and TypedDicts


ANY = Annotation("Any", Any, nullable=True, uses=("Any",))
NONE = Annotation("None", None, nullable=True)
_SCALARS = {
    "string": Annotation("str", str),
    "integer": Annotation("int", int),
    "number": Annotation("float", float),
    "boolean": Annotation("bool", bool),
    "null": NONE,
}


def _uses(*groups: Sequence[str]) -> Tuple[str, ...]:
    seen: Dict[str, None] = {}
    for group in groups:
        for name in group:
            seen[name] = None
    return tuple(seen)


def _literal(values: Sequence[Any]) -> Annotation:
    unique: Dict[Tuple[str, Any], Any] = {}
    for value in values:
        value = normalize(value)
        unique.setdefault((type(value).__name__, value), value)
    kept = tuple(unique.values())
    text = "Literal[%s]" % ", ".join(pyrepr(value) for value in kept)
    return Annotation(text, typing.Literal[kept], nullable=None in kept, uses=("Literal",))


def _list(item: Annotation) -> Annotation:
    return Annotation("List[%s]" % item.text, List[item.obj], uses=_uses(("List",), item.uses))


def _dict(value: Annotation) -> Annotation:
    return Annotation("Dict[str, %s]" % value.text, Dict[str, value.obj], uses=_uses(("Dict",), value.uses))


def union(members: Sequence[Annotation]) -> Annotation:
    parts: List[Annotation] = []
    for member in members:
        for part in member.parts:
            if all(part.text != kept.text for kept in parts):
                parts.append(part)
    if any(part is ANY or part.text == "Any" for part in parts):
        return ANY
    rest = [part for part in parts if part.text != "None"]
    has_none = len(rest) < len(parts)
    if not rest:
        return NONE
    if len(rest) == 1 and not has_none:
        return rest[0]
    uses = _uses(*(part.uses for part in rest))
    if len(rest) == 1:
        only = rest[0]
        return Annotation(
            "Optional[%s]" % only.text, Optional[only.obj], True, (only, NONE), _uses(("Optional",), uses)
        )
    text = "Union[%s%s]" % (", ".join(part.text for part in rest), ", None" if has_none else "")
    objs = tuple(part.obj for part in rest) + ((type(None),) if has_none else ())
    nullable = has_none or any(part.nullable for part in rest)
    return Annotation(text, typing.Union[objs], nullable, tuple(rest) + ((NONE,) if has_none else ()), _uses(("Union",), uses))


def note(schema: Any) -> str:
    """A property's description and constraints on one line, for docstrings and comments."""
    if not isinstance(schema, dict):
        return ""
    parts = []
    description = schema.get("description")
    if isinstance(description, str) and _one_line(description):
        parts.append(_one_line(description))
    constraints = [prefix + pyrepr(schema[key]) for key, prefix in CONSTRAINTS if key in schema]
    if constraints:
        parts.append("(%s)" % ", ".join(constraints))
    return " ".join(parts)


class TypedDictStub:
    """One TypedDict: its name, source text, runtime class, and the TypedDicts it needs."""

    __slots__ = ("name", "source", "obj", "needs")

    def __init__(self, name: str, source: str, obj: Any, needs: Tuple[str, ...]) -> None:
        self.name = name
        self.source = source
        self.obj = obj
        self.needs = needs


class _Context:
    __slots__ = ("tool_alias", "root", "index", "stack")

    def __init__(self, tool_alias: str, root: Mapping[str, Any], index: int) -> None:
        self.tool_alias = tool_alias
        self.root = root
        self.index = index
        self.stack: List[str] = []


# ---- tools ------------------------------------------------------------------------------------


class Parameter:
    __slots__ = ("name", "alias", "annotation", "required", "default", "has_default", "drop_none")

    def __init__(self, name: str, alias: str, annotation: Annotation, required: bool, default: Any, has_default: bool, drop_none: bool) -> None:
        self.name = name
        self.alias = alias
        self.annotation = annotation
        self.required = required
        self.default = default
        self.has_default = has_default
        # None for an optional argument whose schema does not allow null means "not given".
        self.drop_none = drop_none


class ToolStub:
    """A tool's Python face: signature (text and object), docstring, stub source, argument check."""

    def __init__(
        self,
        name: str,
        alias: str,
        parameters: List[Parameter],
        var_keyword: Optional[Tuple[str, Annotation]],
        doc: str,
        needs: Tuple[str, ...],
    ) -> None:
        self.name = name
        self.alias = alias
        self.parameters = parameters
        self.var_keyword = var_keyword
        self.doc = doc
        self.needs = needs  # TypedDicts, in definition order of the server
        self.by_keyword: Dict[str, Parameter] = {}
        for parameter in parameters:
            self.by_keyword[parameter.name] = parameter
            self.by_keyword[parameter.alias] = parameter
        items = ["*"] if parameters else []
        for parameter in parameters:
            item = "%s: %s" % (parameter.alias, parameter.annotation.text)
            items.append(item + (" = %s" % pyrepr(parameter.default) if parameter.has_default else ""))
        if var_keyword is not None:
            items.append("**%s: %s" % (var_keyword[0], var_keyword[1].text))
        self.signature_text = "(%s)" % ", ".join(items)
        self.source = "async def %s%s: %s" % (alias, self.signature_text, docstring_source(doc, DOC_INDENT))

    @property
    def signature(self) -> inspect.Signature:
        parameters = [
            inspect.Parameter(
                p.alias,
                inspect.Parameter.KEYWORD_ONLY,
                default=p.default if p.has_default else inspect.Parameter.empty,
                annotation=p.annotation.obj,
            )
            for p in self.parameters
        ]
        if self.var_keyword is not None:
            parameters.append(inspect.Parameter(self.var_keyword[0], inspect.Parameter.VAR_KEYWORD, annotation=self.var_keyword[1].obj))
        return inspect.Signature(parameters)

    def accepted(self) -> List[str]:
        return [parameter.alias for parameter in self.parameters]

    def arguments(self, keywords: Mapping[str, Any]) -> Tuple[Dict[str, Any], List[str], List[str]]:
        """The arguments to send under their schema names, the unknown keywords, the missing required ones."""
        arguments: Dict[str, Any] = {}
        unknown: List[str] = []
        for keyword, value in keywords.items():
            parameter = self.by_keyword.get(keyword)
            if parameter is None:
                if self.var_keyword is None:
                    unknown.append(keyword)
                else:
                    arguments[keyword] = value
            elif not (value is None and parameter.drop_none):
                arguments[parameter.name] = value
        missing = [p.alias for p in self.parameters if p.required and p.name not in arguments]
        return arguments, unknown, missing


class ServerStub:
    """All tools of one server, with the TypedDicts they share."""

    def __init__(self, server: Mapping[str, Any]) -> None:
        self.name = str(server["name"])
        self.alias = str(server["alias"])
        self.description = clean_doc(str(server.get("description") or ""))
        tools = list(server.get("tools") or ())
        self._taken: Set[str] = set(PYTHON_KEYWORDS) | set(TYPING_NAMES) | set(MODULE_NAMES)
        self._taken.update(str(tool["alias"]) for tool in tools)
        self._by_key: Dict[str, TypedDictStub] = {}
        self.typed_dicts: List[TypedDictStub] = []
        self._uses: Dict[str, None] = {}
        self.tools = [self._tool(tool, index) for index, tool in enumerate(tools)]

    # -- building

    def _tool(self, tool: Mapping[str, Any], index: int) -> ToolStub:
        name, alias = str(tool["name"]), str(tool["alias"])
        schema = tool.get("inputSchema")
        parameters: List[Parameter] = []
        var_keyword: Optional[Annotation] = None
        needs: Dict[str, None] = {}
        if not isinstance(schema, dict):
            var_keyword = ANY
        else:
            context = _Context(alias, schema, index)
            properties = schema.get("properties")
            required = schema.get("required")
            required_names = {item for item in required if isinstance(item, str)} if isinstance(required, list) else set()
            if isinstance(properties, dict):
                names = list(properties)
                for prop, prop_alias in zip(names, parameter_aliases(names)):
                    prop_schema = properties[prop]
                    annotation = self._annotation(prop_schema, camel(prop), context)
                    is_required = prop in required_names
                    default = normalize(prop_schema.get("default")) if isinstance(prop_schema, dict) else None
                    schema_default = not is_required and default is not None
                    parameters.append(
                        Parameter(
                            prop,
                            prop_alias,
                            annotation,
                            is_required,
                            default if schema_default else None,
                            has_default=not is_required,
                            drop_none=not is_required and not annotation.nullable,
                        )
                    )
                    self._note_uses(annotation, needs)
            extra = schema.get("additionalProperties")
            if not isinstance(properties, dict) or extra is True:
                var_keyword = ANY
            elif isinstance(extra, dict):
                var_keyword = self._annotation(extra, camel(alias) + "Value", context)
        var = None
        if var_keyword is not None:
            taken = {p.alias for p in parameters}
            var_name = "kwargs"
            while var_name in taken:
                var_name += "_"
            var = (var_name, var_keyword)
            self._note_uses(var_keyword, needs)
        order = [stub.name for stub in self.typed_dicts if stub.name in needs]
        return ToolStub(name, alias, parameters, var, self._doc(tool, parameters, schema), tuple(order))

    def _note_uses(self, annotation: Annotation, needs: Dict[str, None]) -> None:
        for name in annotation.uses:
            if name in TYPING_NAMES:
                self._uses[name] = None
            else:
                needs[name] = None
                for inner in self._typed_dict(name).needs:
                    needs[inner] = None

    def _typed_dict(self, name: str) -> TypedDictStub:
        return next(stub for stub in self.typed_dicts if stub.name == name)

    def _doc(self, tool: Mapping[str, Any], parameters: List[Parameter], schema: Any) -> str:
        description = clean_doc(str(tool.get("description") or ""))
        properties = schema.get("properties") if isinstance(schema, dict) else None
        lines = []
        for parameter in parameters:
            text = note(properties.get(parameter.name) if isinstance(properties, dict) else None)
            if parameter.alias != parameter.name:
                text = ("(sent as %s) %s" % (pyrepr(parameter.name), text)).rstrip(" ")
            if text:
                lines.append("%s: %s" % (parameter.alias, text))
        if lines:
            description = (description + "\n\n" if description else "") + "\n".join(lines)
        return description or "MCP tool %s of server %s." % (pyrepr(tool["name"]), pyrepr(self.name))

    def _annotation(self, schema: Any, hint: str, context: _Context) -> Annotation:
        if not isinstance(schema, dict):
            return ANY
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._ref(ref, context)
        if "const" in schema and _literal_able(schema["const"]):
            return _literal([schema["const"]])
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and all(_literal_able(value) for value in enum):
            return _literal(enum)
        for key in ("anyOf", "oneOf"):
            members = schema.get(key)
            if isinstance(members, list) and members:
                several = sum(1 for member in members if not _is_null(member)) > 1
                return union(
                    [self._annotation(m, hint + "Option%d" % (i + 1) if several else hint, context) for i, m in enumerate(members)]
                )
        kind = schema.get("type")
        if isinstance(kind, list):
            return union([self._typed(schema, item, hint, context) for item in kind]) if kind else ANY
        if isinstance(kind, str):
            return self._typed(schema, kind, hint, context)
        if isinstance(schema.get("properties"), dict):
            return self._typed(schema, "object", hint, context)
        if "items" in schema:
            return self._typed(schema, "array", hint, context)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            return self._annotation(all_of[0], hint, context)
        return ANY

    def _typed(self, schema: Mapping[str, Any], kind: Any, hint: str, context: _Context) -> Annotation:
        if not isinstance(kind, str):
            return ANY
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            items = schema.get("items")
            return _list(self._annotation(items, hint + "Item", context) if isinstance(items, dict) else ANY)
        if kind == "object":
            properties = schema.get("properties")
            if isinstance(properties, dict) and properties:
                return self._object(schema, properties, hint, context)
            extra = schema.get("additionalProperties")
            return _dict(self._annotation(extra, hint + "Value", context) if isinstance(extra, dict) else ANY)
        return ANY

    def _ref(self, ref: str, context: _Context) -> Annotation:
        match = _LOCAL_REF.fullmatch(ref)
        if not match or ref in context.stack:
            return ANY
        definitions = context.root.get(match.group(1))
        key = match.group(2).replace("~1", "/").replace("~0", "~")
        target = definitions.get(key) if isinstance(definitions, dict) else None
        if not isinstance(target, dict):
            return ANY
        context.stack.append(ref)
        try:
            return self._annotation(target, camel(key), context)
        finally:
            context.stack.pop()

    def _object(self, schema: Mapping[str, Any], properties: Mapping[str, Any], hint: str, context: _Context) -> Annotation:
        # Equal schemas under one name share a TypedDict; under another name they get their own,
        # so that a name always says what the object is.
        key = "%s:%s" % (hint, _canonical(schema))
        if '"$ref":' in key:  # refs resolve against their own tool's definitions
            key = "%d:%s" % (context.index, key)
        known = self._by_key.get(key)
        if known is None:
            known = self._define(schema, properties, hint, context)
            self._by_key[key] = known
        return Annotation(known.name, known.obj, uses=(known.name,))

    def _define(self, schema: Mapping[str, Any], properties: Mapping[str, Any], hint: str, context: _Context) -> TypedDictStub:
        required = schema.get("required")
        required_names = {item for item in required if isinstance(item, str)} if isinstance(required, list) else set()
        fields = [(prop, self._annotation(value, camel(prop), context), prop in required_names, note(value)) for prop, value in properties.items()]
        total = all(is_required for _, _, is_required, _ in fields)
        name = self._name(hint, context.tool_alias)
        needs: Dict[str, None] = {}
        objs: Dict[str, Any] = {}
        lines = []
        class_form = all(is_identifier(prop) for prop, _, _, _ in fields)
        for prop, annotation, is_required, comment in fields:
            for used in annotation.uses:
                if used in TYPING_NAMES:
                    self._uses[used] = None
                else:
                    needs.update((inner, None) for inner in self._typed_dict(used).needs)
                    needs[used] = None
            text = annotation.text
            obj = annotation.obj
            if not total and is_required:
                self._uses["Required"] = None
                text = "Required[%s]" % text
                obj = _REQUIRED[obj] if _REQUIRED is not None else obj
            objs[prop] = obj
            comment = "  # " + comment if comment else ""
            if class_form:
                lines.append("    %s: %s%s" % (prop, text, comment))
            else:
                lines.append("    %s: %s,%s" % (pyrepr(prop), text, comment))
        self._uses["TypedDict"] = None
        if class_form:
            source = "class %s(TypedDict%s):\n%s" % (name, "" if total else ", total=False", "\n".join(lines))
        else:
            source = "%s = TypedDict(%s, {\n%s\n}%s)" % (name, pyrepr(name), "\n".join(lines), "" if total else ", total=False")
        obj = typing.TypedDict(name, objs, total=total)  # type: ignore[operator]
        # So that inspect.signature and help() print the bare name, as the stub does.
        obj.__module__ = "builtins"
        stub = TypedDictStub(name, source, obj, tuple(needs))
        self.typed_dicts.append(stub)
        return stub

    def _name(self, hint: str, tool_alias: str) -> str:
        base = hint if hint not in self._taken else camel(tool_alias) + hint
        name, number = base, 2
        while name in self._taken:
            name, number = "%s%d" % (base, number), number + 1
        self._taken.add(name)
        return name

    # -- output

    def tool(self, name: str) -> Optional[ToolStub]:
        """A tool by its name or its alias."""
        for tool in self.tools:
            if tool.name == name:
                return tool
        return next((tool for tool in self.tools if tool.alias == name), None)

    def module_doc(self) -> str:
        head = "MCP server %s: await mcp_%s.<tool>(...)" % (pyrepr(self.name), self.alias)
        return head + ("\n\n" + self.description if self.description else "")

    def source(self) -> str:
        """The whole server as a stub module (the `.pyi` the daemon serves too)."""
        blocks = [docstring_source(self.module_doc(), "")]
        if self._uses:
            blocks.append("from typing import %s" % ", ".join(sorted(self._uses)))
        blocks += [stub.source for stub in self.typed_dicts]
        blocks += [tool.source for tool in self.tools]
        return "\n\n".join(blocks) + "\n"

    def tool_source(self, tool: ToolStub) -> str:
        """One tool's stub with the TypedDicts it needs."""
        blocks = [stub.source for stub in self.typed_dicts if stub.name in tool.needs]
        return "\n\n".join(blocks + [tool.source]) + "\n"


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"
