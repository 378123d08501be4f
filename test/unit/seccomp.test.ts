import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import {
  CLONE_NAMESPACE_FLAGS,
  DENIED_SYSCALLS,
  loadBaseProfile,
  PERMISSIVE_BASE,
  sandboxSeccompProfile,
  type SeccompProfile,
} from '../../daemon/src/runtimes/container/seccomp.ts';

// A small allowlist base of our own, shaped like the engines' defaults.
const BASE: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
  syscalls: [
    { names: ['read', 'write', 'execve', 'socket', 'fork', 'futex', 'clone', 'clone3', 'unshare', 'setns', 'mount', 'keyctl'], action: 'SCMP_ACT_ALLOW' },
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
  ],
};

const allowed = (profile: SeccompProfile): Set<string> =>
  new Set(profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args?.length && !r.includes?.caps).flatMap((r) => r.names));

test('namespaces, mounts, the keyring and the kernel log are refused with EPERM', () => {
  const profile = sandboxSeccompProfile(BASE);
  for (const name of DENIED_SYSCALLS) assert.ok(!allowed(profile).has(name), `${name} is still allowed`);
  const denied = profile.syscalls.find((r) => r.action === 'SCMP_ACT_ERRNO' && r.names.includes('unshare'));
  assert.deepEqual(denied?.names, [...DENIED_SYSCALLS]);
  assert.equal(denied?.errnoRet, 1);
});

test('on an allowlist base, clone is allowed only without namespace flags; clone3 gets ENOSYS', () => {
  const profile = sandboxSeccompProfile(BASE);
  const clones = profile.syscalls.filter((r) => r.names.includes('clone'));
  assert.equal(clones.length, 2);
  for (const rule of clones) {
    assert.equal(rule.action, 'SCMP_ACT_ALLOW');
    assert.deepEqual(rule.args?.map((a) => [a.value, a.valueTwo, a.op]), [[CLONE_NAMESPACE_FLAGS, 0, 'SCMP_CMP_MASKED_EQ']]);
  }
  assert.equal(CLONE_NAMESPACE_FLAGS, 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000);
  const clone3 = profile.syscalls.find((r) => r.names.includes('clone3'));
  assert.deepEqual([clone3?.action, clone3?.errnoRet], ['SCMP_ACT_ERRNO', 38]);
});

test('on an allow-by-default base, clone with any namespace flag is refused, one rule per flag', () => {
  const profile = sandboxSeccompProfile(PERMISSIVE_BASE);
  assert.equal(profile.defaultAction, 'SCMP_ACT_ALLOW');
  const refusals = profile.syscalls.filter((r) => r.names.includes('clone') && r.action === 'SCMP_ACT_ERRNO');
  const bits = refusals.filter((r) => r.args?.[0]?.index === 0).map((r) => r.args![0]!.value);
  assert.equal(bits.reduce((a, b) => a | b, 0), CLONE_NAMESPACE_FLAGS);
  for (const rule of refusals) assert.equal(rule.args?.[0]?.value, rule.args?.[0]?.valueTwo, 'refused when the flag bit is set');
  assert.ok(profile.syscalls.some((r) => r.action === 'SCMP_ACT_ERRNO' && r.names.includes('unshare')));
});

test('everything else of the base profile is kept', () => {
  const profile = sandboxSeccompProfile(BASE);
  assert.equal(profile.defaultAction, BASE.defaultAction);
  assert.deepEqual(profile.archMap, BASE.archMap);
  for (const name of ['read', 'write', 'execve', 'socket', 'fork', 'futex']) assert.ok(allowed(profile).has(name), name);
  assert.ok(profile.syscalls.some((r) => r.names.includes('ptrace') && r.includes?.minKernel === '4.8'));
});

test('the base is the first installed default profile; none installed is undefined; garbage is an error naming the file', async () => {
  const files: Record<string, string> = { '/b.json': JSON.stringify(BASE) };
  const read = async (path: string): Promise<string> => {
    if (!(path in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return files[path]!;
  };
  assert.deepEqual(await loadBaseProfile(['/a.json', '/b.json'], read), { profile: BASE, source: '/b.json' });
  assert.equal(await loadBaseProfile(['/a.json'], read), undefined);
  files['/bad.json'] = '{"hello": 1}';
  await assert.rejects(loadBaseProfile(['/bad.json'], read), /\/bad\.json is not a seccomp profile/);
});

test("this machine's installed Podman default, changed for the sandbox, refuses what the sandbox refuses", { skip: !existsSync('/usr/share/containers/seccomp.json') && 'no containers-common profile here' }, async () => {
  const base = await loadBaseProfile();
  assert.ok(base);
  const profile = sandboxSeccompProfile(base.profile);
  for (const name of DENIED_SYSCALLS) assert.ok(!allowed(profile).has(name), name);
  for (const name of ['read', 'write', 'execve', 'futex']) assert.ok(allowed(profile).has(name), name);
});
