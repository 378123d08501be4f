"""Framing and message shapes against the shared fixtures of packages/protocol."""

from __future__ import annotations

import json
import unittest

import support  # noqa: F401  (import paths)
from mcp_agent.capture import STREAM_CHUNK_BYTES, utf8_chunks
from mcp_agent.framing import MAX_FRAME_BYTES, FrameDecoder, FrameError, encode_frame
from mcp_agent.messages import AGENT_TYPES, HOST_TYPES, host_problem, problem
from support import fixture


def items_of(chunks: list, max_frame_bytes: int = MAX_FRAME_BYTES) -> list:
    """What the decoder yields from these chunks, in the terms of framing.json."""
    decoder = FrameDecoder(max_frame_bytes)
    out = []
    for chunk in chunks:
        for item in decoder.feed(chunk):
            out.append({"error": item.reason} if isinstance(item, FrameError) else {"frame": item})
    return out


def cut_at(data: bytes, offsets: list) -> list:
    edges = [0] + list(offsets) + [len(data)]
    return [data[start:end] for start, end in zip(edges, edges[1:])]


class SharedFramingCases(unittest.TestCase):
    def test_framing_cases_however_the_bytes_are_chunked(self) -> None:
        for case in fixture("framing.json")["cases"]:
            data = case["input"].encode("latin-1")
            cap = case.get("maxFrameBytes", MAX_FRAME_BYTES)
            ways = {"whole": [data], "byte by byte": [data[i : i + 1] for i in range(len(data))]}
            ways.update(("cut at %d" % at, cut_at(data, [at])) for at in range(1, len(data)))
            if "splits" in case:
                ways["cut at %s" % case["splits"]] = cut_at(data, case["splits"])
            for how, chunks in ways.items():
                with self.subTest(case["why"], how=how):
                    self.assertEqual(items_of(chunks, cap), case["items"])

    def test_a_frame_of_exactly_the_cap_is_read_and_sent_one_byte_more_is_refused(self) -> None:
        shared = fixture("framing.json")
        for case in shared["sized"]:
            with self.subTest(case["why"]):
                padding = case["frameBytes"] - 2 - len(shared["sizedPrefix"] + shared["sizedSuffix"])
                message = json.loads(shared["sizedPrefix"] + "x" * padding + shared["sizedSuffix"])
                body = json.dumps(message, separators=(",", ":")).encode("utf-8")
                data = b"\x1e" + body + b"\n"
                self.assertEqual(len(data), case["frameBytes"])
                chunks = cut_at(data, [1, 65536, len(data) - 1])
                if case["fits"]:
                    self.assertEqual(encode_frame(message), data)
                    self.assertEqual(items_of(chunks), [{"frame": message}])
                else:
                    with self.assertRaises(FrameError):
                        encode_frame(message)
                    self.assertEqual(items_of(chunks), [{"error": "too_large"}])

    def test_every_valid_frame_round_trips_and_validates(self) -> None:
        for message in fixture("valid.json"):
            with self.subTest(message["type"], id=message["id"]):
                frame = encode_frame(message)
                self.assertEqual(frame[:1], b"\x1e")
                self.assertEqual(frame[-1:], b"\n")
                self.assertNotIn(b"\n", frame[1:-1])
                self.assertEqual(FrameDecoder().feed(frame), [message])
                self.assertIsNone(problem(message))
                if message["type"] in HOST_TYPES:
                    self.assertIsNone(host_problem(message))

    def test_every_invalid_frame_is_rejected(self) -> None:
        for case in fixture("invalid.json"):
            with self.subTest(case["why"]):
                self.assertIsNotNone(problem(case["frame"]))
                # The agent only accepts host messages, so these must all be refused at its door.
                self.assertIsNotNone(host_problem(case["frame"]))

    def test_agent_types_are_not_accepted_from_the_host(self) -> None:
        for message in fixture("valid.json"):
            if message["type"] in AGENT_TYPES:
                self.assertIsNotNone(host_problem(message), message["type"])


