import { readFile } from 'node:fs/promises';

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo: number;
  op: string;
}

export interface SeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  errno?: string;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: { arches?: string[]; caps?: string[]; minKernel?: string };
  excludes?: { arches?: string[]; caps?: string[]; minKernel?: string };
}

/** The profile format that Docker and Podman both read (moby's and containers/common's). */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  defaultErrno?: string;
  archMap?: { architecture: string; subArchitectures: string[] }[];
  syscalls: SeccompRule[];
}

const EPERM = 1;
const ENOSYS = 38;

/**
 * Calls the sandbox never needs that open kernel surface: namespaces (a user namespace gives a
 * process every capability inside it, the usual first step of a container escape), the mount
 * family, the kernel keyring, the kernel log. Podman's default profile allows all of them and
 * leaves the refusal to capability checks, which a user namespace defeats; Docker's default
 * refuses them without CAP_SYS_ADMIN. The sandbox refuses them on both.
 */
export const DENIED_SYSCALLS = [
  'unshare',
  'setns',
  'mount',
  'umount',
  'umount2',
  'pivot_root',
  'mount_setattr',
  'move_mount',
  'open_tree',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'keyctl',
  'add_key',
  'request_key',
  'syslog',
] as const;

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET: clone may create none. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const cloneFlags = (index: number): SeccompArg[] => [{ index, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }];

/** Where containers-common installs Podman's default profile: the admin's copy first. */
export const DEFAULT_PROFILE_PATHS = ['/etc/containers/seccomp.json', '/usr/share/containers/seccomp.json'];

/**
 * The engine's own default profile as installed on this machine, or undefined when there is none.
 * The sandbox starts from it (it is an allowlist kept up to date with the kernel by its packagers)
 * rather than from a copy of our own that would age.
 */
export async function loadBaseProfile(
  paths: string[] = DEFAULT_PROFILE_PATHS,
  read: (path: string) => Promise<string> = (path) => readFile(path, 'utf8'),
): Promise<{ profile: SeccompProfile; source: string } | undefined> {
  for (const path of paths) {
    let text: string;
    try {
      text = await read(path);
    } catch {
      continue;
    }
    const profile = JSON.parse(text) as SeccompProfile;
    if (typeof profile.defaultAction !== 'string' || !Array.isArray(profile.syscalls)) {
      throw new Error(`${path} is not a seccomp profile (no defaultAction or syscalls)`);
    }
    return { profile, source: path };
  }
  return undefined;
}

/** When no default profile is installed: allow by default, and refuse what sandboxSeccompProfile adds. */
export const PERMISSIVE_BASE: SeccompProfile = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] };

const NAMESPACE_FLAG_BITS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

/**
 * The sandbox's seccomp profile: the base with DENIED_SYSCALLS refused (EPERM), clone refused
 * any namespace flag (as Docker's default does), and clone3, whose flags live in memory that
 * seccomp cannot read, answered ENOSYS so that libc falls back to clone.
 */
export function sandboxSeccompProfile(base: SeccompProfile): SeccompProfile {
  const removed = new Set<string>([...DENIED_SYSCALLS, 'clone', 'clone3']);
  const syscalls = base.syscalls
    .map((rule) => (rule.action === 'SCMP_ACT_ALLOW' ? { ...rule, names: rule.names.filter((name) => !removed.has(name)) } : rule))
    .filter((rule) => rule.names.length > 0);
  // An allowlist base needs clone allowed without the flags; an allow-by-default base needs one
  // refusal per flag (seccomp compares masked values for equality only).
  const cloneRules: SeccompRule[] =
    base.defaultAction === 'SCMP_ACT_ALLOW'
      ? NAMESPACE_FLAG_BITS.flatMap((bit) => [
          { names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: bit, valueTwo: bit, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { arches: ['s390', 's390x'] } },
          { names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 1, value: bit, valueTwo: bit, op: 'SCMP_CMP_MASKED_EQ' }], includes: { arches: ['s390', 's390x'] } },
        ])
      : [
          { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: cloneFlags(0), excludes: { arches: ['s390', 's390x'] }, comment: 'clone without namespace flags' },
          { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: cloneFlags(1), includes: { arches: ['s390', 's390x'] }, comment: "s390 passes clone's flags second" },
        ];
  return {
    ...base,
    syscalls: [
      ...syscalls,
      ...cloneRules,
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, comment: 'libc falls back to clone, whose flags are checked' },
      { names: [...DENIED_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, comment: 'namespaces, mounts, keyring, kernel log' },
    ],
  };
}
