import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseEnvConfig, type EnvConfig } from '@mcp-code-mode/protocol';
import type { ContainerClient } from '../../daemon/src/runtimes/container/container-client.ts';
import { BUILDER_LOCATIONS, LOCAL_IMAGE } from '../../daemon/src/runtimes/container/image.ts';

/** The checkout's builder: the one this test reads the inputs of. */
const BUILD_SCRIPT = BUILDER_LOCATIONS.checkout;
import {
  builderArgs,
  ensureConfiguredImage,
  formatImageContents,
  imageContents,
  imagePlan,
  imageTag,
  parseImageArgs,
  PROFILE_TAGS,
} from '../../daemon/src/runtimes/container/image-profiles.ts';

function config(env: Record<string, string>): EnvConfig {
  const check = parseEnvConfig(env);
  assert.ok(check.ok, JSON.stringify(check));
  return check.config;
}

function problems(env: Record<string, string>): string {
  const check = parseEnvConfig(env);
  assert.ok(!check.ok, `expected ${JSON.stringify(env)} to be refused`);
  return check.problems.join('\n');
}

test('MCP_BRIDGE_IMAGE_PROFILE is base or data, and a bad value names the variable', () => {
  assert.equal(config({}).MCP_BRIDGE_IMAGE_PROFILE, 'base');
  assert.equal(config({ MCP_BRIDGE_IMAGE_PROFILE: 'data' }).MCP_BRIDGE_IMAGE_PROFILE, 'data');
  assert.match(problems({ MCP_BRIDGE_IMAGE_PROFILE: 'science' }), /^MCP_BRIDGE_IMAGE_PROFILE must be base or data, got "science"$/);
});

test('MCP_BRIDGE_EXTRA_PACKAGES: comma or space separated Debian names, sorted and deduplicated; bad names are named', () => {
  assert.deepEqual(config({ MCP_BRIDGE_EXTRA_PACKAGES: ' jq, python3-sympy  jq,,libxml2-utils g++ ' }).MCP_BRIDGE_EXTRA_PACKAGES, ['g++', 'jq', 'libxml2-utils', 'python3-sympy']);
  assert.equal(config({}).MCP_BRIDGE_EXTRA_PACKAGES, undefined);
  const message = problems({ MCP_BRIDGE_EXTRA_PACKAGES: 'jq Foo_bar x' });
  assert.match(message, /^MCP_BRIDGE_EXTRA_PACKAGES: "Foo_bar", "x" are not Debian package names/);
  assert.match(problems({ MCP_BRIDGE_EXTRA_PACKAGES: 'jq;rm -rf /' }), /MCP_BRIDGE_EXTRA_PACKAGES: "jq;rm", "-rf", "\/" are not Debian package names/);
  assert.match(problems({ MCP_BRIDGE_EXTRA_PACKAGES: '-oAPT::x' }), /"-oAPT::x" is not a Debian package name/);
});

test('MCP_BRIDGE_PIP_FIND_LINKS needs MCP_BRIDGE_PIP_REQUIREMENTS', () => {
  assert.match(problems({ MCP_BRIDGE_PIP_FIND_LINKS: '/wheels' }), /MCP_BRIDGE_PIP_FIND_LINKS is set but MCP_BRIDGE_PIP_REQUIREMENTS is not/);
  assert.equal(config({ MCP_BRIDGE_PIP_FIND_LINKS: '/wheels', MCP_BRIDGE_PIP_REQUIREMENTS: '/r.txt' }).MCP_BRIDGE_PIP_FIND_LINKS, '/wheels');
});

test('the plan: MCP_BRIDGE_IMAGE wins and names what it overrides; base alone is the default chain; anything else is a build', () => {
  const named = imagePlan(config({ MCP_BRIDGE_IMAGE: 'mine:1', MCP_BRIDGE_IMAGE_PROFILE: 'data', MCP_BRIDGE_EXTRA_PACKAGES: 'jq' }), true, '/');
  assert.deepEqual(named, { kind: 'named', image: 'mine:1', ignored: ['MCP_BRIDGE_IMAGE_PROFILE', 'MCP_BRIDGE_EXTRA_PACKAGES'] });
  assert.deepEqual(imagePlan(config({}), false, '/'), { kind: 'default', image: 'python:3.12-slim' });
  assert.deepEqual(imagePlan(config({ MCP_BRIDGE_IMAGE_PROFILE: 'data' }), false, '/'), {
    kind: 'build',
    build: { profile: 'data', tag: 'mcp-code-mode/sandbox:data', user: { extraPackages: [] } },
  });
  const derived = imagePlan(config({ MCP_BRIDGE_EXTRA_PACKAGES: 'jq', MCP_BRIDGE_PIP_REQUIREMENTS: 'req.txt', MCP_BRIDGE_PIP_FIND_LINKS: 'wheels' }), false, '/home/u');
  assert.equal(derived.kind, 'build');
  if (derived.kind !== 'build') return;
  assert.deepEqual(derived.build.user, { extraPackages: ['jq'], pipRequirements: '/home/u/req.txt', pipFindLinks: '/home/u/wheels' });
  assert.match(derived.build.tag, /^mcp-code-mode\/sandbox:local-user-[0-9a-f]{12}$/);
  assert.deepEqual(builderArgs(derived.build), [
    derived.build.tag,
    '--profile', 'base',
    '--extra-packages', 'jq',
    '--pip-requirements', '/home/u/req.txt',
    '--pip-find-links', '/home/u/wheels',
  ]);
});

