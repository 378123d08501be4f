import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DaemonStatus } from '@mcp-code-mode/protocol';
import { bridgeEnvironment, clientSnippet } from '../../packages/cli/src/client-config.ts';
import { formatChecks, runDoctor, type DoctorDeps } from '../../packages/cli/src/doctor.ts';
import { formatLogLine, logsCommand } from '../../packages/cli/src/logs.ts';
import { formatStatus } from '../../packages/cli/src/status-command.ts';

const status: DaemonStatus = {
  version: '0.1.0',
  pid: 4242,
  uptimeSec: 3725,
  rssBytes: 80 * 1024 * 1024,
  engine: { name: 'docker', version: '26.1.0', via: '/var/run/docker.sock' },
  image: 'python:3.12-slim',
  socket: '/s/daemon.sock',
  http: { enabled: false },
  pool: { warm: 2, starting: 0, busy: 1, removing: 0, queued: 0, target: 2, sleeping: false, created: 9, failedStarts: 0 },
  servers: [
    { name: 'github', transport: 'stdio', source: '/h/.claude.json', state: 'connected', tools: 12 },
    { name: 'api', transport: 'http', source: '/h/.cursor/mcp.json', state: 'failed', lastError: 'HTTP 401' },
  ],
  configProblems: [{ path: '/h/bad.json', message: 'not valid JSON' }],
  runs: { total: 7, success: 5, error: 1, timeout: 1, validation_error: 0, toolCalls: 30 },
};

test('status for a person: one fact a line, servers with state, problems last', () => {
  const text = formatStatus(status);
  assert.match(text, /^mcp-code-mode 0\.1\.0: running \(pid 4242, up 1h 2m, 80 MiB\)$/m);
  assert.match(text, /^pool\s+2 warm, 0 starting, 1 busy, 0 queued/m);
  assert.match(text, /^runs\s+7 \(5 success, 1 error, 1 timeout, 0 invalid\), 30 tool calls$/m);
  assert.match(text, /^health\s+disabled \(set MCP_BRIDGE_HTTP_PORT\)$/m);
  assert.match(text, /^ {2}github: connected \(stdio, 12 tools\) from \/h\/.claude.json$/m);
  assert.match(text, /^ {4}last error: HTTP 401$/m);
  assert.match(text.split('\n').at(-1)!, /^config problem: \/h\/bad.json: not valid JSON$/);
  assert.match(formatStatus({ ...status, http: { enabled: true, address: '127.0.0.1', port: 8787 } }), /^health\s+http:\/\/127\.0\.0\.1:8787\/healthz$/m);
});

test('a pino line for a person: time, level, message, fields; other lines as they are', () => {
  const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5), pid: 1, msg: 'warming failed', component: 'pool', err: { message: 'boom', stack: '...' } });
  assert.equal(formatLogLine(line), '2026-01-02T03:04:05.000Z WARN  warming failed component=pool err="boom"');
  assert.equal(formatLogLine('mcp-code-mode: no engine'), 'mcp-code-mode: no engine');
});

test('logs -n shows the last lines; -f follows what is appended until stopped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-logs-'));
  const env = { MCP_BRIDGE_STATE_DIR: dir };
  const file = join(dir, 'daemon.log');
  writeFileSync(file, ['one', 'two', 'three', ''].join('\n'));
  let out = '';
  const ctx = { env, stdout: { write: (t: string) => (out += t) }, stderr: { write: () => undefined } };
  assert.equal(await logsCommand(['-n', '2'], ctx), 0);
  assert.equal(out, 'two\nthree\n');
  out = '';
  const stop = new AbortController();
  const following = logsCommand(['-n', '0', '-f'], ctx, { pollMs: 10, signal: stop.signal });
  await new Promise((r) => setTimeout(r, 30));
  appendFileSync(file, 'four\nfi');
  await new Promise((r) => setTimeout(r, 30));
  appendFileSync(file, 've\n');
  await new Promise((r) => setTimeout(r, 30));
  stop.abort();
  await following;
  assert.equal(out, 'four\nfive\n');
  const missing = { ...ctx, env: { MCP_BRIDGE_STATE_DIR: join(dir, 'none') } };
  assert.equal(await logsCommand([], missing), 1);
});

