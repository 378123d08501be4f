"""Tracebacks of run code as Python prints them, without the agent's frames, and bounded.

Code may raise the recursion limit (``sys.setrecursionlimit(10**6)``): Python 3.11 keeps plain
Python calls off the C stack, so a RecursionError can then carry a million frames, and
``traceback.TracebackException`` walks and formats every one of them (seconds per 100,000). Here
each traceback is cut before Python's formatter sees it: the first and last ``KEPT_FRAMES`` frames
stay, a line says how many were left out, and the walk down ``tb_next`` stops after ``MAX_WALK``
links. The chain of causes and contexts is cut the same way, to its last ``KEPT_EXCEPTIONS``.
"""

from __future__ import annotations

import collections
import traceback
import types
from typing import Any, Deque, Dict, List, Optional, Tuple

USER_FILENAME = "<run_python>"
AGENT_FILE_PREFIX = "<agent>/"

# Frames kept at each end of one traceback.
KEPT_FRAMES = 10
# Links of one traceback walked at most: a million take ~0.1 s; more than two million frames do not
# fit in the sandbox's default 512 MiB.
MAX_WALK = 2_000_000
# The agent's own frames come before the code's; a traceback with no code frame in its first links
# is shown from its start.
_LEADING_AGENT_LINKS = 64
# Exceptions of one chain (__cause__ / __context__) shown, the newest; and how far it is counted.
KEPT_EXCEPTIONS = 10
MAX_CHAIN_WALK = 100_000
# Group members cut, at most, over the whole report (Python shows 15 per group, 10 groups deep).
_MAX_MEMBERS = 1_000

# (frames kept before the cut, frames left out, whether the walk reached the innermost frame)
_Cut = Tuple[int, int, bool]


def user_traceback(exc: BaseException, max_walk: int = MAX_WALK) -> str:
    """The report of ``exc`` as Python would print it, without the agent's frames, and bounded."""
    cuts: Dict[int, _Cut] = {}
    undo: List[Tuple[BaseException, str, Any]] = []
    try:
        left_out = _cut_chain(exc, cuts, undo, max_walk, [_MAX_MEMBERS])
        summary = _summary(exc)
        _mark_cuts(summary, exc, cuts)
        text = "".join(summary.format())
    except Exception as error:  # noqa: BLE001 - an exception class of the code's may refuse anything
        return "".join(traceback.format_exception_only(type(exc), exc)) + "[traceback unavailable: %r]\n" % (error,)
    finally:
        for target, name, value in reversed(undo):
            try:
                setattr(target, name, value)
            except Exception:  # noqa: BLE001 - it took the value a moment ago; nothing to report to
                pass
    if left_out:
        text = "[... %s earlier exceptions of the chain left out ...]\n\n%s" % (left_out, text)
    return text


def _summary(exc: BaseException) -> traceback.TracebackException:
    try:
        # compact: only the causes and contexts that are printed are built.
        return traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
    except TypeError:  # Python 3.9 has no compact
        return traceback.TracebackException(type(exc), exc, exc.__traceback__)


def _cut_chain(
    exc: BaseException, cuts: Dict[int, _Cut], undo: List[Tuple[BaseException, str, Any]], max_walk: int, members: List[int]
) -> str:
    """Cut the traceback of every exception that will be printed from ``exc``; return how many
    older exceptions of its chain were left out ("" for none, "more than N" past the count)."""
    current: Optional[BaseException] = exc
    previous = exc
    shown = 0
    while current is not None and id(current) not in cuts:
        if shown == KEPT_EXCEPTIONS:
            return _drop_older(previous, undo)
        _cut_one(current, cuts, undo, max_walk)
        for member in getattr(current, "exceptions", None) or ():
            if members[0] <= 0:
                break
            members[0] -= 1
            if isinstance(member, BaseException):
                _cut_chain(member, cuts, undo, max_walk, members)
        shown += 1
        previous = current
        current = _older(current)
    return ""


def _older(exc: BaseException) -> Optional[BaseException]:
    """The exception Python prints before ``exc``: its cause, else its context unless suppressed."""
    if exc.__cause__ is not None:
        return exc.__cause__
    return None if exc.__suppress_context__ else exc.__context__


