import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ContainerClient } from '../../daemon/src/runtimes/container/container-client.ts';
import { builderEnv, ensureImage, LOCAL_IMAGE } from '../../daemon/src/runtimes/container/image.ts';

/** A fake engine with a set of present images; `pull` may claim success without pulling (as Podman's can). */
function fakeClient(present: Set<string>, pull: (ref: string) => void): ContainerClient {
  return {
    imageLabels: async (ref: string) => (present.has(ref) ? {} : undefined),
    pull: async (ref: string) => pull(ref),
  } as unknown as ContainerClient;
}

/** A stand-in for docker/build-local-image.sh that records its environment and tag. */
function fakeBuilder(): { script: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-img-'));
  const log = join(dir, 'log');
  const script = join(dir, 'build.sh');
  writeFileSync(script, `echo "$1 ENGINE=$ENGINE DOCKER_HOST=$DOCKER_HOST" >> ${log}\n`);
  writeFileSync(log, '');
  return { script, log };
}

test('a present image is used as is', async () => {
  const builder = fakeBuilder();
  const image = await ensureImage(fakeClient(new Set(['python:3.12-slim']), () => assert.fail('no pull')), { image: 'python:3.12-slim', explicit: false, onProgress: () => undefined, buildEnv: {}, buildScript: builder.script });
  assert.equal(image, 'python:3.12-slim');
  assert.equal(readFileSync(builder.log, 'utf8'), '');
});

test('a pull that reports success but leaves no image falls back to the local build', async () => {
  const builder = fakeBuilder();
  const lines: string[] = [];
  const image = await ensureImage(fakeClient(new Set(), () => undefined), { image: 'python:3.12-slim', explicit: false, onProgress: (l) => lines.push(l), buildEnv: { ENGINE: 'podman' }, buildScript: builder.script });
  assert.equal(image, LOCAL_IMAGE);
  assert.match(lines.join('\n'), /not there/);
  assert.equal(readFileSync(builder.log, 'utf8').trim(), `${LOCAL_IMAGE} ENGINE=podman DOCKER_HOST=`);
});

test('an image the user named is never replaced: a failed pull is an error naming it', async () => {
  const builder = fakeBuilder();
  await assert.rejects(
    ensureImage(fakeClient(new Set(), () => { throw new Error('no registry'); }), { image: 'mine:1', explicit: true, onProgress: () => undefined, buildEnv: {}, buildScript: builder.script }),
    /MCP_BRIDGE_IMAGE=mine:1 is not present and cannot be pulled/,
  );
  assert.equal(readFileSync(builder.log, 'utf8'), '');
});

test('the builder imports into the engine behind the socket, named by the engine', () => {
  const endpoint = { flavour: 'unknown' as const, socketPath: '/run/podman/podman.sock', source: 'MCP_BRIDGE_RUNTIME' };
  assert.equal(builderEnv('podman', endpoint, {}).ENGINE, 'podman');
  assert.deepEqual(builderEnv('docker', { ...endpoint, socketPath: '/var/run/docker.sock' }, {}), { ENGINE: 'docker', DOCKER_HOST: 'unix:///var/run/docker.sock' });
});
