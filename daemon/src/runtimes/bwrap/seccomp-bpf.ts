// The bwrap sandbox's seccomp filter, compiled by us to classic BPF (bwrap loads it from an fd with
// `--seccomp FD`). No libseccomp: Debian ships no tool that compiles a filter to a file, and the
// program is small enough to be read whole (see sandboxFilter).

/** x86_64 syscall numbers (the ABI is frozen; test/unit/bwrap-seccomp.test.ts checks them against the kernel header when it is installed). */
export const X86_64_SYSCALLS = {
  clone: 56,
  ptrace: 101,
  syslog: 103,
  uselib: 134,
  vhangup: 153,
  pivot_root: 155,
  _sysctl: 156,
  adjtimex: 159,
  chroot: 161,
  acct: 163,
  settimeofday: 164,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  iopl: 172,
  ioperm: 173,
  create_module: 174,
  init_module: 175,
  delete_module: 176,
  get_kernel_syms: 177,
  query_module: 178,
  quotactl: 179,
  nfsservctl: 180,
  lookup_dcookie: 212,
  clock_settime: 227,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  fanotify_init: 300,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  clock_adjtime: 305,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  clone3: 435,
  mount_setattr: 442,
  quotactl_fd: 443,
} as const;

export type SyscallName = keyof typeof X86_64_SYSCALLS;

/**
 * Refused with EPERM. The container profile's list (namespaces, the mount family, the keyring, the
 * kernel log), plus what the engines' default allowlists leave out and an allow-by-default filter
 * must therefore name: tracing and other processes' memory, eBPF and perf, kernel modules and
 * kexec, clocks, swap, quotas, io_uring (a large surface that seccomp cannot see into).
 */
export const BWRAP_DENIED_SYSCALLS: readonly SyscallName[] = [
  'unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'mount_setattr', 'move_mount', 'open_tree',
  'fsopen', 'fsconfig', 'fsmount', 'fspick', 'keyctl', 'add_key', 'request_key', 'syslog',
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'bpf', 'perf_event_open', 'userfaultfd',
  'init_module', 'finit_module', 'delete_module', 'create_module', 'get_kernel_syms', 'query_module',
  'kexec_load', 'kexec_file_load', 'reboot', 'swapon', 'swapoff', 'acct', 'quotactl', 'quotactl_fd',
  'nfsservctl', 'lookup_dcookie', 'uselib', '_sysctl', 'vhangup', 'chroot', 'iopl', 'ioperm',
  'settimeofday', 'clock_settime', 'adjtimex', 'clock_adjtime', 'name_to_handle_at', 'open_by_handle_at',
  'fanotify_init', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
];

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (as the container profile). */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
/** Syscall numbers with this bit are the x32 ABI, a second table that a filter on numbers must not let through. */
export const X32_SYSCALL_BIT = 0x40000000;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

// Classic BPF opcodes (linux/bpf_common.h).
export const BPF_LD_W_ABS = 0x20;
export const BPF_JEQ_K = 0x15;
export const BPF_JGE_K = 0x35;
export const BPF_JSET_K = 0x45;
export const BPF_RET_K = 0x06;

/** struct seccomp_data offsets: nr, arch, then args[i] as 64-bit values (little-endian: low half first). */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const seccompDataArgLow = (index: number): number => 16 + 8 * index;

/** One instruction as the kernel reads it (struct sock_filter). */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** An instruction before assembly: jumps name labels (or 0 for "the next instruction"). */
type Step =
  | { label: string }
  | { code: number; k: number; jt?: string; jf?: string };

/**
 * Resolves labels into the relative offsets classic BPF jumps take (0-255 instructions forward).
 * A label used and never defined, or a jump too far, is a bug in the program: it throws.
 */
export function assemble(steps: Step[]): BpfInstruction[] {
  const at = new Map<string, number>();
  let count = 0;
  for (const step of steps) {
    if ('label' in step) {
      if (at.has(step.label)) throw new Error(`BPF label ${step.label} defined twice`);
      at.set(step.label, count);
    } else count++;
  }
  const out: BpfInstruction[] = [];
  const offset = (label: string | undefined, from: number): number => {
    if (label === undefined) return 0;
    const target = at.get(label);
    if (target === undefined) throw new Error(`BPF label ${label} is not defined`);
    const delta = target - from - 1;
    if (delta < 0 || delta > 255) throw new Error(`BPF jump to ${label} is ${delta} instructions, outside 0..255`);
    return delta;
  };
  for (const step of steps) {
    if ('label' in step) continue;
    const index = out.length;
    out.push({ code: step.code, jt: offset(step.jt, index), jf: offset(step.jf, index), k: step.k >>> 0 });
  }
  return out;
}

/**
 * The filter: anything but native x86_64 is killed (a 32-bit or x32 call would be read against the
 * wrong table); the denied calls answer EPERM; clone with any namespace flag answers EPERM; clone3
 * answers ENOSYS, because its flags live in memory that seccomp cannot read, and libc then falls
 * back to clone; everything else is allowed. Allow-by-default like the container profile's
 * additions: what the rest of the kernel offers is bounded by no capabilities, the user namespace
 * and no_new_privs.
 */
export function sandboxFilter(denied: readonly SyscallName[] = BWRAP_DENIED_SYSCALLS): BpfInstruction[] {
  const steps: Step[] = [
    { code: BPF_LD_W_ABS, k: SECCOMP_DATA_ARCH },
    { code: BPF_JEQ_K, k: AUDIT_ARCH_X86_64, jf: 'kill' },
    { code: BPF_LD_W_ABS, k: SECCOMP_DATA_NR },
    { code: BPF_JGE_K, k: X32_SYSCALL_BIT, jt: 'kill' },
    ...denied.map((name): Step => ({ code: BPF_JEQ_K, k: X86_64_SYSCALLS[name], jt: 'eperm' })),
    { code: BPF_JEQ_K, k: X86_64_SYSCALLS.clone3, jt: 'enosys' },
    { code: BPF_JEQ_K, k: X86_64_SYSCALLS.clone, jf: 'allow' },
    // clone(flags, ...): the namespace flags are all in the low 32 bits of the first argument.
    { code: BPF_LD_W_ABS, k: seccompDataArgLow(0) },
    { code: BPF_JSET_K, k: CLONE_NAMESPACE_FLAGS, jt: 'eperm' },
    { label: 'allow' },
    { code: BPF_RET_K, k: SECCOMP_RET_ALLOW },
    { label: 'eperm' },
    { code: BPF_RET_K, k: SECCOMP_RET_ERRNO | EPERM },
    { label: 'enosys' },
    { code: BPF_RET_K, k: SECCOMP_RET_ERRNO | ENOSYS },
    { label: 'kill' },
    { code: BPF_RET_K, k: SECCOMP_RET_KILL_PROCESS },
  ];
  return assemble(steps);
}

/** The program as bwrap reads it from its --seccomp fd: struct sock_filter[] in host byte order. */
export function encodeFilter(program: BpfInstruction[]): Buffer {
  if (program.length > 4096) throw new Error(`seccomp program of ${program.length} instructions, over the kernel's 4096`);
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    out.writeUInt16LE(ins.code, i * 8);
    out.writeUInt8(ins.jt, i * 8 + 2);
    out.writeUInt8(ins.jf, i * 8 + 3);
    out.writeUInt32LE(ins.k, i * 8 + 4);
  });
  return out;
}

/** The filter is written for x86_64 only: elsewhere the bwrap runtime refuses to start rather than run unfiltered. */
export function hostSupportsFilter(arch: string = process.arch): boolean {
  return arch === 'x64';
}
