import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AgentFrameSchema, HostFrameSchema, WireFrameSchema } from '@mcp-code-mode/protocol';
import { encodeFrame, FrameDecoder } from '../../daemon/src/wire/frames.ts';

const fixtures = new URL('../../packages/protocol/fixtures/wire/', import.meta.url);
const read = (name: string) => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8'));

test('framing fixtures decode to the expected frames', () => {
  for (const c of read('framing.json').cases) {
    const decoder = new FrameDecoder();
    const frames = decoder.push(Buffer.from(c.input, 'latin1')).filter((i) => i.kind === 'frame').map((i) => (i as { value: unknown }).value);
    assert.deepEqual(frames, c.frames, c.why);
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
