// The daemon's side of images and exported files: the collector's caps (a sandbox is not trusted
// to keep them), the result's metadata, and the data beside it, through the real RunService on a
// scripted runtime; then the shim's MCP content and the TOON text's count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttachmentFrame, RunAttachment, RunResponse, RunResult } from '@mcp-code-mode/protocol';
import pino from 'pino';
import { SandboxPool } from '../../daemon/src/pool/sandbox-pool.ts';
import { RpcRouter } from '../../daemon/src/rpc/rpc-router.ts';
import { EmptyToolHost } from '../../daemon/src/rpc/tool-host.ts';
import { AttachmentCollector, EXPORT_URI_PREFIX } from '../../daemon/src/runs/attachments.ts';
import { renderResult } from '../../daemon/src/runs/render.ts';
import { RunService } from '../../daemon/src/runs/run-service.ts';
import { toToolResult } from '../../shim/src/server.ts';
import { FakeRuntime, type AgentScript } from '../support/fake-runtime.ts';

const LIMITS = { maxImages: 2, maxImageBytes: 100, maxExportBytes: 10 };

function frame(kind: 'image' | 'file', name: string, data: Buffer, extra: Partial<AttachmentFrame> = {}): AttachmentFrame {
  const mimeType = kind === 'image' ? 'image/png' : 'text/csv';
  return { v: 1, id: `a-${name}`, type: 'attachment', re: 'h1', kind, mimeType, name, data: data.toString('base64'), bytes: data.length, ...extra };
}

test('the collector keeps images and files within the caps and says why it dropped the rest', () => {
  const kept: RunAttachment[] = [];
  const collector = new AttachmentCollector(LIMITS, (a) => kept.push(a), 'run1');
  collector.add(frame('image', 'a.png', Buffer.alloc(50), { width: 3, height: 4 }));
  collector.add(frame('image', 'big.png', Buffer.alloc(101)));
  collector.add(frame('image', 'b.png', Buffer.alloc(10)));
  collector.add(frame('image', 'c.png', Buffer.alloc(10)));
  collector.add(frame('file', 'x.csv', Buffer.from('a,b\n')));
  collector.add(frame('file', 'y.csv', Buffer.from('0123456789')));
  collector.add(frame('file', 'x.csv', Buffer.from('1')));
  collector.add({ ...frame('file', 'lie.csv', Buffer.from('12')), bytes: 1 });
  collector.add(frame('image', 'text.png', Buffer.from('x'), { mimeType: 'text/html' }));
  const meta = collector.metadata();
  assert.deepEqual(meta.images, [
    { mimeType: 'image/png', bytes: 50, width: 3, height: 4 },
    { mimeType: 'image/png', bytes: 10 },
  ]);
  assert.deepEqual(meta.exports, [{ name: 'x.csv', uri: `${EXPORT_URI_PREFIX}run1/x.csv`, mimeType: 'text/csv', bytes: 4 }]);
  assert.deepEqual(meta.attachmentsRefused, [
    'image big.png: 101 bytes is over the 100-byte limit (MCP_BRIDGE_MAX_IMAGE_BYTES)',
    'image c.png: a run returns at most 2 images (MCP_BRIDGE_MAX_IMAGES)',
    "file y.csv: 10 bytes would take this run's exports past 10 bytes (MCP_BRIDGE_MAX_EXPORT_BYTES)",
    'file x.csv: the name is taken or holds a /',
    'lie.csv: its data is 2 bytes, not the 1 it claims',
    'text.png: text/html is not an image type',
  ]);
  assert.deepEqual(
    kept.map((a) => [a.kind, a.name, a.uri, Buffer.from(a.data, 'base64').length]),
    [
      ['image', undefined, undefined, 50],
      ['image', undefined, undefined, 10],
      ['file', 'x.csv', `${EXPORT_URI_PREFIX}run1/x.csv`, 4],
    ],
  );
});

test('a collector that was sent nothing adds nothing to the result', () => {
  assert.deepEqual(new AttachmentCollector(LIMITS).metadata(), {});
});

function setup(script: AgentScript) {
  const runtime = new FakeRuntime({ script });
  const log = pino({ level: 'silent' });
  const pool = new SandboxPool({ runtime, size: 1, max: 2, queueMax: 2, log, janitorMs: 60_000 });
  const limits = { defaultTimeoutSec: 5, maxTimeoutSec: 10, maxOutputBytes: 1024, maxCodeBytes: 2048, maxToolCalls: 3, maxConcurrentCalls: 2, attachments: LIMITS };
  const runs = new RunService({ pool, router: new RpcRouter({ host: new EmptyToolHost() }), limits, log });
  const alive = setInterval(() => undefined, 1000);
  return { runtime, runs, close: async () => (await pool.close(), clearInterval(alive)) };
}