class Decoder(unittest.TestCase):
    def test_frame_cut_short_by_a_new_frame_is_reported_then_resyncs(self) -> None:
        items = FrameDecoder().feed(b'\x1e{"v":1,\x1e{"v":1,"type":"ping","id":"b"}\n')
        self.assertIsInstance(items[0], FrameError)
        self.assertEqual(items[1], {"v": 1, "type": "ping", "id": "b"})

    def test_integral_numbers_are_integers_as_in_javascript(self) -> None:
        (message,) = FrameDecoder().feed(b'\x1e{"v":1.0,"type":"ping","id":"a","n":2e3,"f":0.5}\n')
        self.assertIs(type(message["v"]), int)
        self.assertIs(type(message["n"]), int)
        self.assertEqual(message["f"], 0.5)
        self.assertIsNone(host_problem(message))

    def test_non_json_frame_is_an_error_not_an_exception(self) -> None:
        items = FrameDecoder().feed(b"\x1enot json\n\x1e\xff\xfe\n")
        self.assertEqual(len(items), 2)
        self.assertTrue(all(isinstance(item, FrameError) for item in items))

    def test_oversized_frame_is_dropped_and_the_next_one_read(self) -> None:
        decoder = FrameDecoder(max_frame_bytes=64)
        big = b'\x1e{"v":1,"type":"ping","id":"' + b"x" * 100 + b'"}\n'
        items = decoder.feed(big + b'\x1e{"v":1,"type":"ping","id":"ok"}\n')
        self.assertIsInstance(items[0], FrameError)
        self.assertEqual(items[0].reason, "too_large")
        self.assertIn("larger than 64 bytes", str(items[0]))
        self.assertEqual(items[1]["id"], "ok")

    def test_frame_split_across_reads(self) -> None:
        decoder = FrameDecoder()
        frame = encode_frame({"v": 1, "type": "ping", "id": "\u00e9\u20ac"})
        self.assertEqual(decoder.feed(frame[:5]), [])
        self.assertEqual(decoder.feed(frame[5:]), [{"v": 1, "type": "ping", "id": "\u00e9\u20ac"}])


class Encoder(unittest.TestCase):
    def test_refuses_frames_over_the_limit(self) -> None:
        with self.assertRaises(FrameError):
            encode_frame({"data": "x" * MAX_FRAME_BYTES})

    def test_refuses_values_json_cannot_carry(self) -> None:
        with self.assertRaises(ValueError):
            encode_frame({"x": float("nan")})
        with self.assertRaises(TypeError):
            encode_frame({"x": b"bytes"})

    def test_lone_surrogates_travel_as_escapes(self) -> None:
        frame = encode_frame({"text": "bad \udc80 char"})
        self.assertEqual(json.loads(frame[1:-1].decode("ascii")), {"text": "bad \udc80 char"})

    def test_utf8_is_sent_raw(self) -> None:
        self.assertIn("\u20ac".encode("utf-8"), encode_frame({"t": "\u20ac"}))


class Messages(unittest.TestCase):
    def execute(self, **changes: object) -> dict:
        message = dict(fixture("valid.json")[4])
        message.update(changes)
        return message

    def test_nested_problems_name_their_path(self) -> None:
        servers = [{"name": "s", "alias": "class", "tools": []}]
        self.assertEqual(
            host_problem(self.execute(servers=servers)),
            "execute: servers[0].alias must not be a Python keyword",
        )
        servers = [{"name": "s", "alias": "s", "tools": [{"name": "t"}]}]
        self.assertEqual(host_problem(self.execute(servers=servers)), "execute: servers[0].tools[0].alias is missing")

    def test_null_descriptions_are_tolerated(self) -> None:
        servers = [{"name": "s", "alias": "s", "description": None, "tools": [{"name": "t", "alias": "t", "description": None}]}]
        self.assertIsNone(host_problem(self.execute(servers=servers)))

    def test_booleans_are_not_numbers(self) -> None:
        self.assertIsNotNone(host_problem({"v": True, "type": "ping", "id": "h"}))
        self.assertIsNotNone(host_problem(self.execute(maxOutputBytes=True)))

    def test_failed_rpc_result_needs_its_error(self) -> None:
        self.assertIsNotNone(host_problem({"v": 1, "type": "rpc_result", "id": "h", "re": "a1", "ok": False}))


class Chunks(unittest.TestCase):
    def test_chunks_stay_under_the_limit_and_never_split_a_character(self) -> None:
        text = "a" + "\u20ac" * 10000 + "\U0001f600" * 5000
        pieces = utf8_chunks(text)
        self.assertEqual("".join(pieces), text)
        self.assertTrue(all(len(piece.encode("utf-8")) <= STREAM_CHUNK_BYTES for piece in pieces))
        self.assertGreater(len(pieces), 2)

    def test_empty_text_gives_no_chunk(self) -> None:
        self.assertEqual(utf8_chunks(""), [])


if __name__ == "__main__":
    unittest.main()
