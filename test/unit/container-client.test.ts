// The engine client against a stand-in engine API on a Unix socket: what it makes of Podman's
// answers (seccomp profile files, containers being removed).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DockerodeClient, EngineError } from '../../daemon/src/runtimes/container/container-client.ts';
import { buildSandboxSpec } from '../../daemon/src/runtimes/container/sandbox-spec.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcm-profile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let sockets = 0;

/** A stand-in engine on a Unix socket of its own; `answer` gets each request with its whole body. */
async function standInEngine(answer: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ socket: string; close: () => Promise<void> }> {
  const socket = join(dir, `engine-${sockets++}.sock`);
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => answer(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(value));
}

const limits = { image: 'img:1', user: '65534:65534', memoryBytes: 512 * 1024 ** 2, pids: 128, tmpfsBytes: 64 * 1024 ** 2, nofile: 1024, nproc: 4096 };

test('concurrent creations on Podman each find the whole seccomp profile at its path', async () => {
  // A profile of some size, so that writing it is not a single instant.
  const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: Array.from({ length: 4000 }, (_, i) => ({ names: [`call_${i}`], action: 'SCMP_ACT_ALLOW' })) });
  const seen: { path: string; parsed: boolean }[] = [];
  const engine = await standInEngine((req, body, res) => {
    if (req.url?.includes('/version')) return json(res, 200, { Version: '4.3.1', ApiVersion: '1.41', Components: [{ Name: 'Podman Engine', Version: '4.3.1' }] });
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
      return json(res, 500, { message: 'stand-in engine: no containers here' });
    }
    json(res, 404, {});
  });
  try {
    // The race is a matter of timing: a few rounds, each with a profile directory of its own.
    for (let round = 0; round < 5; round++) {
      seen.length = 0;
      const profiles = join(dir, `profiles-${round}`);
      const client = new DockerodeClient({ flavour: 'podman', socketPath: engine.socket, source: 'test' }, { profileDir: profiles });
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
    await engine.close();
  }
});

test("a container whose removal is under way (Podman's 500 \"no such container\") is gone; any other failure to inspect is an EngineError", async () => {
  const engine = await standInEngine((req, _body, res) => {
    if (req.url?.includes('/containers/removing/json')) return json(res, 500, { message: 'container 25f5c19d9350 does not exist in database: no such container' });
    if (req.url?.includes('/containers/gone/json')) return json(res, 404, { message: 'no container with name or ID "gone" found: no such container' });
    if (req.url?.includes('/containers/broken/json')) return json(res, 500, { message: 'database is locked' });
    json(res, 404, {});
  });
  try {
    const client = new DockerodeClient({ flavour: 'podman', socketPath: engine.socket, source: 'test' });
    assert.equal(await client.state('removing'), undefined);
    assert.equal(await client.state('gone'), undefined);
    await assert.rejects(client.state('broken'), (err: unknown) => err instanceof EngineError && /database is locked/.test(err.message));
  } finally {
    await engine.close();
  }
});
