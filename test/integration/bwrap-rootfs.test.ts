// The bwrap root fs from each source: the image through an engine's CLI (docker, podman), and
// straight from Debian packages with no engine at all. A sandbox runs on each.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ensureRootfs } from '../../daemon/src/runtimes/bwrap/rootfs.ts';
import { bwrapSkipReason, IMAGE, openTestRuntime, startAgent } from '../support/bwrap.ts';
import { startDaemonProcess, waitWarm } from '../support/daemon-process.ts';
import { availableEngines } from '../support/engines.ts';

const skip = bwrapSkipReason();
if (skip) console.log(`# bwrap root fs tests skipped: ${skip}`);

const engineHas = (cli: string): boolean => {
  try {
    execFileSync(cli, ['image', 'inspect', IMAGE], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
};

describe('bwrap root fs', { skip, timeout: 900_000 }, () => {
  const caches: string[] = [];
  let baseTree = '';
  const cache = (): string => {
    const dir = mkdtempSync('/var/tmp/mcm-test-rootfs-');
    chmodSync(dir, 0o755); // the sandbox uids pass through it (see rootfsReachable)
    caches.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of caches) rmSync(dir, { recursive: true, force: true });
  });

  async function runsPython(rootfs: string, code = "import os, sys; print(sys.version_info[0], os.path.isdir('/workspace'), os.getuid())", expected = '3 True 65534'): Promise<void> {
    const t = await openTestRuntime({}, {}, undefined, rootfs);
    const agent = await startAgent(t.runtime);
    const { stdout } = await agent.run(code);
    assert.equal(stdout.trim(), expected);
    await t.runtime.remove(agent.sandbox.id);
  }

  for (const cli of ['docker', 'podman']) {
    test(`from the image in ${cli}: unpacked once, named by the image id, the engine's marker files left out`, { skip: !engineHas(cli) && `${cli} does not have ${IMAGE}` }, async () => {
      const dir = cache();
      const first = await ensureRootfs({ cacheDir: dir, image: IMAGE, engines: [cli] });
      assert.match(first.source, new RegExp(`^${cli} image sha256:[0-9a-f]{12}$`));
      assert.ok(!existsSync(join(first.dir, '.dockerenv')) && !existsSync(join(first.dir, 'run', '.containerenv')));
      const again = await ensureRootfs({ cacheDir: dir, image: IMAGE, engines: [cli] });
      assert.equal(again.dir, first.dir);
      assert.deepEqual(readdirSync(dir), [first.dir.slice(dir.length + 1)]);
      await runsPython(first.dir);
    });
  }

  test('with no engine: built from Debian packages by build-local-image.sh --rootfs-dir', async () => {
    const dir = cache();
    const built = await ensureRootfs({ cacheDir: dir, image: IMAGE, engines: ['mcm-no-such-engine'] });
    assert.match(built.source, /^debian packages/);
    assert.match(built.dir, /rootfs-debian-[0-9a-f]{16}$/);
    baseTree = basename(built.dir);
    await runsPython(built.dir);
  });

  // Minutes when the builder has no data root fs tarball yet; seconds after `image build --profile data`.
  test('with no engine and the data profile: the data packages too, in a tree named apart from the base one', async () => {
    const dir = cache();
    const built = await ensureRootfs({ cacheDir: dir, image: 'mcp-code-mode/sandbox:data', engines: ['mcm-no-such-engine'], builderArgs: ['--profile', 'data'] });
    assert.match(built.dir, /rootfs-debian-[0-9a-f]{16}$/);
    assert.notEqual(basename(built.dir), baseTree);
    // The image's env has no way into a bare tree: its matplotlibrc names Agg instead (no display).
    await runsPython(built.dir, 'import numpy, matplotlib; print(numpy.__name__, [l.strip() for l in open("/etc/matplotlibrc") if l.startswith("backend")])', "numpy ['backend: Agg']");
  });

  test('a daemon on bwrap with MCP_BRIDGE_EXTRA_PACKAGES runs a root fs that has them (no engine has that image: built from the same inputs)', async () => {
    const bwrap = (await availableEngines({ bwrap: true })).find((e) => e.name === 'bwrap')!;
    const dir = cache();
    // python3-six: small, pure Python, and not in the base profile.
    await using daemon = await startDaemonProcess(bwrap, { MCP_BRIDGE_BWRAP_CACHE: dir, MCP_BRIDGE_EXTRA_PACKAGES: 'python3-six', MCP_BRIDGE_POOL_SIZE: '1' });
    await waitWarm(daemon.client, 1, 600_000);
    const r = await daemon.client.run({ code: 'import six; print(six.__name__)' });
    assert.deepEqual(r.result.stdout, ['six'], JSON.stringify(r.result));
    const status = (await daemon.client.get('/v1/status')) as { image: string };
    assert.match(status.image, /^mcp-code-mode\/sandbox:local-user-[0-9a-f]{12} \(.*rootfs-debian-[0-9a-f]{16}\)$/);
  });
});
