"""Tool results as plain JSON values that also allow attribute access (``x.k`` and ``x["k"]``)."""

from __future__ import annotations

from typing import Any, List


class AttrDict(dict):
    """A dict whose string keys are also attributes.

    Keys that clash with dict methods (``items``, ``keys``...) or are not identifiers stay
    reachable with ``x["key"]``. Still a real dict, so ``json.dumps`` and ``isinstance`` work.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        # Dunder lookups (copy, pickle, typing probes) must fail fast, never hit the data.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            keys = ", ".join(sorted(str(key) for key in self)[:20])
            raise AttributeError("no key %r (keys: %s)" % (name, keys or "none")) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> List[str]:
        keys = [key for key in self if isinstance(key, str) and key.isidentifier()]
        return sorted(set(dir(dict)) | set(keys))

    def __copy__(self) -> "AttrDict":
        return AttrDict(self)

    def __reduce__(self) -> Any:
        return (AttrDict, (dict(self),))


def wrap(value: Any) -> Any:
    """Turn every dict inside a JSON value into an AttrDict (lists are kept as lists)."""
    if isinstance(value, dict):
        return AttrDict((key, wrap(item)) for key, item in value.items())
    if isinstance(value, list):
        return [wrap(item) for item in value]
    return value