test('client snippets: absolute paths, MCP_BRIDGE_* env only, the right file for each client', () => {
  const env = bridgeEnvironment({ MCP_BRIDGE_STATE_DIR: '/s', MCP_BRIDGE_HTTP_PORT: '8787', GITHUB_TOKEN: 'x', PATH: '/bin' });
  assert.deepEqual(env, { MCP_BRIDGE_STATE_DIR: '/s', MCP_BRIDGE_HTTP_PORT: '8787' });
  const input = { node: '/usr/bin/node', shim: '/opt/my repo/shim/bin/mcp-code-mode-shim.js', env, platform: 'darwin' as const };
  const desktop = clientSnippet({ ...input, client: 'claude-desktop' });
  assert.match(desktop, /Library\/Application Support\/Claude\/claude_desktop_config\.json/);
  assert.deepEqual(JSON.parse(desktop.slice(desktop.indexOf('{'))), {
    mcpServers: { 'mcp-code-mode': { command: '/usr/bin/node', args: ['/opt/my repo/shim/bin/mcp-code-mode-shim.js'], env } },
  });
  assert.match(clientSnippet({ ...input, client: 'cursor' }), /~\/\.cursor\/mcp\.json/);
  // Each client's snippet parsed as that client parses it: test/unit/client-config.test.ts.
  assert.doesNotMatch(clientSnippet({ ...input, env: {}, client: 'claude-desktop' }), /"env"/);
});

function doctorDeps(overrides: Partial<DoctorDeps> = {}): DoctorDeps {
  return {
    env: { MCP_BRIDGE_STATE_DIR: '/state' },
    uid: 1000,
    detect: async () => ({ flavour: 'docker', socketPath: '/var/run/docker.sock', source: 'the Docker socket' }),
    engine: () => ({ ping: async () => undefined, version: async () => ({ name: 'docker', version: '26.1', apiVersion: '1.45' }), imageLabels: async () => ({}), runtimes: async () => ['runc'] }),
    stat: async (path) => (path.endsWith('.sock') ? { mode: 0o140600, uid: 1000, isSocket: true, isDirectory: false } : { mode: 0o40700, uid: 1000, isSocket: false, isDirectory: true }),
    daemonStatus: async () => status,
    configProblems: async () => [],
    ...overrides,
  };
}

test('doctor: all well gives ok lines (failed MCP servers and config problems of the daemon are failures)', async () => {
  const checks = await runDoctor(doctorDeps({ daemonStatus: async () => ({ ...status, servers: [], configProblems: [] }) }));
  assert.deepEqual(checks.map((c) => [c.name, c.status]), [
    ['settings', 'ok'],
    ['engine', 'ok'],
    ['OCI runtime', 'ok'],
    ['image', 'ok'],
    ['state directory', 'ok'],
    ['daemon', 'ok'],
    ['MCP config', 'ok'],
  ]);
  const withProblems = await runDoctor(doctorDeps());
  assert.ok(withProblems.some((c) => c.name === 'MCP server api' && c.status === 'fail' && c.fix?.includes('.cursor/mcp.json')));
  assert.ok(withProblems.some((c) => c.name === 'MCP config' && c.status === 'fail' && c.detail.includes('/h/bad.json')));
});

test('doctor: each failing check says what to do', async () => {
  const checks = await runDoctor(
    doctorDeps({
      env: { MCP_BRIDGE_STATE_DIR: '/state', MCP_BRIDGE_MEMORY: 'lots' },
      detect: async () => undefined,
      stat: async (path) => (path.endsWith('.sock') ? { mode: 0o140666, uid: 1000, isSocket: true, isDirectory: false } : { mode: 0o40755, uid: 1000, isSocket: false, isDirectory: true }),
      daemonStatus: async () => undefined,
      configProblems: async () => [{ path: '/h/.cursor/mcp.json', message: 'entry "x": command is missing' }],
    }),
  );
  const failing = checks.filter((c) => c.status === 'fail');
  assert.deepEqual(failing.map((c) => c.name), ['settings', 'engine', 'state directory', 'daemon', 'MCP config']);
  for (const c of failing) assert.ok(c.fix, `${c.name} has a fix`);
  assert.match(failing.find((c) => c.name === 'state directory')!.fix!, /^chmod 700 \/state$/);
  assert.match(failing.find((c) => c.name === 'daemon')!.fix!, /chmod 600/);
  const text = formatChecks(checks);
  assert.match(text, /^\[FAIL\] settings: MCP_BRIDGE_MEMORY/m);
  assert.match(text, /^ {7}fix: install and start Docker/m);
});

test('doctor: a missing image, or one that does not answer, or a stale socket', async () => {
  const noImage = await runDoctor(doctorDeps({ engine: () => ({ ping: async () => undefined, version: async () => ({ name: 'podman', version: '5', apiVersion: '1.41' }), imageLabels: async () => undefined, runtimes: async () => ['runc'] }) }));
  assert.match(noImage.find((c) => c.name === 'image')!.fix!, /mcp-code-mode image ensure/);
  const deadEngine = await runDoctor(doctorDeps({ engine: () => ({ ping: async () => Promise.reject(new Error('connect ECONNREFUSED')), version: async () => ({ name: '', version: '', apiVersion: '' }), imageLabels: async () => undefined, runtimes: async () => [] }) }));
  assert.equal(deadEngine.find((c) => c.name === 'engine')!.status, 'fail');
  assert.equal(deadEngine.find((c) => c.name === 'image')!.status, 'warn');
  const stale = await runDoctor(doctorDeps({ daemonStatus: async () => undefined }));
  assert.equal(stale.find((c) => c.name === 'daemon')!.status, 'warn');
  assert.match(stale.find((c) => c.name === 'daemon')!.detail, /no daemon answers/);
});

