// The product as a user gets it: `npm run pack`, the tarballs installed with npm into an empty folder
// far from the checkout, and the two installed bins doing real work (a daemon, a run, the shim over
// stdio, a stop that leaves no container).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ControlClient, statePaths } from '@mcp-code-mode/client';
import { RunResultSchema } from '@mcp-code-mode/protocol';
import { containersOf, availableEngines } from '../support/engines.ts';
import { connectShim } from '../support/shim-client.ts';

// A container engine: the installed product's image builder and its containers are the subject here.
const engine = (await availableEngines()).find((e) => e.name !== 'bwrap');
const skip = engine ? false : 'TEST_ENGINES names no container engine (this suite checks the installed builder and its containers)';
const repo = fileURLToPath(new URL('../../', import.meta.url));
const distPack = join(repo, 'dist-pack');
const TARBALLS = ['mcp-code-mode-0.1.0.tgz', 'mcp-code-mode-client-0.1.0.tgz', 'mcp-code-mode-daemon-0.1.0.tgz', 'mcp-code-mode-protocol-0.1.0.tgz', 'mcp-code-mode-sandbox-0.1.0.tgz', 'mcp-code-mode-shim-0.1.0.tgz'];

function tarList(tarball: string): string[] {
  const r = spawnSync('tar', ['-tzf', join(distPack, tarball)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((line) => line.replace(/^package\//, ''));
}

describe('the packed product: tarballs that install into an empty folder and run with no checkout around', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'mcm-pack-'));
  const app = join(work, 'app');
  const home = join(work, 'home');
  mkdirSync(app);
  mkdirSync(home);
  const bin = (name: string): string => join(app, 'node_modules', '.bin', name);
  // A home of its own, so that the daemon discovers no MCP server of the user's client configs.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, MCP_BRIDGE_STATE_DIR: join(work, 'state'), MCP_BRIDGE_RUNTIME: engine?.socket ?? '', MCP_BRIDGE_POOL_SIZE: '1', MCP_BRIDGE_AUTOSTART: '0' };
  const paths = statePaths(env);
  const cli = (...args: string[]) => spawnSync(process.execPath, [bin('mcp-code-mode'), ...args], { cwd: app, env, encoding: 'utf8', timeout: 300_000 });
  let daemon: ChildProcess | undefined;
  let daemonLog = '';

  after(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon!.once('exit', resolve));
    }
    rmSync(work, { recursive: true, force: true });
  });

  test('npm run pack writes one tarball per package, with no sources, tests or build state in them', (t) => {
    const r = spawnSync('npm', ['run', 'pack'], { cwd: repo, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    t.diagnostic(r.stdout.split('\n').filter((line) => /\.tgz|tarballs/.test(line)).join('\n'));
    assert.deepEqual(readdirSync(distPack).sort(), TARBALLS);
    for (const tarball of TARBALLS) {
      const bad = tarList(tarball).filter((p) => (p.endsWith('.ts') && !p.endsWith('.d.ts')) || /(^|\/)(tests?|__pycache__)\/|tsconfig|tsbuildinfo|\.pyc$/.test(p));
      assert.deepEqual(bad, [], `${tarball} ships sources, tests or build state`);
    }
    // The files read at run time by path, not imported: the agent's Python and the image builder.
    assert.ok(tarList('mcp-code-mode-sandbox-0.1.0.tgz').includes('bootstrap.py'));
    assert.ok(tarList('mcp-code-mode-sandbox-0.1.0.tgz').includes('src/mcp_agent/main.py'));
    assert.ok(tarList('mcp-code-mode-daemon-0.1.0.tgz').includes('assets/docker/build-local-image.sh'));
    assert.ok(tarList('mcp-code-mode-daemon-0.1.0.tgz').includes('assets/docker/packages.txt'));
  });

  test('the tarballs install into an empty folder with npm, and resolve to the built code, not the "source" condition', (t) => {
    writeFileSync(join(app, 'package.json'), '{ "private": true }\n');
    const started = Date.now();
    // The user's own environment (npm cache, registry config) for npm; the registry is reachable.
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', ...TARBALLS.map((f) => join(distPack, f))], { cwd: app, encoding: 'utf8', timeout: 600_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    t.diagnostic(`npm install of the ${TARBALLS.length} tarballs: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const resolved = spawnSync(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('@mcp-code-mode/protocol'))"], { cwd: app, encoding: 'utf8' });
    assert.equal(resolved.stdout.trim(), `file://${join(app, 'node_modules/@mcp-code-mode/protocol/dist/index.js')}`, resolved.stderr);
  });

  test("the installed builder finds the sandbox image (or builds it), with the daemon package's copy of docker/", () => {
    const r = cli('image', 'build');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'mcp-code-mode/sandbox:local');
  });

  test("the installed daemon runs print(6*7) for the installed CLI's run command", async () => {
    daemon = spawn(process.execPath, [bin('mcp-code-mode'), 'daemon'], { cwd: app, env, stdio: ['ignore', 'ignore', 'pipe'] });
    daemon.stderr!.on('data', (c: Buffer) => (daemonLog += c.toString('utf8')));
    const client = new ControlClient(paths.socket);
    const deadline = Date.now() + 120_000;
    while (!(await client.alive())) {
      assert.equal(daemon.exitCode, null, `the installed daemon exited:\n${daemonLog}`);
      assert.ok(Date.now() < deadline, `the installed daemon did not answer within 120 s:\n${daemonLog}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const r = cli('run', '--json', '-c', 'print(6*7)');
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${daemonLog}`);
    const result = RunResultSchema.parse(JSON.parse(r.stdout));
    assert.equal(result.status, 'success');
    assert.deepEqual(result.stdout, ['42']);
  });

  test('the installed shim bin answers initialize and tools/list over stdio', async () => {
    await using shim = await connectShim(env, [process.execPath, bin('mcp-code-mode-shim')]);
    assert.equal(shim.client.getServerVersion()?.name, 'mcp-code-mode');
    const { tools } = await shim.client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name), ['run_python']);
  });

  test('mcp-code-mode stop ends the installed daemon and leaves no container', async () => {
    const r = cli('stop');
    assert.equal(r.status, 0, r.stderr);
    if (daemon!.exitCode === null && daemon!.signalCode === null) await new Promise((resolve) => daemon!.once('exit', resolve));
    assert.equal(daemon!.exitCode, 0, daemonLog);
    assert.deepEqual(await containersOf(engine!, paths.owner), []);
  });
});
