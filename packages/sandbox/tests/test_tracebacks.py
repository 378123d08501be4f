"""Bounded tracebacks: deep recursion and long chains are cut, ordinary tracebacks print as Python's."""

from __future__ import annotations

import sys
import time
import traceback
import unittest

import support  # noqa: F401  (import paths)
from mcp_agent.tracebacks import KEPT_EXCEPTIONS, user_traceback
from support import FakeHost


def recurse(depth: int) -> None:
    if depth > 0:
        recurse(depth - 1)
    else:
        raise RecursionError("bottom")


def deep_error(depth: int) -> BaseException:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 1000)
    try:
        recurse(depth)
    except RecursionError as exc:
        return exc
    finally:
        sys.setrecursionlimit(limit)
    raise AssertionError("no error")


# Below 3.11 every Python call also takes C stack: so deep a recursion would crash the test runner.
@unittest.skipUnless(sys.version_info >= (3, 11), "deep recursion needs Python 3.11's C-stack-free calls")
class DeepRecursion(unittest.TestCase):
    def test_300000_frames_are_cut_to_both_ends_well_under_a_second(self) -> None:
        exc = deep_error(300_000)
        started = time.monotonic()
        text = user_traceback(exc)
        elapsed = time.monotonic() - started
        # Python's own formatter took ~4 s here; the cut report is about a hundred times faster.
        self.assertLess(elapsed, 1.0)
        self.assertIn("  [... 299982 frames left out ...]\n", text)
        self.assertEqual(text.count("in recurse\n"), 3 + 3 + 1)  # three shown at each end (the rest "repeated"), and the raise
        self.assertTrue(text.startswith("Traceback (most recent call last):\n"), text[:200])
        self.assertIn("in deep_error\n", text.splitlines()[1] + "\n")  # the outermost frame is kept
        self.assertTrue(text.endswith('raise RecursionError("bottom")\nRecursionError: bottom\n'), text[-200:])

    def test_the_walk_is_bounded_and_says_the_innermost_were_not_reached(self) -> None:
        text = user_traceback(deep_error(5_000), max_walk=1_000)
        self.assertIn("  [... more than 990 frames left out; the innermost were not reached ...]\n", text)
        self.assertNotIn('raise RecursionError("bottom")', text)
        self.assertTrue(text.endswith("RecursionError: bottom\n"), text[-200:])

    def test_a_deep_member_of_an_exception_group_is_cut_too(self) -> None:
        group = BaseExceptionGroup("many", [deep_error(50_000), ValueError("shallow")])  # noqa: F821 - 3.11
        text = user_traceback(group)
        self.assertIn("[... 49982 frames left out ...]", text)
        self.assertIn("ValueError: shallow", text)


class Ordinary(unittest.TestCase):
    def test_a_short_traceback_with_a_cause_prints_exactly_as_python_does(self) -> None:
        try:
            try:
                {}["missing"]
            except KeyError as inner:
                raise ValueError("outer") from inner
        except ValueError as exc:
            original = exc.__traceback__
            self.assertEqual(user_traceback(exc), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            self.assertIs(exc.__traceback__, original)

    def test_a_long_chain_keeps_its_newest_exceptions_and_is_left_as_it_was(self) -> None:
        errors = []
        try:
            for index in range(50):
                try:
                    raise ValueError("error %d" % index)
                except ValueError as exc:
                    errors.append(exc)
                    if index == 49:
                        raise
        except ValueError:
            pass
        # Each error was raised while handling the one before it.
        for older, newer in zip(errors, errors[1:]):
            newer.__context__ = older
        contexts = [error.__context__ for error in errors]
        text = user_traceback(errors[-1])
        self.assertTrue(text.startswith("[... %d earlier exceptions of the chain left out ...]\n\n" % (50 - KEPT_EXCEPTIONS)), text[:200])
        self.assertEqual(text.count("Traceback (most recent call last):"), KEPT_EXCEPTIONS)
        self.assertIn("ValueError: error 49\n", text)
        self.assertIn("ValueError: error %d\n" % (50 - KEPT_EXCEPTIONS), text)
        self.assertNotIn("ValueError: error %d\n" % (49 - KEPT_EXCEPTIONS), text)
        self.assertEqual([error.__context__ for error in errors], contexts)

    def test_an_exception_that_refuses_a_traceback_still_gets_its_message(self) -> None:
        class Stubborn(Exception):
            def __setattr__(self, name: str, value: object) -> None:
                raise AttributeError("no")

        try:
            raise Stubborn("kept")
        except Stubborn as exc:
            text = user_traceback(exc)
        self.assertTrue(text.startswith("test_tracebacks.Ordinary"), text)
        self.assertIn("Stubborn: kept\n[traceback unavailable: AttributeError('no')]\n", text)

    def test_a_cycle_of_contexts_ends(self) -> None:
        first, second = ValueError("a"), ValueError("b")
        first.__context__, second.__context__ = second, first
        self.assertIn("ValueError: a", user_traceback(first))


@unittest.skipUnless(sys.version_info >= (3, 11), "deep recursion needs Python 3.11's C-stack-free calls")
class InTheAgent(unittest.TestCase):
    def test_a_recursion_error_300000_frames_deep_is_reported_with_its_ends(self) -> None:
        code = (
            "import sys\n"
            "sys.setrecursionlimit(300_100)\n"
            "def f(n):\n"
            "    return f(n + 1) if n < 300_000 else g()\n"
            "def g():\n"
            "    raise RecursionError('deep')\n"
            "f(0)\n"
        )
        host = FakeHost()
        try:
            run = host.execute(code, timeout=60)
        finally:
            host.close()
        self.assertEqual(run.error["type"], "RecursionError")
        traceback_text = run.error["traceback"]
        self.assertIn("  [... 299983 frames left out ...]\n", traceback_text)
        self.assertTrue(traceback_text.startswith('Traceback (most recent call last):\n  File "<run_python>", line 7, in <module>\n'), traceback_text[:300])
        self.assertTrue(traceback_text.endswith("line 6, in g\n    raise RecursionError('deep')\nRecursionError: deep\n"), traceback_text[-300:])
        self.assertNotIn("<agent>", traceback_text)


if __name__ == "__main__":
    unittest.main()