def _drop_older(newest_kept: BaseException, undo: List[Tuple[BaseException, str, Any]]) -> str:
    count = 0
    seen = set()
    current = _older(newest_kept)
    while current is not None and id(current) not in seen and count < MAX_CHAIN_WALK:
        seen.add(id(current))
        count += 1
        current = _older(current)
    for name in ("__cause__", "__context__"):
        undo.append((newest_kept, name, getattr(newest_kept, name)))
        setattr(newest_kept, name, None)
    return ("more than %d" % count) if current is not None and id(current) not in seen else str(count)


def _cut_one(exc: BaseException, cuts: Dict[int, _Cut], undo: List[Tuple[BaseException, str, Any]], max_walk: int) -> None:
    """Give ``exc``, for the time of the report, a short traceback: code frames only, both ends kept."""
    head, tail, left_out, complete = _frames(exc.__traceback__, max_walk)
    cuts[id(exc)] = (len(head), left_out, complete)
    chain: Optional[types.TracebackType] = None
    for link in reversed(head + tail):
        chain = types.TracebackType(chain, link.tb_frame, link.tb_lasti, link.tb_lineno)
    undo.append((exc, "__traceback__", exc.__traceback__))
    exc.__traceback__ = chain


def _frames(
    tb: Optional[types.TracebackType], max_walk: int
) -> Tuple[List[types.TracebackType], List[types.TracebackType], int, bool]:
    """The links to show (first ones, last ones), how many were left out between, and whether
    the walk reached the end; never more than ``max_walk`` links are walked."""
    # Everything before the first line of the code is the agent calling it.
    start, link, walked = tb, tb, 0
    while link is not None and walked < _LEADING_AGENT_LINKS:
        if link.tb_frame.f_code.co_filename == USER_FILENAME:
            start = link
            break
        link, walked = link.tb_next, walked + 1
    head: List[types.TracebackType] = []
    link, walked = start, 0
    while link is not None and len(head) < KEPT_FRAMES and walked < max_walk:
        if _shown(link):
            head.append(link)
        link, walked = link.tb_next, walked + 1
    # The hot loop of a deep traceback: one append and one attribute per link.
    last: Deque[types.TracebackType] = collections.deque(maxlen=3 * KEPT_FRAMES)
    budget = max_walk - walked
    rest = 0
    while link is not None and rest < budget:
        last.append(link)
        link = link.tb_next
        rest += 1
    if link is not None:
        # The last links walked are from the middle: showing them as the innermost would mislead.
        return head, [], rest, False
    tail = [kept for kept in last if _shown(kept)][-KEPT_FRAMES:]
    return head, tail, rest - len(tail), True


def _shown(link: types.TracebackType) -> bool:
    return not link.tb_frame.f_code.co_filename.startswith(AGENT_FILE_PREFIX)


def _mark_cuts(summary: traceback.TracebackException, exc: BaseException, cuts: Dict[int, _Cut]) -> None:
    """Put the "frames left out" line into each summary whose traceback was cut."""
    pending = [(summary, exc)]
    seen = set()
    while pending:
        report, error = pending.pop()
        if id(report) in seen:
            continue
        seen.add(id(report))
        cut = cuts.get(id(error))
        if cut is not None and (cut[1] or not cut[2]):
            report.stack = _CutStack(report.stack, *cut)
        for inner_report, inner_error in (
            (report.__cause__, error.__cause__),
            (report.__context__, error.__context__),
        ):
            if inner_report is not None and inner_error is not None:
                pending.append((inner_report, inner_error))
        members = getattr(error, "exceptions", None) or ()
        pending.extend(zip(getattr(report, "exceptions", None) or (), members))


class _CutStack(traceback.StackSummary):
    """A stack that prints a line for the frames left out between its first and last ones."""

    def __init__(self, frames: traceback.StackSummary, kept_first: int, left_out: int, complete: bool) -> None:
        super().__init__(frames)
        self._first = traceback.StackSummary.from_list(list(frames)[:kept_first])
        self._last = traceback.StackSummary.from_list(list(frames)[kept_first:])
        self._left_out = left_out
        self._complete = complete

    def format(self, **kwargs: Any) -> List[str]:  # kwargs: colorize, from Python 3.13
        lines = list(self._first.format(**kwargs))
        if self._complete:
            lines.append("  [... %d frames left out ...]\n" % self._left_out)
        else:
            lines.append("  [... more than %d frames left out; the innermost were not reached ...]\n" % self._left_out)
        lines.extend(self._last.format(**kwargs))
        return lines
