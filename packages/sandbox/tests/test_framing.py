"""Framing and message shapes against the shared fixtures of packages/protocol."""

from __future__ import annotations

import json
import unittest

import support  # noqa: F401  (import paths)
from mcp_agent.capture import STREAM_CHUNK_BYTES, utf8_chunks
from mcp_agent.framing import MAX_FRAME_BYTES, FrameDecoder, FrameError, encode_frame
from mcp_agent.messages import AGENT_TYPES, HOST_TYPES, host_problem, problem
from support import fixture


def frames_of(decoder: FrameDecoder, data: bytes, byte_by_byte: bool = False) -> list:
    if not byte_by_byte:
        return decoder.feed(data)
    out = []
    for index in range(len(data)):
        out.extend(decoder.feed(data[index : index + 1]))
    return out


class SharedFramingCases(unittest.TestCase):
    def test_framing_cases(self) -> None:
        for case in fixture("framing.json")["cases"]:
            data = case["input"].encode("latin-1")
            for byte_by_byte in (False, True):
                with self.subTest(case["why"], byte_by_byte=byte_by_byte):
                    self.assertEqual(frames_of(FrameDecoder(), data, byte_by_byte), case["frames"])

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

    def test_non_json_frame_is_an_error_not_an_exception(self) -> None:
        items = FrameDecoder().feed(b"\x1enot json\n\x1e\xff\xfe\n")
        self.assertEqual(len(items), 2)
        self.assertTrue(all(isinstance(item, FrameError) for item in items))

    def test_oversized_frame_is_dropped_and_the_next_one_read(self) -> None:
        decoder = FrameDecoder(max_frame_bytes=64)
        big = b'\x1e{"v":1,"type":"ping","id":"' + b"x" * 100 + b'"}\n'
        items = decoder.feed(big + b'\x1e{"v":1,"type":"ping","id":"ok"}\n')
        self.assertIsInstance(items[0], FrameError)
        self.assertIn("limit", str(items[0]))
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
            "execute: servers[0].alias must be a Python identifier that is not a keyword",
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
