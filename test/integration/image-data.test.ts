// The data profile and the user's packages, built offline for real and used by a real daemon:
// pandas, numpy and scipy give the right numbers and every module imports as uid 65534 on the
// read-only root, on every runtime (Docker, Podman, bwrap); a wheel the test writes into a wheelhouse
// is installed by pip into a derived image and imports. The builds are tested on Docker only: each
// takes minutes on this machine, the builder is the same script for Podman (it imports the same root
// fs tarball), and bwrap only unpacks an engine's image (see bwrap-rootfs).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { RunResult } from '@mcp-code-mode/protocol';
import { imageTag } from '../../daemon/src/runtimes/container/image-profiles.ts';
import { availableEngines, type ContainerEngine } from '../support/engines.ts';
import { BWRAP_DATA_CACHE, DATA_TAG, dataImageMissing } from '../support/data-image.ts';
import { CLI, startDaemonProcess, waitWarm } from '../support/daemon-process.ts';

const engines = await availableEngines({ bwrap: true });
// Images are built and inspected in Docker.
const engine = engines.find((e): e is ContainerEngine => e.name === 'docker');
const BUILD_TIMEOUT = 20 * 60_000;

/** Runs the CLI with the env; its stderr lines are the build's progress. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

/** A pure-Python wheel written with zipfile (pip, setuptools and wheel may be absent on the host). */
function writeWheel(dir: string, name: string, version: string, value: string): string {
  const file = join(dir, `${name}-${version}-py3-none-any.whl`);
  const py = `
import base64, hashlib, sys, zipfile
path, name, version, value = sys.argv[1:]
info = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": f"VALUE = {value!r}\\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: mcp-code-mode-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
def digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
record = "".join(f"{p},{digest(c.encode())},{len(c.encode())}\\n" for p, c in files.items()) + f"{info}/RECORD,,\\n"
with zipfile.ZipFile(path, "w") as z:
    for p, c in files.items():
        z.writestr(p, c)
    z.writestr(f"{info}/RECORD", record)
`;
  const r = spawnSync('python3', ['-c', py, file, name, version, value], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

describe('image builds on docker', { skip: engine ? false : 'the builds are tested in Docker only (Podman runs the same builder on the same tarball; bwrap only unpacks images), and Docker does not answer or TEST_ENGINES leaves it out' }, () => {
  const env = { MCP_BRIDGE_RUNTIME: engine?.socket ?? '', MCP_BRIDGE_STATE_DIR: mkdtempSync(join(tmpdir(), 'mcm-img-')) };
  const cleanup: (() => Promise<unknown> | void)[] = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
    rmSync(env.MCP_BRIDGE_STATE_DIR, { recursive: true, force: true });
  });

  test('image build --profile data builds (or finds up to date) the data image, with a line per phase and its labels', { timeout: BUILD_TIMEOUT }, async (t) => {
    const r = await cli(['image', 'build', '--profile', 'data'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), DATA_TAG);
    if (/up to date/.test(r.stderr)) t.diagnostic(`data image up to date (${r.ms} ms)`);
    else {
      // A root fs built for another engine (same inputs) is imported again, not rebuilt.
      const rootfs = /reusing root fs/.test(r.stderr) ? [] : ['downloading packages', 'installing remaining packages', 'creating tarball'];
      for (const phase of [...rootfs, 'importing root fs', 'every module of the profile imports']) assert.match(r.stderr, new RegExp(phase));
      t.diagnostic(`data image built in ${Math.round(r.ms / 1000)} s`);
    }
    const info = await engine!.docker.getImage(DATA_TAG).inspect();
    assert.equal(info.Config.Labels['mcp-code-mode.profile'], 'data');
    assert.ok(info.Config.Env.includes('MPLBACKEND=Agg'));
    t.diagnostic(`data image size ${Math.round(info.Size / 1e6)} MB`);
    // Unchanged inputs: the next build is a no-op that keeps the same image.
    const again = await cli(['image', 'build', '--profile', 'data'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /sandbox image up to date \(mcp-code-mode\/sandbox:data in docker/);
    assert.equal((await engine!.docker.getImage(DATA_TAG).inspect()).Id, info.Id);
  });

  test('a wheel in MCP_BRIDGE_PIP_FIND_LINKS, named in MCP_BRIDGE_PIP_REQUIREMENTS, imports in the next run of the derived image; doctor lists it', { timeout: BUILD_TIMEOUT }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mcm-wheels-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const wheels = join(dir, 'wheelhouse');
    mkdirSync(wheels);
    writeWheel(wheels, 'mcmtinypkg', '0.1', 'tiny from the wheelhouse');
    writeFileSync(join(dir, 'requirements.txt'), 'mcmtinypkg==0.1\n');
    // The builder's root-fs cache for this derived image goes with the test's files.
    const userEnv = { ...env, MCP_BRIDGE_PIP_REQUIREMENTS: join(dir, 'requirements.txt'), MCP_BRIDGE_PIP_FIND_LINKS: wheels, MCP_CODE_MODE_CACHE: join(dir, 'cache') };
    const tag = imageTag('base', { extraPackages: [], pipRequirements: userEnv.MCP_BRIDGE_PIP_REQUIREMENTS, pipFindLinks: wheels });
    cleanup.push(() => engine!.docker.getImage(tag).remove({ force: true }).catch(() => undefined));

    const built = await cli(['image', 'ensure'], userEnv);
    assert.equal(built.code, 0, built.stderr);
    assert.equal(built.stdout.trim(), tag);
    assert.match(built.stderr, /pip: python3 -m pip install .*--no-index --find-links/);
    assert.match(built.stderr, /pip: removing python3-pip from the image \(with what came with it: .*python3-pip/);
    t.diagnostic(`derived image (base + pip wheelhouse) built in ${Math.round(built.ms / 1000)} s`);
    const derived = await engine!.docker.getImage(tag).inspect();
    t.diagnostic(`derived image size ${Math.round(derived.Size / 1e6)} MB`);
    const labels = derived.Config.Labels;
    assert.equal(labels['mcp-code-mode.pip-packages'], 'mcmtinypkg==0.1');

    {
      await using daemon = await startDaemonProcess(engine!, { MCP_BRIDGE_PIP_REQUIREMENTS: userEnv.MCP_BRIDGE_PIP_REQUIREMENTS, MCP_BRIDGE_PIP_FIND_LINKS: wheels, MCP_BRIDGE_POOL_SIZE: '1' }, env.MCP_BRIDGE_STATE_DIR);
      assert.match(daemon.logs(), /sandbox image up to date/, 'the derived image was not rebuilt: its inputs did not change');
      await waitWarm(daemon.client, 1, 120_000);
      const r = (await daemon.client.run({ code: 'import importlib.util, mcmtinypkg\nprint(mcmtinypkg.VALUE)\nprint(importlib.util.find_spec("pip"))' })).result;
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['tiny from the wheelhouse', 'None']);

      const doctor = await cli(['doctor', '--json'], userEnv);
      const image = (JSON.parse(doctor.stdout) as { name: string; status: string; detail: string }[]).find((c) => c.name === 'image');
      assert.equal(image?.status, 'ok', doctor.stdout);
      assert.match(image!.detail, new RegExp(`${tag} is present: profile base; extra packages: none; pip packages: mcmtinypkg==0\\.1`));
    }
  });

  test('a failed build names what failed: the Debian package apt cannot find, the requirement pip cannot meet', { timeout: BUILD_TIMEOUT }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcm-badpkg-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const cache = join(dir, 'cache');
    const apt = await cli(['image', 'ensure'], { ...env, MCP_CODE_MODE_CACHE: cache, MCP_BRIDGE_EXTRA_PACKAGES: 'jq mcm-no-such-package' });
    assert.equal(apt.code, 1, apt.stderr);
    assert.match(apt.stderr, /^mcp-code-mode: building the sandbox image mcp-code-mode\/sandbox:local-user-[0-9a-f]{12} failed: Debian bookworm has no package named: mcm-no-such-package \(from /m);

    const wheels = join(dir, 'wheelhouse');
    mkdirSync(wheels);
    writeWheel(wheels, 'mcmtinypkg', '0.1', 'x');
    writeFileSync(join(dir, 'requirements.txt'), 'mcmtinypkg==0.1\nmcmabsent==1.0\n');
    const pip = await cli(['image', 'ensure'], { ...env, MCP_CODE_MODE_CACHE: cache, MCP_BRIDGE_PIP_REQUIREMENTS: join(dir, 'requirements.txt'), MCP_BRIDGE_PIP_FIND_LINKS: wheels });
    assert.equal(pip.code, 1, pip.stderr);
    assert.match(pip.stderr, /^mcp-code-mode: building the sandbox image .* failed: pip found no distribution for: mcmabsent==1.0 \(requirements /m);
  });
});

// The data image in use, on every runtime.
for (const target of engines) {
  describe(`the data profile on ${target.name}`, () => {
    test('a daemon with MCP_BRIDGE_IMAGE_PROFILE=data computes with pandas, numpy and scipy, and every module imports as uid 65534 on a read-only root', { timeout: BUILD_TIMEOUT }, async (t) => {
      // Asked when the test starts: on Docker the build test before it may have just made the image.
      const missing = await dataImageMissing(target);
      if (missing) return t.skip(missing);
      await using daemon = await startDaemonProcess(target, { MCP_BRIDGE_IMAGE_PROFILE: 'data', MCP_BRIDGE_POOL_SIZE: '1', ...(target.name === 'bwrap' ? { MCP_BRIDGE_BWRAP_CACHE: BWRAP_DATA_CACHE } : {}) });
      await waitWarm(daemon.client, 1, 120_000);
      const status = (await daemon.client.get('/v1/status')) as { image: string };
      // bwrap names the tree it unpacked the image into.
      if (target.name === 'bwrap') assert.ok(status.image.startsWith(`${DATA_TAG} (${BWRAP_DATA_CACHE}/rootfs-`), status.image);
      else assert.equal(status.image, DATA_TAG);
      const run = async (code: string): Promise<RunResult> => (await daemon.client.run({ code, timeout: 60 })).result;

      const numbers = await run(`
import json
import numpy as np
import pandas as pd
from scipy import integrate, stats
df = pd.DataFrame({"team": ["a", "b", "a", "c", "b", "a"], "points": [3, 5, 4, 10, 1, 2]})
by_team = df.groupby("team")["points"].agg(["sum", "mean"]).round(4)
m = np.array([[4.0, 7.0], [2.0, 6.0]])
print(json.dumps({
    "sum": by_team["sum"].to_dict(),
    "mean": by_team["mean"].to_dict(),
    "det": round(float(np.linalg.det(m)), 9),
    "inv": np.linalg.inv(m).round(6).tolist(),
    "quad": round(integrate.quad(lambda x: x ** 2, 0, 3)[0], 9),
    "cdf": round(float(stats.norm.cdf(1.96)), 6),
    "ttest_p": round(float(stats.ttest_ind([1, 2, 3, 4], [2, 3, 4, 5]).pvalue), 6),
}))
`);
      assert.equal(numbers.status, 'success', JSON.stringify(numbers));
      assert.deepEqual(JSON.parse(numbers.stdout.join('\n')), {
        sum: { a: 9, b: 6, c: 10 },
        mean: { a: 3, b: 3, c: 10 },
        det: 10,
        inv: [[0.6, -0.7], [-0.2, 0.4]],
        quad: 9,
        cdf: 0.975002,
        ttest_p: 0.315334,
      });

      const imports = await run(`
import errno, importlib, io, json, os
mods = ["numpy", "pandas", "matplotlib", "scipy", "PIL", "openpyxl", "lxml", "bs4", "yaml"]
versions = {m: getattr(importlib.import_module(m), "__version__", "?") for m in mods}
import matplotlib.pyplot as plt
plt.plot([1, 2, 3], [3, 1, 2])
buf = io.BytesIO()
plt.savefig(buf, format="png")
try:
    open("/usr/lib/python3/dist-packages/probe", "w")
    root = "writable"
except OSError as e:
    root = errno.errorcode[e.errno]
import importlib.util
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "root": root, "backend": plt.get_backend().lower(),
                  "png": buf.getvalue()[:4] == b"\\x89PNG", "mods": sorted(versions), "pip": importlib.util.find_spec("pip") is not None}))
`);
      assert.equal(imports.status, 'success', JSON.stringify(imports));
      assert.deepEqual(imports.stderr, [], 'matplotlib found a writable config dir: no warning');
      assert.deepEqual(JSON.parse(imports.stdout.join('\n')), {
        uid: 65534,
        gid: 65534,
        root: 'EROFS',
        backend: 'module://mcp_agent.mpl_backend',
        png: true,
        mods: ['PIL', 'bs4', 'lxml', 'matplotlib', 'numpy', 'openpyxl', 'pandas', 'scipy', 'yaml'],
        pip: false,
      });
      const net = await run('import socket\nprint(sorted(n for _, n in socket.if_nameindex()))');
      assert.deepEqual(net.stdout, ["['lo']"], 'no network in the data image either');
    });
  });
}
