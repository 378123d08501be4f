import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DaemonStatusSchema } from '@mcp-code-mode/protocol';
import { ControlClient } from '@mcp-code-mode/client';
import { statePaths } from '../../daemon/src/state-dir.ts';
import { DAEMON_NODE_FLAGS } from '../../packages/cli/src/context.ts';
import { CLI } from '../support/daemon-process.ts';
import { availableEngines } from '../support/engines.ts';
import { callRun, connectShim, SHIM_BIN } from '../support/shim-client.ts';

const engines = await availableEngines({ bwrap: true });
const engine = engines[0]!;

function cli(env: NodeJS.ProcessEnv, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe(`the CLI: start, status, logs, doctor, stop, shim, client-config, service (${engine.name})`, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'mcm-cli-'));
  const home = mkdtempSync(join(tmpdir(), 'mcm-cli-home-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, MCP_BRIDGE_STATE_DIR: stateDir, MCP_BRIDGE_RUNTIME: engine.socket, MCP_BRIDGE_POOL_SIZE: '1' };
  const paths = statePaths(env);
  after(async () => {
    await new ControlClient(paths.socket).post('/v1/shutdown').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  test('start runs a detached daemon, waits until it answers and prints the socket; a second start finds it', () => {
    const first = cli(env, 'start');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^daemon started \(pid \d+\)\n/);
    assert.ok(first.stdout.trim().endsWith(paths.socket));
    const second = cli(env, 'start');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^daemon already running \(pid \d+\)/);
  });

  test('status is readable, and --json is the status document', () => {
    const human = cli(env, 'status');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^mcp-code-mode [\d.]+: running \(pid \d+/);
    assert.match(human.stdout, /^pool\s+\d+ warm/m);
    assert.match(human.stdout, /^engine\s+\S+/m);
    assert.match(human.stdout, /^health\s+disabled/m);
    const json = cli(env, 'status', '--json');
    const status = DaemonStatusSchema.parse(JSON.parse(json.stdout));
    assert.equal(status.socket, paths.socket);
  });

  test('logs shows the tail of the daemon log, formatted or as JSON', () => {
    const text = cli(env, 'logs', '-n', '2');
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT\S+ INFO\s+daemon ready/);
    const json = cli(env, 'logs', '-n', '1', '--json');
    assert.equal((JSON.parse(json.stdout) as { msg: string }).msg, 'daemon ready');
  });

  test('doctor passes every check with a running daemon', () => {
    const r = cli(env, 'doctor');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\[ok  \] engine: /m);
    assert.match(r.stdout, /^\[ok  \] image: /m);
    assert.match(r.stdout, /^\[ok  \] state directory: .*0700/m);
    assert.match(r.stdout, /^\[ok  \] daemon: pid \d+, socket mode 0600/m);
    assert.doesNotMatch(r.stdout, /FAIL/);
  });

  test('`mcp-code-mode shim` is the same MCP server', async () => {
    await using shim = await connectShim({ ...env, MCP_BRIDGE_AUTOSTART: '0' }, [process.execPath, CLI, 'shim']);
    const { tools } = await shim.client.listTools();
    assert.deepEqual(tools.map((t) => t.name), ['run_python']);
    const out = await callRun(shim.client, { code: 'print("via cli")' });
    assert.deepEqual(out.result.stdout, ['via cli']);
  });

  test('logs -f follows new lines; stop waits until the daemon is gone; status then says not running', async () => {
    const follower = spawn(process.execPath, [CLI, 'logs', '-f', '-n', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.on('data', (c: Buffer) => (followed += c.toString('utf8')));
    await new Promise((r) => setTimeout(r, 500));
    const stop = cli(env, 'stop');
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, 'daemon stopped\n');
    assert.equal(existsSync(paths.socket), false);
    const deadline = Date.now() + 5000;
    while (!followed.includes('daemon stopped') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    follower.kill();
    assert.match(followed, /shutting down/);
    assert.match(followed, /daemon stopped/);

    const status = cli(env, 'status');
    assert.equal(status.code, 3);
    assert.match(status.stdout, /not running/);
    assert.equal(cli(env, 'stop').stdout, 'no daemon is running\n');
  });

  test('doctor fails, with the fix, when the engine is not there; nothing is started', () => {
    const r = cli({ ...env, MCP_BRIDGE_RUNTIME: join(home, 'no-such-engine.sock') }, 'doctor');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /^\[FAIL\] engine: /m);
    assert.match(r.stdout, /^\s+fix: install and start Docker/m);
    assert.match(r.stdout, /^\[warn\] daemon: not running/m);
    const bad = cli({ ...env, MCP_BRIDGE_TIMEOUT: 'soon' }, 'doctor');
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^\[FAIL\] settings: MCP_BRIDGE_TIMEOUT/m);
  });

  test('client-config prints snippets with absolute paths to node and the shim', () => {
    for (const client of ['claude-desktop', 'cursor', 'claude-code']) {
      const r = cli(env, 'client-config', client);
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { mcpServers: Record<string, { command: string; args: string[]; env: Record<string, string> }> };
      const entry = json.mcpServers['mcp-code-mode']!;
      assert.equal(entry.command, process.execPath);
      assert.deepEqual(entry.args, [SHIM_BIN]);
      assert.ok(existsSync(entry.args[0]!));
      assert.equal(entry.env.MCP_BRIDGE_STATE_DIR, stateDir);
      // The name comes before -e: Claude Code's -e takes several values and would swallow it.
      if (client === 'claude-code') assert.match(r.stdout, new RegExp(`^claude mcp add --scope user mcp-code-mode -e .* -- ${process.execPath} ${SHIM_BIN}$`, 'm'));
    }
    assert.equal(cli(env, 'client-config', 'vim').code, 2);
  });

  test('service install writes a systemd user unit that systemd-analyze accepts; uninstall removes it', { skip: process.platform !== 'linux' }, () => {
    const install = cli(env, 'service', 'install', '--no-enable');
    assert.equal(install.code, 0, install.stderr);
    const unit = join(home, '.config', 'systemd', 'user', 'mcp-code-mode.service');
    assert.match(install.stdout, new RegExp(`wrote ${unit}`));
    const text = readFileSync(unit, 'utf8');
    const words = [process.execPath, ...DAEMON_NODE_FLAGS, CLI, 'daemon'].map((w) => `"${w}"`).join(' ');
    assert.ok(text.split('\n').includes(`ExecStart=${words}`), text);
    assert.match(text, new RegExp(`^Environment="MCP_BRIDGE_STATE_DIR=${stateDir}"$`, 'm'));
    const analyze = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    if (!analyze.error) assert.equal(`${analyze.status} ${analyze.stderr}`, '0 ', 'systemd-analyze verify');
    const uninstall = cli(env, 'service', 'uninstall', '--no-enable');
    assert.equal(uninstall.code, 0, uninstall.stderr);
    assert.equal(existsSync(unit), false);
  });
});
