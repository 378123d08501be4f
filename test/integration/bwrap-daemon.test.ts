// The daemon on bwrap, end to end (MCP_BRIDGE_RUNTIME=bwrap, a real process): seen from the host
// while a run sleeps, its Python runs as a sandbox uid of its own, never host uid 0; and a daemon
// stopped mid-run leaves nothing of its sandboxes behind; one whose sandboxes cannot start says why and exits.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { DEFAULT_CLAIM_DIR, DEFAULT_UID_RANGE } from '../../daemon/src/runtimes/bwrap/uid-claims.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { availableEngines, bwrapUnavailable, hostProcesses, leftoversOf, type TestEngine } from '../support/engines.ts';
import { containerRunning } from '../support/hostile.ts';

const skip = bwrapUnavailable() ?? (process.env.TEST_ENGINES && !process.env.TEST_ENGINES.split(',').includes('bwrap') ? 'TEST_ENGINES leaves bwrap out' : undefined);

describe('the daemon on bwrap, from the host', { skip: skip ?? false }, () => {
  let engine: TestEngine;
  let daemon: DaemonHandle;

  before(async () => {
    engine = (await availableEngines({ bwrap: true })).find((e) => e.name === 'bwrap')!;
    daemon = await startDaemonProcess(engine, { MCP_BRIDGE_POOL_SIZE: '1' });
    await waitWarm(daemon.client, 1);
  });
  after(async () => {
    await daemon?.[Symbol.asyncDispose]();
  });

  test('the daemon precompiles the agent once (or takes it from the cache), before its pool starts', async () => {
    // Compiled by the first daemon on this root fs, read from the cache by the later ones.
    const precompiled = daemon.logs().match(/"msg":"agent precompiled for the sandboxes( \(from the cache\))?"/g) ?? [];
    assert.equal(precompiled.length, 1, daemon.logs());
    assert.doesNotMatch(daemon.logs(), /could not be precompiled|precompiled code not used/);
    assert.deepEqual((await daemon.client.run({ code: 'print(6 * 7)' })).result.stdout, ['42']);
  });

  test('a sleeping run\'s Python has a non-zero host uid of the sandbox range, claimed for this daemon\'s state directory', async () => {
    const running = daemon.client.run({ code: 'import subprocess, time\nsubprocess.Popen(["sleep", "791"])\ntime.sleep(60)', timeout: 90 });
    const id = await containerRunning(engine, daemon, ['sleep', '791']);
    const procs = hostProcesses().filter((p) => p.cgroup.includes(id));
    const python = procs.filter((p) => /python3/.test(p.cmdline[0] ?? ''));
    assert.ok(python.length > 0, `no python3 among the sandbox's processes: ${procs.map((p) => p.cmdline.join(' ')).join('; ')}`);
    for (const p of python) {
      assert.notEqual(p.uid, 0, `python3 (pid ${p.pid}) runs as host uid 0`);
      assert.ok(p.uid >= DEFAULT_UID_RANGE.base && p.uid < DEFAULT_UID_RANGE.base + DEFAULT_UID_RANGE.count, `python3 (pid ${p.pid}) runs as host uid ${p.uid}`);
      const claim = JSON.parse(readFileSync(join(DEFAULT_CLAIM_DIR, String(p.uid), 'owner.json'), 'utf8')) as { stateDir: string; sandboxId: string };
      assert.deepEqual([claim.stateDir, claim.sandboxId], [daemon.stateDir, id]);
    }
    // SIGTERM mid-run: the run is answered or broken, and nothing of any sandbox is left.
    assert.equal(await daemon.stop(), 0);
    await running.catch(() => undefined);
    assert.deepEqual(await leftoversOf(engine, daemon), []);
    assert.deepEqual(hostProcesses().filter((p) => p.cgroup.includes(id)), [], 'a process of the sandbox is left');
  });

  test('a daemon whose sandboxes cannot start says why at start (the pool\'s first sandbox is the check), exits, and leaves nothing', async () => {
    // 8 MiB is within what the configuration accepts (6 MiB and up) but too little for Python to start.
    const stateDir = mkdtempSync(join(tmpdir(), 'mcm-'));
    try {
      await assert.rejects(
        startDaemonProcess(engine, { MCP_BRIDGE_POOL_SIZE: '1', MCP_BRIDGE_MEMORY: '8m' }, stateDir),
        /daemon exited with 1:[\s\S]*a bwrap sandbox does not start: the sandbox exited before its agent was ready \(killed by the memory limit, MCP_BRIDGE_MEMORY=8388608 bytes: raise it\)/,
      );
      assert.deepEqual(await leftoversOf(engine, { stateDir, owner: '' }), []);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
