"""Shape checks of the messages of docs/PROTOCOL.md (the zod schemas' Python twin).

``problem(message)`` returns why a message is invalid, or None. Unknown extra fields are
allowed, so that a newer daemon can add optional fields without breaking older agents.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

from mcp_agent.framing import PROTOCOL_VERSION

HOST_TYPES = ("ping", "execute", "rpc_result")
AGENT_TYPES = ("ready", "pong", "stream", "result", "rpc", "rpc_cancel", "attachment")

# The limits and rules of packages/protocol/src/wire.ts; tests/test_catalogue.py checks them
# against the fixture generated from it.
MAX_ID_LENGTH = 128
MAX_METHOD_LENGTH = 64
MAX_ATTACHMENT_NAME_LENGTH = 255
# Frozen rather than read from `keyword.kwlist`, so that every Python version agrees with the
# daemon (`__peg_parser__` is a keyword of Python 3.9 only).
PYTHON_KEYWORDS = frozenset(
    "False None True and as assert async await break class continue def del elif else except "
    "finally for from global if import in is lambda nonlocal not or pass raise return try while "
    "with yield __peg_parser__".split()
)
# ASCII only: the daemon's aliases are, and Unicode identifiers differ between Pythons.
ALIAS_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A saved tool's name is also a file name on the host.
SKILL_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
# JavaScript's numbers hold integers exactly up to here, and zod's int() takes no more.
MAX_SAFE_INTEGER = 2**53 - 1

# A check returns None, or the complaint: either " must ..." or a nested path ("[2].alias must ..."),
# so that paths compose by concatenation: "servers[0].tools[1].alias must be ...".
Check = Callable[[Any], Optional[str]]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER


def _string(value: Any) -> Optional[str]:
    return None if isinstance(value, str) else " must be a string"


def _short_string(limit: int) -> Check:
    def check(value: Any) -> Optional[str]:
        # len() counts code points, as zod 4 does (not JavaScript's UTF-16 units).
        if isinstance(value, str) and 0 < len(value) <= limit:
            return None
        return " must be a non-empty string of at most %d characters" % limit

    return check


_id = _short_string(MAX_ID_LENGTH)


def _integer(value: Any) -> Optional[str]:
    return None if _is_int(value) else " must be an integer"


def _count(value: Any) -> Optional[str]:
    return None if _is_int(value) and value >= 0 else " must be a non-negative integer"


def _positive(value: Any) -> Optional[str]:
    return None if _is_int(value) and value > 0 else " must be a positive integer"


def _boolean(value: Any) -> Optional[str]:
    return None if isinstance(value, bool) else " must be a boolean"


def _object(value: Any) -> Optional[str]:
    return None if isinstance(value, dict) else " must be an object"


def _anything(value: Any) -> Optional[str]:
    return None


def _optional_string(value: Any) -> Optional[str]:
    # null is accepted too: a null description must not cost a whole run.
    return None if value is None or isinstance(value, str) else " must be a string"


def _optional_object(value: Any) -> Optional[str]:
    return None if value is None or isinstance(value, dict) else " must be an object"


def _named(pattern: "re.Pattern[str]", complaint: str) -> Check:
    def check(value: Any) -> Optional[str]:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            return complaint
        if value in PYTHON_KEYWORDS:
            return " must not be a Python keyword"
        return None

    return check


_alias = _named(ALIAS_PATTERN, " must be a Python identifier of ASCII letters, digits and _")
_skill_name = _named(SKILL_NAME_PATTERN, " must be ASCII letters, digits and _, starting with a letter, at most 64 characters")


def _one_of(*allowed: str) -> Check:
    def check(value: Any) -> Optional[str]:
        return None if value in allowed else " must be one of %s" % ", ".join(allowed)

    return check


def _list_of(item: Check) -> Check:
    def check(value: Any) -> Optional[str]:
        if not isinstance(value, list):
            return " must be a list"
        for index, element in enumerate(value):
            error = item(element)
            if error:
                return "[%d]%s" % (index, error)
        return None

    return check


Fields = Tuple[Tuple[str, Check, bool], ...]  # (name, check, required)


def _fields(value: Any, fields: Fields) -> Optional[str]:
    """The first complaint about the fields of an object, as "name must ..." or "name is missing"."""
    if not isinstance(value, dict):
        return " must be an object"
    for name, check, required in fields:
        if name not in value:
            if required:
                return name + " is missing"
            continue
        error = check(value[name])
        if error:
            return name + error
    return None


def _shape(fields: Fields) -> Check:
    def check(value: Any) -> Optional[str]:
        error = _fields(value, fields)
        return "." + error if error and not error.startswith(" ") else error

    return check


_TOOL = _shape(
    (
        ("name", _string, True),
        ("alias", _alias, True),
        ("description", _optional_string, False),
        ("inputSchema", _optional_object, False),
    )
)
_SERVER = _shape(
    (
        ("name", _string, True),
        ("alias", _alias, True),
        ("description", _optional_string, False),
        ("tools", _list_of(_TOOL), True),
    )
)
_SKILL = _shape((("name", _skill_name, True), ("source", _string, True)))
_ERROR_INFO = _shape((("type", _string, True), ("message", _string, True), ("traceback", _string, False)))
_DROPPED = _shape((("stdout", _count, True), ("stderr", _count, True)))
_LIMITS = _shape((("maxImages", _count, True), ("maxImageBytes", _positive, True), ("maxExportBytes", _count, True)))
_RPC_ERROR = _shape((("code", _string, True), ("message", _string, True)))

_MESSAGE_FIELDS: Dict[str, Fields] = {
    "ready": (("python", _string, True), ("pid", _integer, True), ("agent", _string, True)),
    "ping": (),
    "pong": (("re", _id, True),),
    "stream": (("re", _id, True), ("name", _one_of("stdout", "stderr"), True), ("data", _string, True)),
    "result": (
        ("re", _id, True),
        ("status", _one_of("success", "error"), True),
        ("exitCode", _integer, True),
        ("error", _ERROR_INFO, False),
        ("dropped", _DROPPED, False),
    ),
    "rpc": (("method", _short_string(MAX_METHOD_LENGTH), True), ("params", _object, True)),
    "rpc_cancel": (("re", _id, True),),
    "attachment": (
        ("re", _id, True),
        ("kind", _one_of("image", "file"), True),
        ("mimeType", _short_string(MAX_ATTACHMENT_NAME_LENGTH), True),
        ("name", _short_string(MAX_ATTACHMENT_NAME_LENGTH), True),
        ("data", _string, True),
        ("bytes", _count, True),
        ("width", _positive, False),
        ("height", _positive, False),
    ),
    "execute": (
        ("code", _string, True),
        ("servers", _list_of(_SERVER), True),
        ("discovered", _list_of(_string), True),
        ("maxOutputBytes", _positive, True),
        ("skills", _list_of(_SKILL), False),
        ("attachments", _LIMITS, False),
    ),
    # Its error is checked only when ok is false, as the zod union does: an answer that succeeded
    # carries no error to read.
    "rpc_result": (("re", _id, True), ("ok", _boolean, True), ("result", _anything, False)),
}


def problem(message: Any, allowed_types: Iterable[str] = HOST_TYPES + AGENT_TYPES) -> Optional[str]:
    """Why ``message`` is not a valid protocol message of one of ``allowed_types``, or None."""
    if not isinstance(message, dict):
        return "a message must be a JSON object"
    version = message.get("v")
    if not _is_int(version) or version != PROTOCOL_VERSION:
        return "unsupported protocol version %r (this agent speaks %d)" % (version, PROTOCOL_VERSION)
    kind = message.get("type")
    if kind not in _MESSAGE_FIELDS or kind not in tuple(allowed_types):
        return "unexpected message type %r" % (kind,)
    error = _id(message.get("id"))
    if error:
        return "id" + error
    error = _fields(message, _MESSAGE_FIELDS[kind])
    if not error and kind == "rpc_result" and message["ok"] is False:
        error = _fields(message, (("error", _RPC_ERROR, True),))
    if error:
        return "%s: %s" % (kind, error)
    return None


def host_problem(message: Any) -> Optional[str]:
    """``problem`` for what the daemon may send to the agent."""
    return problem(message, HOST_TYPES)
