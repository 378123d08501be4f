// Podman reads `seccomp=` as a path: the client writes the profile to a file. Sandboxes are created
// several at a time, so every creation must find that file whole. A stand-in engine API on a Unix
// socket reads the file the moment each create request arrives.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DockerodeClient, EngineError } from '../../daemon/src/engine/container-client.ts';
import { buildSandboxSpec } from '../../daemon/src/engine/sandbox-spec.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcm-profile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const limits = { image: 'img:1', user: '65534:65534', memoryBytes: 512 * 1024 ** 2, pids: 128, tmpfsBytes: 64 * 1024 ** 2, nofile: 1024, nproc: 4096 };

test('concurrent creations on Podman each find the whole seccomp profile at its path', async () => {
  // A profile of some size, so that writing it is not a single instant.
  const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: Array.from({ length: 4000 }, (_, i) => ({ names: [`call_${i}`], action: 'SCMP_ACT_ALLOW' })) });
  const seen: { path: string; parsed: boolean }[] = [];
  const socket = join(dir, 'engine.sock');
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url?.includes('/version')) {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ Version: '4.3.1', ApiVersion: '1.41', Components: [{ Name: 'Podman Engine', Version: '4.3.1' }] }));
      }
      if (req.url?.includes('/containers/create')) {
        const opt = (JSON.parse(body) as { HostConfig: { SecurityOpt: string[] } }).HostConfig.SecurityOpt.find((o) => o.startsWith('seccomp='))!;
        const path = opt.slice('seccomp='.length);
        let parsed = false;
        try {
          parsed = JSON.stringify(JSON.parse(readFileSync(path, 'utf8'))) === profile;
        } catch {
          parsed = false;
        }
        seen.push({ path, parsed });
        res.statusCode = 500;
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ message: 'stand-in engine: no containers here' }));
      }
      res.statusCode = 404;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    // The race is a matter of timing: a few rounds, each with a profile directory of its own.
    for (let round = 0; round < 5; round++) {
      seen.length = 0;
      const profiles = join(dir, `profiles-${round}`);
      const client = new DockerodeClient({ flavour: 'podman', socketPath: socket, source: 'test' }, { profileDir: profiles });
      const spec = buildSandboxSpec({ ...limits, seccomp: profile }, ['python3'], {});
      // Staggered, so that later creations look for the file while earlier ones may be writing it.
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 12; i++) {
        calls.push(client.startAttached(spec).then(() => 'created', (err: unknown) => err));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const outcomes = await Promise.all(calls);
      assert.ok(outcomes.every((e) => e instanceof EngineError && /stand-in engine/.test(e.message)), String(outcomes.find((e) => !(e instanceof EngineError))));
      assert.equal(seen.length, 12);
      assert.equal(new Set(seen.map((s) => s.path)).size, 1, 'one file, named by the profile hash');
      assert.ok(seen[0]!.path.startsWith(profiles));
      assert.deepEqual(seen.map((s) => s.parsed), Array(12).fill(true), `round ${round}: every creation read the whole profile`);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
