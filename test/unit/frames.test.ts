import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AgentFrameSchema, HostFrameSchema, MAX_FRAME_BYTES, WireFrameSchema } from '@mcp-code-mode/protocol';
import { encodeFrame, FrameDecoder } from '../../daemon/src/wire/frames.ts';

const fixtures = new URL('../../packages/protocol/fixtures/wire/', import.meta.url);
const read = (name: string) => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8'));

interface FramingCase {
  why: string;
  input: string;
  maxFrameBytes?: number;
  splits?: number[];
  items: ({ frame: unknown } | { error: string })[];
}

/** What the decoder yields from these chunks, in the fixture's terms (noise is left out). */
function decodeChunks(chunks: Buffer[], maxFrameBytes?: number): FramingCase['items'] {
  const decoder = new FrameDecoder(maxFrameBytes);
  return chunks.flatMap((chunk) =>
    decoder.push(chunk).flatMap((item): FramingCase['items'] => (item.kind === 'frame' ? [{ frame: item.value }] : item.kind === 'error' ? [{ error: item.reason }] : [])),
  );
}

function cutAt(bytes: Buffer, offsets: number[]): Buffer[] {
  const edges = [0, ...offsets, bytes.length];
  return edges.slice(1).map((end, i) => bytes.subarray(edges[i], end));
}

test('framing fixtures decode to the expected frames and errors, however the bytes are chunked', () => {
  const { cases } = read('framing.json') as { cases: FramingCase[] };
  for (const c of cases) {
    const bytes = Buffer.from(c.input, 'latin1');
    assert.deepEqual(decodeChunks([bytes], c.maxFrameBytes), c.items, `${c.why} (whole)`);
    assert.deepEqual(decodeChunks([...bytes].map((b) => Buffer.from([b])), c.maxFrameBytes), c.items, `${c.why} (byte by byte)`);
    for (let at = 1; at < bytes.length; at++) assert.deepEqual(decodeChunks(cutAt(bytes, [at]), c.maxFrameBytes), c.items, `${c.why} (cut at ${at})`);
    if (c.splits) assert.deepEqual(decodeChunks(cutAt(bytes, c.splits), c.maxFrameBytes), c.items, `${c.why} (cut at ${c.splits.join(', ')})`);
  }
});

test('a frame of exactly MAX_FRAME_BYTES is read and may be sent; one byte more is refused by both', () => {
  const fixture = read('framing.json') as { sizedPrefix: string; sizedSuffix: string; sized: { why: string; frameBytes: number; fits: boolean }[] };
  for (const { why, frameBytes, fits } of fixture.sized) {
    const padding = frameBytes - 2 - Buffer.byteLength(fixture.sizedPrefix + fixture.sizedSuffix);
    const message = JSON.parse(fixture.sizedPrefix + 'x'.repeat(padding) + fixture.sizedSuffix) as object;
    const bytes = encodeFrame(message);
    assert.equal(bytes.length, frameBytes, why);
    // The daemon's writer refuses a frame by this same comparison (Sandbox.send).
    assert.equal(bytes.length <= MAX_FRAME_BYTES, fits, why);
    assert.deepEqual(decodeChunks(cutAt(bytes, [1, 65536, bytes.length - 1])), fits ? [{ frame: message }] : [{ error: 'too_large' }], why);
  }
});

test('every valid fixture frame passes the schema and survives an encode/decode round trip', () => {
  for (const frame of read('valid.json')) {
    assert.ok(WireFrameSchema.safeParse(frame).success, JSON.stringify(frame));
    const items = new FrameDecoder().push(encodeFrame(frame));
    assert.deepEqual(items, [{ kind: 'frame', value: frame }]);
  }
});

test('every invalid fixture frame is refused by both directions', () => {
  for (const { why, frame } of read('invalid.json')) {
    assert.equal(AgentFrameSchema.safeParse(frame).success, false, why);
    assert.equal(HostFrameSchema.safeParse(frame).success, false, why);
  }
});

test('a frame split across many chunks is reassembled, byte by byte', () => {
  const frame = { v: 1, type: 'stream', id: 'a', re: 'h', name: 'stdout', data: 'héllo ✓\n' };
  const bytes = encodeFrame(frame);
  const decoder = new FrameDecoder();
  const out = [];
  for (const byte of bytes) out.push(...decoder.push(Buffer.from([byte])));
  assert.deepEqual(out, [{ kind: 'frame', value: frame }]);
});

test('an oversized frame is an error, is skipped, and the next frame still decodes', () => {
  const decoder = new FrameDecoder(64);
  const big = encodeFrame({ v: 1, type: 'ping', id: 'x'.repeat(200) });
  const small = encodeFrame({ v: 1, type: 'ping', id: 'ok' });
  const items = [...decoder.push(big.subarray(0, 100)), ...decoder.push(Buffer.concat([big.subarray(100), small]))];
  assert.equal(items.filter((i) => i.kind === 'error').length, 1);
  assert.deepEqual(items.filter((i) => i.kind === 'frame'), [{ kind: 'frame', value: { v: 1, type: 'ping', id: 'ok' } }]);
});

test('noise and broken JSON are reported, not thrown', () => {
  const items = new FrameDecoder().push(Buffer.from('junk\x1e{not json}\n'));
  assert.deepEqual(items[0], { kind: 'noise', bytes: 4 });
  assert.equal(items[1]?.kind, 'error');
  assert.match((items[1] as { message: string }).message, /not valid JSON/);
});