test('the caps reach the agent in execute; images sent before a timeout come back with the output', async () => {
  const t = setup((agent, execute) => {
    agent.print(execute.id, 'drawing\n');
    const png = Buffer.alloc(20, 1);
    agent.send({ type: 'attachment', re: execute.id, kind: 'image', mimeType: 'image/png', name: 'figure-1.png', data: png.toString('base64'), bytes: 20, width: 5, height: 6 });
    agent.send({ type: 'attachment', re: 'another-run', kind: 'image', mimeType: 'image/png', name: 'stray.png', data: '', bytes: 0 });
    // and then hangs
  });
  const kept: RunAttachment[] = [];
  const result = await t.runs.run({ code: 'hang', timeout: 1 }, { onAttachment: (a) => kept.push(a) });
  const execute = t.runtime.executed()[0]!.received.find((f) => f.type === 'execute');
  assert.deepEqual(execute && 'attachments' in execute ? execute.attachments : undefined, LIMITS);
  assert.equal(result.status, 'timeout');
  assert.deepEqual(result.stdout, ['drawing']);
  assert.deepEqual(result.images, [{ mimeType: 'image/png', bytes: 20, width: 5, height: 6 }]);
  assert.deepEqual(kept, [{ kind: 'image', mimeType: 'image/png', data: Buffer.alloc(20, 1).toString('base64') }]);
  await t.close();
});

const withAttachments: RunResult = {
  status: 'success',
  summary: 'Success in 1 ms',
  exitCode: 0,
  stdout: ['done'],
  stderr: [],
  servers: [],
  durationMs: 1,
  toolCalls: 0,
  images: [{ mimeType: 'image/png', bytes: 3, width: 1, height: 1 }],
  exports: [
    { name: 'a.csv', uri: 'mcp-code-mode://exports/r/a.csv', mimeType: 'text/csv', bytes: 4 },
    { name: 'b.bin', uri: 'mcp-code-mode://exports/r/b.bin', mimeType: 'application/octet-stream', bytes: 2 },
  ],
};

test('the text says how many images and files follow, in every output mode', () => {
  assert.match(renderResult(withAttachments, 'toon'), /attachments"?: ?"?1 image and 2 files follow/);
  assert.match(renderResult(withAttachments, 'compact'), /\[1 image and 2 files follow\]/);
  assert.match(renderResult({ ...withAttachments, exports: undefined }, 'json'), /"attachments": "1 image follows"/);
  assert.doesNotMatch(renderResult({ ...withAttachments, images: undefined, exports: undefined }, 'toon'), /follow/);
});

test('the shim returns the text, then an image per image and a resource per file: text for UTF-8 text, a blob otherwise', () => {
  const response: RunResponse = {
    result: withAttachments,
    text: 'the text',
    attachments: [
      { kind: 'image', mimeType: 'image/png', data: 'iVBO' },
      { kind: 'file', mimeType: 'text/csv', data: Buffer.from('a,b\n').toString('base64'), name: 'a.csv', uri: 'mcp-code-mode://exports/r/a.csv' },
      { kind: 'file', mimeType: 'application/octet-stream', data: Buffer.from([0, 255]).toString('base64'), name: 'b.bin', uri: 'mcp-code-mode://exports/r/b.bin' },
      { kind: 'file', mimeType: 'text/plain', data: Buffer.from([0xff, 0xfe]).toString('base64'), name: 'c.txt', uri: 'mcp-code-mode://exports/r/c.txt' },
    ],
  };
  const { content } = toToolResult(response);
  assert.deepEqual(content, [
    { type: 'text', text: 'the text' },
    { type: 'image', data: 'iVBO', mimeType: 'image/png' },
    { type: 'resource', resource: { uri: 'mcp-code-mode://exports/r/a.csv', mimeType: 'text/csv', text: 'a,b\n' } },
    { type: 'resource', resource: { uri: 'mcp-code-mode://exports/r/b.bin', mimeType: 'application/octet-stream', blob: 'AP8=' } },
    // Not UTF-8, whatever its type says: a blob.
    { type: 'resource', resource: { uri: 'mcp-code-mode://exports/r/c.txt', mimeType: 'text/plain', blob: '//4=' } },
  ]);
  assert.deepEqual(toToolResult({ result: withAttachments, text: 't' }).content, [{ type: 'text', text: 't' }]);
});

test('the CLI writes images and exports into the directory, under names that stay inside it', async () => {
  const { mkdtemp, readFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { writeAttachments } = await import('../../packages/cli/src/attachment-files.ts');
  const dir = await mkdtemp(join(tmpdir(), 'attachments-test-'));
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const paths = await writeAttachments(
    [
      { kind: 'image', mimeType: 'image/png', data: b64('png1') },
      { kind: 'file', mimeType: 'text/csv', data: b64('a,b\n'), name: 'out.csv' },
      { kind: 'file', mimeType: 'text/plain', data: b64('evil'), name: '../../etc/passwd' },
      { kind: 'image', mimeType: 'image/jpeg', data: b64('jpg') },
    ],
    join(dir, 'made'),
  );
  assert.deepEqual(paths, ['image-1.png', 'out.csv', 'passwd', 'image-2.jpg'].map((n) => join(dir, 'made', n)));
  assert.equal(await readFile(paths[1]!, 'utf8'), 'a,b\n');
  assert.deepEqual(await writeAttachments([]), []);
  await rm(dir, { recursive: true });
});
