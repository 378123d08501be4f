// Bad input at every door: the run_python arguments (control API and MCP shim), the control API's
// HTTP itself, raw bytes on its socket, the daemon's environment and its MCP config files.
// docs/SECURITY.md: ids I1...
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ControlError } from '@mcp-code-mode/client';
import { availableEngines, sandboxesOf } from '../support/engines.ts';
import { CLI } from '../support/daemon-process.ts';
import { CASE, startHostileDaemon, type HostileDaemon } from '../support/hostile.ts';

const engines = await availableEngines({ bwrap: true });

interface RawAnswer {
  status: number;
  body: string;
}

/** One HTTP request on the control socket, on a fresh connection, whatever its shape. */
function raw(socketPath: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        agent: false,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Writes raw bytes to the socket and returns what comes back before the daemon closes (or 1 s). */
function junk(socketPath: string, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let got = '';
    const done = (): void => {
      socket.destroy();
      resolve(got);
    };
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(bytes);
    setTimeout(done, 1000).unref();
  });
}

function errorBody(answer: RawAnswer): { code: string; message: string } {
  return (JSON.parse(answer.body) as { error: { code: string; message: string } }).error;
}

for (const engine of engines) {
  describe(`hostile input on ${engine.name}`, () => {
    let h: HostileDaemon;
    const call = async (body: Record<string, unknown>) => (await h.daemon.client.run(body as never)).result;

    before(async () => {
      h = await startHostileDaemon(engine);
    });
    after(async () => {
      await h?.dispose();
    });

    test('I1 a missing or empty code is a validation_error naming code', CASE, async () => {
      for (const body of [{}, { code: '' }]) {
        const r = await call(body);
        assert.equal(r.status, 'validation_error', JSON.stringify(r));
        assert.match(r.error!.message, /^code: /);
        assert.equal(r.error?.type, 'ValidationError');
      }
      await h.recovered();
    });

    test('I2 code of the wrong type (number, list, null, object) is a validation_error', CASE, async () => {
      for (const code of [42, ['print(1)'], null, { source: 'print(1)' }]) {
        const r = await call({ code });
        assert.equal(r.status, 'validation_error', JSON.stringify(r));
        assert.match(r.error!.message, /^code: .*expected string/);
      }
      await h.recovered();
    });

    test('I3 a bad timeout is a validation_error; a huge one is clamped, not obeyed', CASE, async () => {
      for (const timeout of [-3, 0, 1.5, '10', true]) {
        const r = await call({ code: 'print(1)', timeout });
        assert.equal(r.status, 'validation_error', `${JSON.stringify(timeout)}: ${JSON.stringify(r)}`);
        assert.match(r.error!.message, /^timeout: /);
      }
      const clamped = await call({ code: 'print(1)', timeout: 10 ** 9 });
      assert.equal(clamped.status, 'success', JSON.stringify(clamped));
      await h.recovered();
    });

    test('I4 bad servers lists (not a list, not names, too many, unknown) are validation_errors', CASE, async () => {
      const cases: [unknown, RegExp][] = [
        ['hostile', /^servers: .*expected array/],
        [[1, 2], /^servers\.0: /],
        [[''], /^servers\.0: /],
        [Array.from({ length: 100 }, (_, i) => `s${i}`), /^servers: .*<=64/],
        [['no-such-server'], /^servers: unknown MCP server "no-such-server"/],
        [['missing'], /^servers: MCP server "missing" could not be started \(stdio: spawn \/nonexistent\/mcp-server-binary ENOENT\)/],
      ];
      for (const [servers, message] of cases) {
        const r = await call({ code: 'print(1)', servers });
        assert.equal(r.status, 'validation_error', JSON.stringify(r));
        assert.match(r.error!.message, message);
      }
      await h.recovered();
    });

    test('I5 unknown fields are ignored, not refused; the summary names the misspelt ones, not the client\'s own', CASE, async () => {
      const r = await call({ code: 'print(1)', timout: 5, server: ['hostile'], wait_for_previous: true });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.match(r.summary, /\(ignored unknown fields timout, server\)$/);
      assert.doesNotMatch(r.summary, /wait_for_previous/);
      await h.recovered();
    });

    test('I6 oversized code: over the code limit, or even over the body limit, is a validation_error naming MCP_BRIDGE_MAX_CODE_BYTES', CASE, async () => {
      const limit = 1024 * 1024;
      const r = await call({ code: `# ${'x'.repeat(limit)}\nprint(1)` });
      assert.equal(r.status, 'validation_error');
      assert.match(r.error!.message, new RegExp(`^code: \\d+ bytes is over the ${limit}-byte limit \\(MCP_BRIDGE_MAX_CODE_BYTES\\)$`));
      // A 16 MiB body: the daemon answers from the Content-Length alone, before reading it.
      const head = 'POST /v1/run HTTP/1.1\r\nHost: daemon\r\nContent-Type: application/json\r\nContent-Length: 16777216\r\n\r\n';
      const huge = await junk(h.daemon.socket, Buffer.from(head + '{"code": "' + 'x'.repeat(64 * 1024)));
      assert.match(huge, /^HTTP\/1\.1 200 /);
      assert.ok(huge.includes('"status":"validation_error"') && huge.includes('code: the request is 16777216 bytes') && huge.includes('(MCP_BRIDGE_MAX_CODE_BYTES)'), huge);
      await h.recovered();
    });

    test('I7 odd code: NUL bytes, lone surrogates, 50,000 lines get ordinary answers', CASE, async () => {
      const nul = await call({ code: 'print(1)\u0000' });
      assert.equal(nul.status, 'error');
      assert.equal(nul.error?.type, 'ValueError');
      assert.match(nul.error!.message, /null bytes/);
      // A lone surrogate in the source cannot be compiled; one made by an escape can be printed.
      const lone = await call({ code: 'print("\ud800")' });
      assert.equal(lone.status, 'error');
      assert.equal(lone.error?.type, 'UnicodeEncodeError');
      assert.match(lone.error!.message, /surrogates not allowed/);
      const escaped = await call({ code: 'print("\\ud800")' });
      assert.equal(escaped.status, 'success', JSON.stringify(escaped));
      assert.deepEqual(escaped.stdout, ['\\ud800']);
      const long = await call({ code: Array.from({ length: 50_000 }, (_, i) => `x${i} = ${i}`).join('\n') + '\nprint(x49999)' });
      assert.equal(long.status, 'success', long.summary);
      assert.deepEqual(long.stdout, ['49999']);
      await h.recovered();
    });

    test('I8 broken control API bodies get a 400 with the error catalogue\'s shape', CASE, async () => {
      const bodies: [string, Record<string, string>, RegExp][] = [
        ['{not json', {}, /^bad request: /],
        ['[1,2]', {}, /^invalid run request: body: .*expected object/],
        ['"print(1)"', {}, /^invalid run request: body: .*expected object/],
        ['', {}, /^bad request: /],
        ['code=print(1)', { 'content-type': 'text/plain' }, /^invalid run request: body: /],
        ['{"code": "print(1)", "__proto__": {"timeout": 1}}', {}, /^bad request: /],
        ['{"code": "print(1)", "constructor": {"prototype": {"polluted": 1}}}', {}, /^bad request: /],
        ['{"code": "print(1)", "outputMode": "xml"}', {}, /^invalid run request: outputMode: /],
      ];
      for (const [body, headers, message] of bodies) {
        const answer = await raw(h.daemon.socket, 'POST', '/v1/run', body, headers);
        assert.equal(answer.status, 400, `${body}: ${answer.body}`);
        const error = errorBody(answer);
        assert.equal(error.code, 'bad_request');
        assert.match(error.message, message);
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      await h.recovered();
    });

    test('I9 unknown endpoints, wrong methods and path tricks are 404 not_found', CASE, async () => {
      for (const [method, path] of [['GET', '/v1/run'], ['DELETE', '/v1/status'], ['GET', '/../../etc/passwd'], ['GET', '/v1/%2e%2e/%2e%2e/etc/passwd'], ['PUT', '/v1/shutdown']]) {
        const answer = await raw(h.daemon.socket, method!, path!);
        assert.equal(answer.status, 404, `${method} ${path}: ${answer.body}`);
        assert.equal(errorBody(answer).code, 'not_found');
      }
      assert.ok(await h.daemon.client.alive(), 'PUT /v1/shutdown did not stop the daemon');
      await h.recovered();
    });

    test('I10 garbage bytes on the Unix socket get a 400 and change nothing', CASE, async () => {
      // [bytes, whether the HTTP parser itself refuses them: then the answer is in the catalogue's shape]
      const garbage: [Buffer, boolean][] = [
        [Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a, 0x0d, 0x0a]), true],
        [Buffer.from('GET / HTTP/9.9\r\n\r\n'), true],
        [Buffer.from('POST /v1/run HTTP/1.1\r\nContent-Length: 99999999999\r\nContent-Type: application/json\r\n\r\n{"code":'), false],
        [Buffer.from(`GET /v1/status HTTP/1.1\r\nX-Big: ${'y'.repeat(64 * 1024)}\r\n\r\n`), true],
        [Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'), true],
      ];
      for (const [bytes, parserRefuses] of garbage) {
        const answer = await junk(h.daemon.socket, bytes);
        assert.ok(answer === '' || /^HTTP\/1\.1 4\d\d /.test(answer), JSON.stringify(answer.slice(0, 300)));
        if (parserRefuses && answer !== '') assert.match(answer, /"code":"bad_request"/, JSON.stringify(answer.slice(0, 300)));
      }
      assert.ok(await h.daemon.client.alive());
      await h.recovered();
    });

    test('I11 two hundred idle connections do not keep others out', CASE, async () => {
      const idle = Array.from({ length: 200 }, () => connect(h.daemon.socket).on('error', () => undefined));
      try {
        await new Promise((resolve) => setTimeout(resolve, 500));
        const r = await call({ code: 'print("served")' });
        assert.deepEqual(r.stdout, ['served']);
      } finally {
        for (const socket of idle) socket.destroy();
      }
      await h.recovered();
    });

    test('I12 a client that hangs up mid-run cancels the run; its container is removed', CASE, async () => {
      const controller = new AbortController();
      const running = h.daemon.client.run({ code: 'import time\nprint("started", flush=True)\ntime.sleep(600)', timeout: 120 }, { signal: controller.signal, onOutput: () => controller.abort() });
      await assert.rejects(running, (err: Error) => err.name === 'AbortError');
      // Before the timeout could end it, the run's container is gone: the engine settles to the pool.
      await h.recovered();
      const status = (await h.daemon.client.get('/v1/status')) as { runs: { error: number } };
      assert.ok(status.runs.error >= 1, 'the cancelled run is counted as an error');
    });

    test('I13 malformed MCP config files are reported; the good servers still load', CASE, async () => {
      const status = (await h.daemon.client.get('/v1/status')) as { configProblems: { path: string; message: string }[]; servers: { name: string }[] };
      const paths = status.configProblems.map((p) => p.path);
      assert.ok(paths.some((p) => p.endsWith('broken.json')), JSON.stringify(status.configProblems));
      assert.ok(paths.some((p) => p.endsWith('wrong-types.json')), JSON.stringify(status.configProblems));
      assert.deepEqual(status.servers.map((s) => s.name).sort(), ['bystander', 'fragile', 'garbled', 'hostile', 'missing']);
      const r = await call({ code: 'print(1)', servers: ['half'] });
      assert.equal(r.status, 'validation_error');
      assert.match(r.error!.message, /unknown MCP server "half"/);
      await h.recovered();
    });

    test('I14 bad MCP_BRIDGE_* settings stop the daemon before it creates anything, naming them', CASE, async () => {
      const env = { ...h.daemon.env, MCP_BRIDGE_STATE_DIR: `${h.home}/other-state`, MCP_BRIDGE_MEMORY: 'lots', MCP_BRIDGE_PIDS: '-1' };
      const started = spawnSync(process.execPath, [CLI, 'daemon'], { env, encoding: 'utf8', timeout: 60_000 });
      assert.equal(started.status, 2, started.stderr);
      assert.match(started.stderr, /MCP_BRIDGE_MEMORY must be a size like 512m or 1g, got "lots"/);
      assert.match(started.stderr, /MCP_BRIDGE_PIDS must be a whole number/);
      await h.recovered();
    });

    test('I15 the MCP door: run_python with wrong argument types through the shim is a validation_error', CASE, async () => {
      const client = new Client({ name: 'hostile-suite', version: '1.0.0' });
      const env = { ...h.daemon.env, MCP_BRIDGE_STRUCTURED_CONTENT: '1' } as Record<string, string>;
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'shim'], env, stderr: 'ignore' }));
      try {
        for (const args of [{ code: 42 }, { code: 'print(1)', timeout: 'soon' }, { code: 'print(1)', servers: 'hostile' }, {}]) {
          const answer = (await client.callTool({ name: 'run_python', arguments: args as Record<string, unknown> })) as { isError?: boolean; structuredContent?: { status: string; error?: { message: string } } };
          assert.equal(answer.isError, true, JSON.stringify(answer));
          assert.equal(answer.structuredContent?.status, 'validation_error', JSON.stringify(answer));
        }
        await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), /unknown tool "no_such_tool"/);
      } finally {
        await client.close();
      }
      await h.recovered();
    });

    test('I16 requests to a busy daemon beyond its queue are refused as busy, never lost', CASE, async () => {
      // This daemon's own pool: at most 8 containers (2 warm), 64 queued runs. 100 runs at once.
      const results = await Promise.allSettled(Array.from({ length: 100 }, () => h.daemon.client.run({ code: 'import time\ntime.sleep(1)\nprint("ok")', timeout: 120 })));
      let ok = 0;
      let busy = 0;
      for (const r of results) {
        if (r.status === 'fulfilled') {
          assert.equal(r.value.result.status, 'success', JSON.stringify(r.value.result));
          ok++;
        } else {
          assert.ok(r.reason instanceof ControlError, String(r.reason));
          assert.equal(r.reason.code, 'busy');
          assert.match(r.reason.message, /^all \d+ sandboxes are busy and \d+ runs are already waiting; retry shortly/);
          busy++;
        }
      }
      assert.equal(ok + busy, 100);
      assert.ok(busy > 0 && ok >= 64, `ok ${ok} busy ${busy}`);
      await h.recovered();
      assert.equal((await sandboxesOf(engine, h.daemon)).length, 2);
    });
  });
}
