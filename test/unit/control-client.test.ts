// The shim's control client against a stand-in daemon on a Unix socket: how a broken connection is
// told apart before and after the daemon took the run.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ControlClient, ControlError } from '../../packages/client/src/control-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcm-control-client-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A stand-in daemon: `onRequest` gets the socket once a whole request head has arrived. */
async function standIn(onRequest: (socket: Socket, head: string) => void): Promise<{ socket: string; close: () => Promise<void> }> {
  const path = join(dir, `s${n++}.sock`);
  const server = createServer((socket) => {
    let seen = '';
    socket.on('data', (chunk) => {
      seen += chunk.toString('latin1');
      if (seen.includes('\r\n\r\n')) onRequest(socket, seen);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { socket: path, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const result = { status: 'success', summary: 'Success in 1 ms', exitCode: 0, stdout: ['hi'], stderr: [], servers: [], durationMs: 1, toolCalls: 0 };

test('a run is always asked for as a stream; output and the result are read from it', async () => {
  const heads: string[] = [];
  const d = await standIn((socket, head) => {
    heads.push(head);
    socket.end(
      'HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\nconnection: close\r\n\r\n' +
        `${JSON.stringify({ type: 'output', stream: 'stdout', text: 'hi\n' })}\n${JSON.stringify({ type: 'result', result, text: 'hi' })}\n`,
    );
  });
  try {
    const client = new ControlClient(d.socket);
    const answer = await client.run({ code: 'print("hi")' });
    assert.deepEqual(answer.result.stdout, ['hi']);
    assert.match(heads[0]!, /^accept: application\/x-ndjson$/im);
    const seen: string[] = [];
    await client.run({ code: 'print("hi")' }, { onOutput: (stream, text) => seen.push(`${stream}:${text}`) });
    assert.deepEqual(seen, ['stdout:hi\n']);
  } finally {
    await d.close();
  }
});

test('a connection closed before any answer is daemon_not_running: the run never started and may be sent again', async () => {
  const d = await standIn((socket) => socket.destroy());
  try {
    const err = await new ControlClient(d.socket).run({ code: 'print(1)' }).then(
      () => assert.fail('the run cannot succeed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ControlError, String(err));
    assert.equal(err.code, 'daemon_not_running');
    assert.match(err.message, /closed the connection before taking the run/);
  } finally {
    await d.close();
  }
});

test('a connection that breaks after the answer began is daemon_unreachable: the code may have run', async () => {
  const d = await standIn((socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n');
    setTimeout(() => socket.destroy(), 20);
  });
  try {
    const err = await new ControlClient(d.socket).run({ code: 'print(1)' }).then(
      () => assert.fail('the run cannot succeed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ControlError, String(err));
    assert.equal(err.code, 'daemon_unreachable');
    assert.match(err.message, /^the connection to the daemon at .* broke while it answered \(.+\): did it stop or crash\?$/);
  } finally {
    await d.close();
  }
});

test('a refusal before the run (busy, bad request) comes back as its catalogue code', async () => {
  const body = JSON.stringify({ error: { code: 'busy', message: 'the run queue is full (8 waiting)' } });
  const d = await standIn((socket) =>
    socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`),
  );
  try {
    await assert.rejects(new ControlClient(d.socket).run({ code: 'x' }), (e: unknown) => e instanceof ControlError && e.code === 'busy' && /queue is full/.test(e.message));
  } finally {
    await d.close();
  }
});

test('nothing listening on the socket is daemon_not_running with what to do', async () => {
  await assert.rejects(
    new ControlClient(join(dir, 'none.sock')).run({ code: 'x' }),
    (e: unknown) => e instanceof ControlError && e.code === 'daemon_not_running' && /mcp-code-mode start/.test(e.message),
  );
});