test('doctor: bwrap is checked; asked for and unusable it fails with a fix, and no engine is needed; as the fallback it only warns', async () => {
  const unusable = async () => ({ usable: false as const, reason: 'bwrap is not installed' });
  const asked = await runDoctor(doctorDeps({ env: { MCP_BRIDGE_STATE_DIR: '/state', MCP_BRIDGE_RUNTIME: 'bwrap' }, bwrap: unusable, detect: async () => undefined }));
  const bwrap = asked.find((c) => c.name === 'bwrap')!;
  assert.equal(bwrap.status, 'fail');
  assert.match(bwrap.fix!, /apt-get install -y bubblewrap/);
  assert.equal(asked.find((c) => c.name === 'engine')!.status, 'ok');
  const fallback = await runDoctor(doctorDeps({ bwrap: unusable }));
  assert.equal(fallback.find((c) => c.name === 'bwrap')!.status, 'warn');
  const usable = (trees: string[]) => async () => ({ usable: true as const, detail: 'bwrap 0.8.0', rootfs: { cacheDir: '/cache/bwrap', trees } });
  const noEngine = await runDoctor(doctorDeps({ detect: async () => undefined, bwrap: usable(['/cache/bwrap/rootfs-0123']) }));
  assert.deepEqual(noEngine.filter((c) => c.name === 'engine' || c.name === 'bwrap').map((c) => c.status), ['ok', 'warn']);
});

test('doctor: on bwrap the image check is the unpacked root fs, or says that the daemon makes it at start', async () => {
  const usable = (trees: string[]) => async () => ({ usable: true as const, detail: 'bwrap 0.8.0', rootfs: { cacheDir: '/cache/bwrap', trees } });
  const env = { MCP_BRIDGE_STATE_DIR: '/state', MCP_BRIDGE_RUNTIME: 'bwrap' };
  const image = async (deps: Partial<DoctorDeps>) => (await runDoctor(doctorDeps(deps))).find((c) => c.name === 'image')!;
  const present = await image({ env, bwrap: usable(['/cache/bwrap/rootfs-0123']) });
  assert.deepEqual([present.status, present.detail], ['ok', 'bwrap root fs /cache/bwrap/rootfs-0123']);
  const absent = await image({ env, bwrap: usable([]) });
  assert.equal(absent.status, 'ok');
  assert.match(absent.detail, /no bwrap root fs in \/cache\/bwrap yet; the daemon unpacks it/);
  // The fallback when no engine answers is bwrap too; with an engine, the engine's image is checked.
  assert.equal((await image({ detect: async () => undefined, bwrap: usable(['/cache/bwrap/rootfs-0123']) })).detail, 'bwrap root fs /cache/bwrap/rootfs-0123');
  assert.doesNotMatch((await image({ bwrap: usable(['/cache/bwrap/rootfs-0123']) })).detail, /bwrap/);
  // bwrap unusable and no engine: nothing to check against.
  assert.equal((await image({ env, bwrap: async () => ({ usable: false as const, reason: 'no bwrap' }) })).status, 'warn');
});

test('doctor: says whether the engine has MCP_BRIDGE_OCI_RUNTIME (gVisor), and that runsc is there when unset', async () => {
  const engine = (runtimes: string[]): DoctorDeps['engine'] => () => ({ ping: async () => undefined, version: async () => ({ name: 'docker', version: '26.1', apiVersion: '1.45' }), imageLabels: async () => ({}), runtimes: async () => runtimes });
  const oci = async (env: Record<string, string>, runtimes: string[]) => (await runDoctor(doctorDeps({ env: { MCP_BRIDGE_STATE_DIR: '/state', ...env }, engine: engine(runtimes) }))).find((c) => c.name === 'OCI runtime');
  const lacking = await oci({ MCP_BRIDGE_OCI_RUNTIME: 'runsc' }, ['runc', 'io.containerd.runc.v2']);
  assert.equal(lacking?.status, 'fail');
  assert.match(lacking?.detail ?? '', /MCP_BRIDGE_OCI_RUNTIME=runsc: the docker engine has no such runtime \(it has runc, io\.containerd\.runc\.v2\)/);
  assert.match(lacking?.detail ?? '', /daemon\.json/);
  assert.deepEqual(await oci({ MCP_BRIDGE_OCI_RUNTIME: 'runsc' }, ['runc', 'runsc']), { name: 'OCI runtime', status: 'ok', detail: 'sandboxes run under runsc (gVisor)' });
  assert.match((await oci({}, ['runc', 'runsc']))?.detail ?? '', /runsc \(gVisor\) is there: MCP_BRIDGE_OCI_RUNTIME=runsc uses it/);
  assert.match((await oci({}, ['runc']))?.detail ?? '', /no runsc \(gVisor\) registered/);
});
