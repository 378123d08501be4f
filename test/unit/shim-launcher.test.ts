import assert from 'node:assert/strict';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ControlError } from '../../packages/client/src/control-client.ts';
import { DaemonLauncher, EXIT_ALREADY_RUNNING, lockHolderAlive, logTail, type LauncherOptions } from '../../packages/client/src/daemon-launcher.ts';
import { statePaths } from '../../packages/client/src/state-paths.ts';
import { eventually } from '../support/poll.ts';

class FakeChild extends EventEmitter {
  unrefed = false;
  unref(): void {
    this.unrefed = true;
  }
}

function setup(overrides: Partial<LauncherOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-launch-'));
  const paths = statePaths({ MCP_BRIDGE_STATE_DIR: join(dir, 'state') });
  const spawned: { command: string; args: string[]; options: SpawnOptions; child: FakeChild }[] = [];
  let up = false;
  const options: LauncherOptions = {
    paths,
    env: { MCP_BRIDGE_STATE_DIR: paths.dir, OTHER: 'x' },
    autostart: true,
    alive: async () => up,
    command: ['node', '/bin/true-daemon', 'daemon', '--background'],
    pollMs: 5,
    readyTimeoutMs: 10_000,
    spawn: (command, args, opts) => {
      const child = new FakeChild();
      spawned.push({ command, args, options: opts, child });
      return child as unknown as ChildProcess;
    },
    ...overrides,
  };
  return { launcher: new DaemonLauncher(options), spawned, paths, setUp: (v: boolean) => (up = v) };
}

test('a daemon that answers is used as is', async () => {
  const { launcher, spawned, setUp } = setup();
  setUp(true);
  await launcher.ensure();
  assert.equal(spawned.length, 0);
});

test('autostart off: a clear error saying how to start the daemon, and nothing is spawned', async () => {
  const { launcher, spawned } = setup({ autostart: false });
  await assert.rejects(launcher.ensure(), (err: ControlError) => {
    assert.equal(err.code, 'autostart_disabled');
    assert.match(err.message, /MCP_BRIDGE_AUTOSTART=0/);
    assert.match(err.message, /mcp-code-mode start/);
    return true;
  });
  assert.equal(spawned.length, 0);
});

test('no daemon: one detached, unref-ed daemon with the same env and its output in the log file, for any number of callers', async () => {
  const { launcher, spawned, setUp, paths } = setup();
  const waiting = [launcher.ensure(), launcher.ensure(), launcher.ensure()];
  await new Promise((r) => setTimeout(r, 30));
  setUp(true);
  await Promise.all(waiting);
  assert.equal(spawned.length, 1);
  const [{ command, args, options, child }] = spawned as [(typeof spawned)[number]];
  assert.deepEqual([command, args], ['node', ['/bin/true-daemon', 'daemon', '--background']]);
  assert.equal(options.detached, true);
  assert.deepEqual(options.env, { MCP_BRIDGE_STATE_DIR: paths.dir, OTHER: 'x' });
  const stdio = options.stdio as unknown[];
  assert.equal(stdio[0], 'ignore');
  assert.equal(typeof stdio[1], 'number');
  assert.equal(stdio[1], stdio[2]);
  assert.equal(child.unrefed, true);
});

test('a daemon that lost the race to another one (exit 75) is fine: the winner is used', async () => {
  const { launcher, spawned, setUp } = setup({ lockHeld: async () => true });
  const waiting = launcher.ensure();
  await eventually(() => spawned.length === 1, 'the daemon is spawned', 10_000, 5);
  spawned[0]!.child.emit('exit', EXIT_ALREADY_RUNNING, null);
  await new Promise((r) => setTimeout(r, 20));
  setUp(true);
  await waiting;
  assert.equal(spawned.length, 1);
});

test('the lock holder was a daemon on its way out (exit 75, then the holder is gone): a daemon is started again', async () => {
  let held = true;
  const { launcher, spawned, setUp } = setup({ lockHeld: async () => held });
  const waiting = launcher.ensure();
  await eventually(() => spawned.length === 1, 'the daemon is spawned', 10_000, 5);
  spawned[0]!.child.emit('exit', EXIT_ALREADY_RUNNING, null);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(spawned.length, 1, 'no new daemon while the holder lives: it may be starting');
  held = false;
  await eventually(() => spawned.length === 2, 'the holder went away without answering: ours is started again', 10_000, 5);
  setUp(true);
  await waiting;
});

test('lockHolderAlive reads the pid of the lock file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-lock-'));
  const file = join(dir, 'daemon.lock');
  assert.equal(await lockHolderAlive(file), false, 'no lock file');
  writeFileSync(file, `${process.pid}\n`);
  assert.equal(await lockHolderAlive(file), true);
  writeFileSync(file, 'not a pid\n');
  assert.equal(await lockHolderAlive(file), false);
});

test('a daemon that exits while starting: the error quotes the log', async () => {
  const { launcher, spawned, paths } = setup();
  const waiting = launcher.ensure();
  await eventually(() => spawned.length === 1, 'the daemon is spawned', 10_000, 5);
  writeFileSync(paths.logFile, `${JSON.stringify({ level: 50, msg: 'no container engine found' })}\nmcp-code-mode: invalid configuration\n`);
  spawned[0]!.child.emit('exit', 1, null);
  await assert.rejects(waiting, (err: ControlError) => {
    assert.equal(err.code, 'daemon_start_failed');
    assert.match(err.message, /exit code 1/);
    assert.match(err.message, /no container engine found/);
    assert.match(err.message, /invalid configuration/);
    return true;
  });
});

test('a daemon that never answers: a timeout error naming the socket', async () => {
  const { launcher, paths } = setup({ readyTimeoutMs: 50 });
  await assert.rejects(launcher.ensure(), (err: ControlError) => err.code === 'daemon_start_failed' && err.message.includes(paths.socket) && /within/.test(err.message));
});

test('a missing daemon CLI is named before anything is spawned', async () => {
  const { launcher, spawned } = setup({ command: ['node', '/no/such/mcp-code-mode.js', 'daemon'] });
  await assert.rejects(launcher.ensure(), /\/no\/such\/mcp-code-mode\.js is missing/);
  assert.equal(spawned.length, 0);
  // After node's own flags too.
  const flagged = setup({ command: ['node', '--max-semi-space-size=1', '/no/such/mcp-code-mode.js', 'daemon'] });
  await assert.rejects(flagged.launcher.ensure(), /\/no\/such\/mcp-code-mode\.js is missing/);
  assert.equal(flagged.spawned.length, 0);
});

test('the log file is created 0600 in a 0700 state directory', async () => {
  const { launcher, setUp, paths } = setup();
  const waiting = launcher.ensure();
  await new Promise((r) => setTimeout(r, 20));
  setUp(true);
  await waiting;
  const { statSync } = await import('node:fs');
  assert.equal(statSync(paths.logFile).mode & 0o777, 0o600);
  assert.equal(statSync(paths.dir).mode & 0o777, 0o700);
  assert.equal(readFileSync(paths.logFile, 'utf8'), '');
});

test('logTail shows pino lines as their messages', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-tail-'));
  const file = join(dir, 'log');
  writeFileSync(file, ['plain', JSON.stringify({ msg: 'hello', err: { message: 'boom' } }), ''].join('\n'));
  assert.equal(await logTail(file), '  plain\n  hello: boom');
  assert.equal(await logTail(join(dir, 'missing')), '');
});