test('a derived tag is named by which packages and files, not by their content or order', () => {
  const tag = (extra: string[], req?: string) => imageTag('data', { extraPackages: extra, ...(req ? { pipRequirements: req } : {}) });
  assert.equal(imageTag('data', { extraPackages: [] }), PROFILE_TAGS.data);
  assert.equal(imageTag('base', { extraPackages: [] }), LOCAL_IMAGE);
  assert.equal(tag(['jq']), tag(['jq']));
  assert.notEqual(tag(['jq']), tag(['jq', 'curl']));
  assert.notEqual(tag(['jq']), tag(['jq'], '/r.txt'));
  assert.notEqual(tag(['jq']), imageTag('base', { extraPackages: ['jq'] }));
  assert.ok(tag(['jq']).startsWith('mcp-code-mode/sandbox:data-user-'));
});

test('image build/ensure arguments are checked', () => {
  assert.deepEqual(parseImageArgs(['build']), { sub: 'build' });
  assert.deepEqual(parseImageArgs(['build', '--profile', 'data']), { sub: 'build', profile: 'data' });
  assert.deepEqual(parseImageArgs(['build', '--profile=base']), { sub: 'build', profile: 'base' });
  assert.deepEqual(parseImageArgs(['ensure']), { sub: 'ensure' });
  assert.deepEqual(parseImageArgs([]), { problem: 'image needs a subcommand: build [--profile base|data] or ensure' });
  assert.deepEqual(parseImageArgs(['build', '--profile', 'big']), { problem: '--profile must be base or data, got "big"' });
  assert.deepEqual(parseImageArgs(['build', '--profile']), { problem: '--profile needs base or data' });
  assert.deepEqual(parseImageArgs(['build', '--force']), { problem: 'image build: unknown argument "--force"' });
  assert.match((parseImageArgs(['ensure', '--profile', 'data']) as { problem: string }).problem, /follows MCP_BRIDGE_IMAGE_PROFILE/);
});

test('what an image holds is read from its labels', () => {
  const labels = { 'mcp-code-mode.profile': 'data', 'mcp-code-mode.extra-packages': 'jq,libxml2-utils', 'mcp-code-mode.pip-packages': 'tinypkg==0.1,other==2.0', 'mcp-code-mode.inputs': 'abc' };
  assert.deepEqual(imageContents(labels), { profile: 'data', extraPackages: ['jq', 'libxml2-utils'], pipPackages: ['tinypkg==0.1', 'other==2.0'] });
  assert.equal(formatImageContents(imageContents(labels)), 'profile data; extra packages: jq, libxml2-utils; pip packages: tinypkg==0.1, other==2.0');
  assert.equal(formatImageContents(imageContents({ 'mcp-code-mode.profile': 'base', 'mcp-code-mode.extra-packages': '', 'mcp-code-mode.pip-packages': '' })), 'profile base; extra packages: none; pip packages: none');
  // An image built before profiles (inputs label only), or by someone else.
  assert.deepEqual(imageContents({ 'mcp-code-mode.inputs': 'abc' }), { extraPackages: [], pipPackages: [] });
  assert.equal(formatImageContents(imageContents({})), 'not built by mcp-code-mode (no profile label)');
});

/** A stand-in for docker/build-local-image.sh that records its arguments. */
function fakeBuilder(): { script: string; log: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-prof-'));
  const log = join(dir, 'log');
  writeFileSync(log, '');
  const script = join(dir, 'build.sh');
  writeFileSync(script, `echo "$*" >> ${log}\necho "phase line"\n`);
  return { script, log };
}

