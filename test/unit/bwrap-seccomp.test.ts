import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DENIED_SYSCALLS } from '../../daemon/src/runtimes/container/seccomp.ts';
import {
  assemble,
  AUDIT_ARCH_X86_64,
  BPF_JEQ_K,
  BPF_JGE_K,
  BPF_JSET_K,
  BPF_LD_W_ABS,
  BPF_RET_K,
  BWRAP_DENIED_SYSCALLS,
  CLONE_NAMESPACE_FLAGS,
  encodeFilter,
  sandboxFilter,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  X86_64_SYSCALLS,
  type BpfInstruction,
} from '../../daemon/src/runtimes/bwrap/seccomp-bpf.ts';

/** A classic-BPF interpreter for the few opcodes the filter uses, over a struct seccomp_data. */
function run(program: BpfInstruction[], data: { nr: number; arch?: number; args?: number[] }): number {
  const words = new Map<number, number>([
    [0, data.nr >>> 0],
    [4, (data.arch ?? AUDIT_ARCH_X86_64) >>> 0],
  ]);
  (data.args ?? []).forEach((value, i) => words.set(16 + 8 * i, value >>> 0));
  let acc = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc]!;
    if (code === BPF_LD_W_ABS) acc = words.get(k) ?? 0;
    else if (code === BPF_JEQ_K) pc += acc === k ? jt : jf;
    else if (code === BPF_JGE_K) pc += acc >= k ? jt : jf;
    else if (code === BPF_JSET_K) pc += (acc & k) !== 0 ? jt : jf;
    else if (code === BPF_RET_K) return k;
    else throw new Error(`opcode ${code} at ${pc}`);
  }
  throw new Error('fell off the end of the program');
}

const EPERM = SECCOMP_RET_ERRNO | 1;
const ENOSYS = SECCOMP_RET_ERRNO | 38;

test('a one-call filter assembles to the exact expected instructions', () => {
  assert.deepEqual(sandboxFilter(['unshare']), [
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 4 },
    { code: BPF_JEQ_K, jt: 0, jf: 10, k: AUDIT_ARCH_X86_64 },
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 0 },
    { code: BPF_JGE_K, jt: 8, jf: 0, k: 0x40000000 },
    { code: BPF_JEQ_K, jt: 5, jf: 0, k: 272 },
    { code: BPF_JEQ_K, jt: 5, jf: 0, k: 435 },
    { code: BPF_JEQ_K, jt: 0, jf: 2, k: 56 },
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 16 },
    { code: BPF_JSET_K, jt: 1, jf: 0, k: CLONE_NAMESPACE_FLAGS },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW },
    { code: BPF_RET_K, jt: 0, jf: 0, k: EPERM },
    { code: BPF_RET_K, jt: 0, jf: 0, k: ENOSYS },
    { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_KILL_PROCESS },
  ]);
});

test('the filter refuses every denied call, clone with a namespace flag, and answers clone3 ENOSYS', () => {
  const program = sandboxFilter();
  for (const name of BWRAP_DENIED_SYSCALLS) assert.equal(run(program, { nr: X86_64_SYSCALLS[name] }), EPERM, name);
  assert.equal(run(program, { nr: X86_64_SYSCALLS.clone3 }), ENOSYS);
  for (const flag of [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
    assert.equal(run(program, { nr: 56, args: [0x01200011 | flag] }), EPERM, `clone with 0x${flag.toString(16)}`);
  }
  // What fork() and pthread_create pass: allowed.
  assert.equal(run(program, { nr: 56, args: [0x01200011] }), SECCOMP_RET_ALLOW);
  assert.equal(run(program, { nr: 56, args: [0x003d0f00] }), SECCOMP_RET_ALLOW);
  for (const nr of [0, 1, 59, 231, 444, 445, 446]) assert.equal(run(program, { nr }), SECCOMP_RET_ALLOW, `syscall ${nr}`);
});

test('another architecture and the x32 table are killed', () => {
  const program = sandboxFilter();
  assert.equal(run(program, { nr: 1, arch: 0x40000003 /* i386 */ }), SECCOMP_RET_KILL_PROCESS);
  assert.equal(run(program, { nr: 0x40000000 + 272 }), SECCOMP_RET_KILL_PROCESS);
});

test('the filter covers every call the container profile refuses', () => {
  // umount does not exist on x86_64 (umount2 is the one call).
  for (const name of DENIED_SYSCALLS.filter((n) => n !== 'umount')) {
    assert.ok((BWRAP_DENIED_SYSCALLS as readonly string[]).includes(name), `${name} missing`);
  }
});

test('the syscall numbers match the kernel header', { skip: !existsSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h') && 'no unistd_64.h (install linux-libc-dev)' }, () => {
  const header = readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8');
  for (const [name, nr] of Object.entries(X86_64_SYSCALLS)) {
    const m = new RegExp(`#define __NR_${name} (\\d+)`).exec(header);
    assert.ok(m, `${name} is not in the header`);
    assert.equal(Number(m[1]), nr, name);
  }
});

test('the assembler refuses an undefined label and a jump over 255 instructions', () => {
  assert.throws(() => assemble([{ code: BPF_JEQ_K, k: 1, jt: 'nowhere' }]), /nowhere is not defined/);
  const far = [{ code: BPF_JEQ_K, k: 1, jt: 'end' }, ...Array.from({ length: 256 }, () => ({ code: BPF_LD_W_ABS, k: 0 })), { label: 'end' }, { code: BPF_RET_K, k: 0 }];
  assert.throws(() => assemble(far), /256 instructions, outside 0..255/);
});

test('the encoding is struct sock_filter, little-endian', () => {
  const bytes = encodeFilter([{ code: 0x15, jt: 2, jf: 3, k: 0xc000003e }]);
  assert.deepEqual([...bytes], [0x15, 0x00, 2, 3, 0x3e, 0x00, 0x00, 0xc0]);
});
