"""Shape checks of the messages of docs/PROTOCOL.md (the zod schemas' Python twin).

``problem(message)`` returns why a message is invalid, or None. Unknown extra fields are
allowed, so that a newer daemon can add optional fields without breaking older agents.
"""

from __future__ import annotations

import keyword
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

from mcp_agent.framing import PROTOCOL_VERSION

HOST_TYPES = ("ping", "execute", "rpc_result")
AGENT_TYPES = ("ready", "pong", "stream", "result", "rpc", "rpc_cancel")

# A check returns None, or the complaint: either " must ..." or a nested path ("[2].alias must ..."),
# so that paths compose by concatenation: "servers[0].tools[1].alias must be ...".
Check = Callable[[Any], Optional[str]]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string(value: Any) -> Optional[str]:
    return None if isinstance(value, str) else " must be a string"


def _nonempty_string(value: Any) -> Optional[str]:
    return None if isinstance(value, str) and value else " must be a non-empty string"


def _integer(value: Any) -> Optional[str]:
    return None if _is_int(value) else " must be an integer"


def _count(value: Any) -> Optional[str]:
    return None if _is_int(value) and value >= 0 else " must be a non-negative integer"


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


def _identifier(value: Any) -> Optional[str]:
    if isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value):
        return None
    return " must be a Python identifier that is not a keyword"


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
        ("alias", _identifier, True),
        ("description", _optional_string, False),
        ("inputSchema", _optional_object, False),
    )
)
_SERVER = _shape(
    (
        ("name", _string, True),
        ("alias", _identifier, True),
        ("description", _optional_string, False),
        ("tools", _list_of(_TOOL), True),
    )
)
_SKILL = _shape((("name", _identifier, True), ("source", _string, True)))
_ERROR_INFO = _shape((("type", _string, True), ("message", _string, True), ("traceback", _string, False)))
_DROPPED = _shape((("stdout", _count, True), ("stderr", _count, True)))
_RPC_ERROR = _shape((("code", _string, True), ("message", _string, True)))

_MESSAGE_FIELDS: Dict[str, Fields] = {
    "ready": (("python", _string, True), ("pid", _integer, True), ("agent", _string, True)),
    "ping": (),
    "pong": (("re", _nonempty_string, True),),
    "stream": (("re", _nonempty_string, True), ("name", _one_of("stdout", "stderr"), True), ("data", _string, True)),
    "result": (
        ("re", _nonempty_string, True),
        ("status", _one_of("success", "error"), True),
        ("exitCode", _integer, True),
        ("error", _ERROR_INFO, False),
        ("dropped", _DROPPED, False),
    ),
    "rpc": (("method", _nonempty_string, True), ("params", _object, True)),
    "rpc_cancel": (("re", _nonempty_string, True),),
    "execute": (
        ("code", _string, True),
        ("servers", _list_of(_SERVER), True),
        ("discovered", _list_of(_string), True),
        ("maxOutputBytes", _count, True),
        ("skills", _list_of(_SKILL), False),
    ),
    "rpc_result": (
        ("re", _nonempty_string, True),
        ("ok", _boolean, True),
        ("result", _anything, False),
        ("error", _RPC_ERROR, False),
    ),
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
    error = _nonempty_string(message.get("id"))
    if error:
        return "id" + error
    error = _fields(message, _MESSAGE_FIELDS[kind])
    if error:
        return "%s: %s" % (kind, error)
    if kind == "rpc_result" and message["ok"] is False and "error" not in message:
        return "rpc_result: error is missing"
    return None


def host_problem(message: Any) -> Optional[str]:
    """``problem`` for what the daemon may send to the agent."""
    return problem(message, HOST_TYPES)