test('a build plan runs the builder with its arguments and uses the tag; a missing requirements file names the variable', async () => {
  const builder = fakeBuilder();
  const present = new Set<string>();
  const client = { imageLabels: async (ref: string) => (present.has(ref) ? {} : undefined), pull: async () => assert.fail('no pull for a profile') } as unknown as ContainerClient;
  const lines: string[] = [];
  present.add(PROFILE_TAGS.data);
  const image = await ensureConfiguredImage(client, config({ MCP_BRIDGE_IMAGE_PROFILE: 'data', MCP_BRIDGE_EXTRA_PACKAGES: '' }), { explicit: false, cwd: '/', onProgress: (l) => lines.push(l), buildEnv: {}, buildScript: builder.script });
  assert.equal(image, PROFILE_TAGS.data);
  assert.equal(readFileSync(builder.log, 'utf8'), `${PROFILE_TAGS.data} --profile data\n`);
  assert.deepEqual(lines, ['phase line']);

  await assert.rejects(
    ensureConfiguredImage(client, config({ MCP_BRIDGE_PIP_REQUIREMENTS: 'nope/requirements.txt' }), { explicit: false, cwd: '/tmp', onProgress: () => undefined, buildEnv: {}, buildScript: builder.script }),
    /^EngineError: MCP_BRIDGE_PIP_REQUIREMENTS=\/tmp\/nope\/requirements.txt is not a readable file$/,
  );
  // The builder "succeeded" but the tag is not there: said so, not used.
  await assert.rejects(
    ensureConfiguredImage(client, config({ MCP_BRIDGE_EXTRA_PACKAGES: 'jq' }), { explicit: false, cwd: '/', onProgress: () => undefined, buildEnv: {}, buildScript: builder.script }),
    /the image builder finished but mcp-code-mode\/sandbox:local-user-[0-9a-f]{12} is not in the engine/,
  );
});

// The inputs hash is the builder's (one implementation, no engine needed for --print-inputs).
function inputs(...args: string[]): string {
  const r = spawnSync('bash', [BUILD_SCRIPT, '--print-inputs', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('the inputs hash: base alone is the script and packages.txt, as before profiles; the user packages each change it', () => {
  const base = inputs();
  const expected = createHash('sha256').update(Buffer.concat([readFileSync(BUILD_SCRIPT), readFileSync(new URL('../../docker/packages.txt', import.meta.url))])).digest('hex');
  assert.equal(base, expected);
  const data = inputs('--profile', 'data');
  assert.notEqual(data, base);
  assert.equal(inputs('--extra-packages', 'jq curl'), inputs('--extra-packages', 'curl,jq,jq'));
  assert.notEqual(inputs('--extra-packages', 'jq'), base);
  assert.notEqual(inputs('--profile', 'data', '--extra-packages', 'jq'), inputs('--extra-packages', 'jq'));

  const dir = mkdtempSync(join(tmpdir(), 'mcm-inputs-'));
  const req = join(dir, 'requirements.txt');
  const wheels = join(dir, 'wheels');
  mkdirSync(wheels);
  writeFileSync(req, 'tinypkg==0.1\n');
  writeFileSync(join(wheels, 'tinypkg-0.1-py3-none-any.whl'), 'one');
  const withPip = inputs('--pip-requirements', req);
  const withWheels = inputs('--pip-requirements', req, '--pip-find-links', wheels);
  assert.notEqual(withPip, base);
  assert.notEqual(withWheels, withPip);
  assert.equal(inputs('--pip-requirements', req, '--pip-find-links', wheels), withWheels, 'stable');
  writeFileSync(join(wheels, 'tinypkg-0.1-py3-none-any.whl'), 'two');
  const changedWheel = inputs('--pip-requirements', req, '--pip-find-links', wheels);
  assert.notEqual(changedWheel, withWheels, 'a wheel whose bytes change');
  writeFileSync(join(wheels, 'other-1.0-py3-none-any.whl'), 'x');
  assert.notEqual(inputs('--pip-requirements', req, '--pip-find-links', wheels), changedWheel, 'a wheel added');
  writeFileSync(req, 'tinypkg==0.2\n');
  assert.notEqual(inputs('--pip-requirements', req), withPip, 'the requirements content');
});

test('the builder refuses bad arguments before any work, naming them', () => {
  const run = (...args: string[]) => spawnSync('bash', [BUILD_SCRIPT, '--print-inputs', ...args], { encoding: 'utf8' });
  const bad = run('--extra-packages', 'jq Foo_bar');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--extra-packages: 'Foo_bar' is not a Debian package name/);
  const links = run('--pip-find-links', tmpdir());
  assert.equal(links.status, 2);
  assert.match(links.stderr, /--pip-find-links needs --pip-requirements/);
  const profile = run('--profile', 'huge');
  assert.equal(profile.status, 2);
  assert.match(profile.stderr, /--profile must be base or data \(got 'huge'\)/);
  const missing = run('--pip-requirements', '/nonexistent/requirements.txt');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /pip requirements file \/nonexistent\/requirements.txt is not a readable file/);
});
