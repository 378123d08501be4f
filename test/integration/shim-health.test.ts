import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DaemonStatusSchema } from '@mcp-code-mode/protocol';
import { statePaths } from '../../daemon/src/state-dir.ts';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { freePort } from '../support/ports.ts';

const engines = await availableEngines({ bwrap: true });
const EVERYTHING = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));
const ENV_SECRET = 's3cr3t-env-value-7f3a9c2e';
const HEADER_SECRET = 's3cr3t-header-value-b81d44';
const URL_SECRET = 'url-pass-93ac51';

/** Every TCP socket in LISTEN state on `port`, as `address` strings from /proc/net/tcp and tcp6. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue;
      const [address, p] = local.split(':');
      if (p === hexPort) found.push(`${file.endsWith('6') ? 'tcp6' : 'tcp'}:${address}`);
    }
  }
  return found;
}

/** This machine's own first non-loopback IPv4 address, if it has one. */
function ownNonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

for (const engine of engines) {
  describe(`health endpoint, status and secrets on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let port: number;
    const base = () => `http://127.0.0.1:${port}`;

    before(async () => {
      port = await freePort();
      const home = mkdtempSync(join(tmpdir(), 'mcm-home-'));
      const config = join(home, 'servers.json');
      writeFileSync(
        config,
        JSON.stringify({
          mcpServers: {
            everything: { command: process.execPath, args: [EVERYTHING], env: { SECRET_TOKEN: ENV_SECRET } },
            remote: { type: 'http', url: `http://user:${URL_SECRET}@127.0.0.1:9/mcp`, headers: { Authorization: `Bearer ${HEADER_SECRET}` } },
          },
        }),
      );
      daemon = await startDaemonProcess(engine, { HOME: home, MCP_SERVERS_CONFIG: config, MCP_BRIDGE_HTTP_PORT: String(port), MCP_BRIDGE_LOG_LEVEL: 'debug' });
      await waitWarm(daemon.client, 1);
    });
    after(async () => {
      await daemon?.[Symbol.asyncDispose]();
    });

    test('the socket is mode 0600 in a 0700 directory', () => {
      const paths = statePaths(daemon.env);
      assert.equal(statSync(paths.socket).mode & 0o777, 0o600);
      assert.equal(statSync(paths.dir).mode & 0o777, 0o700);
    });

    test('the health endpoint listens on 127.0.0.1 only', async () => {
      const status = DaemonStatusSchema.parse(await daemon.client.get('/v1/status'));
      assert.deepEqual(status.http, { enabled: true, address: '127.0.0.1', port });
      assert.deepEqual(listeners(port), ['tcp:0100007F'], 'one listening socket, on 127.0.0.1');
      const own = ownNonLoopbackAddress();
      if (own) {
        // The machine's own address: the connection must be refused, since nothing listens there.
        const refused = await new Promise<string>((resolve) => {
          const socket = connect({ host: own, port });
          socket.once('connect', () => {
            socket.destroy();
            resolve('connected');
          });
          socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
        assert.equal(refused, 'ECONNREFUSED', `connecting to ${own}:${port}`);
      }
    });

    test('/healthz, /status and /metrics answer; anything but GET is 405', async () => {
      const health = await fetch(`${base()}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');

      const status = DaemonStatusSchema.parse(await (await fetch(`${base()}/status`)).json());
      assert.ok(status.pool.warm >= 1);
      assert.equal(status.engine.name, engine.name === 'docker' ? 'docker' : status.engine.name);

      await daemon.client.run({ code: 'print(1)' });
      await daemon.client.run({ code: '1/0' });
      const metrics = await fetch(`${base()}/metrics`);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await metrics.text();
      assert.match(text, /^mcp_code_mode_runs_total\{status="success"\} [1-9]/m);
      assert.match(text, /^mcp_code_mode_runs_total\{status="error"\} [1-9]/m);
      assert.match(text, /^mcp_code_mode_run_duration_seconds_bucket\{le="\+Inf",status="success"\} [1-9]/m);
      assert.match(text, /^# TYPE mcp_code_mode_tool_call_duration_seconds histogram/m);
      assert.match(text, /^mcp_code_mode_pool_warm \d+/m);
      assert.match(text, /^mcp_code_mode_pool_busy \d+/m);

      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const res = await fetch(`${base()}/status`, { method, body: method === 'DELETE' ? null : '{}' });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.get('allow'), 'GET, HEAD');
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
      }
      const missing = await fetch(`${base()}/v1/run`);
      assert.equal(missing.status, 404);
    });

    test('a tool call from the sandbox shows in the tool-call latency histogram and the run counts', async () => {
      const r = await daemon.client.run({ code: 'r = await mcp_everything.echo(message="hi")\nprint(r)', servers: ['everything'] });
      assert.equal(r.result.status, 'success', r.text);
      const text = await (await fetch(`${base()}/metrics`)).text();
      assert.match(text, /^mcp_code_mode_tool_call_duration_seconds_count\{server="everything",outcome="ok"\} 1/m);
      const status = DaemonStatusSchema.parse(await daemon.client.get('/v1/status'));
      assert.equal(status.runs.toolCalls, 1);
      const everything = status.servers.find((s) => s.name === 'everything');
      assert.equal(everything?.state, 'connected');
      assert.ok((everything?.tools ?? 0) > 0);
    });

    test('/status (socket and HTTP) and the log show no env value, header or url password of any MCP server', async () => {
      // Make the remote server fail for real so its error message is in the status.
      await daemon.client.run({ code: 'print(1)', servers: ['remote'] });
      const bodies = [JSON.stringify(await daemon.client.get('/v1/status')), await (await fetch(`${base()}/status`)).text(), readFileSync(statePaths(daemon.env).logFile, 'utf8'), daemon.logs()];
      const status = DaemonStatusSchema.parse(JSON.parse(bodies[0]!));
      assert.deepEqual(status.servers.map((s) => s.name).sort(), ['everything', 'remote']);
      for (const body of bodies) {
        for (const secret of [ENV_SECRET, HEADER_SECRET, URL_SECRET]) assert.ok(!body.includes(secret), `a secret leaked: ${secret}`);
        assert.doesNotMatch(body, /SECRET_TOKEN/);
      }
    });
  });
}
