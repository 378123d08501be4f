import { z } from 'zod';
import { APPROVAL_MODES } from './approvals.js';
import { OutputModeSchema } from './run.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `512m`, `1g`, `65536` -> bytes. */
function byteSize(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.string().transform((raw, ctx) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*$/i.exec(raw);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a size like 512m or 1g, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    }
    const bytes = Math.floor(Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()]!);
    if (bytes < min || bytes > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min} bytes` : `from ${min} to ${max} bytes`;
      ctx.addIssue({ code: 'custom', message: `${name} must be ${range}, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    }
    return bytes;
  });
}

function int(name: string, min: number, max: number) {
  return z.string().transform((raw, ctx) => {
    const value = Number(raw.trim());
    if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    }
    return value;
  });
}

function positiveNumber(name: string) {
  return z.string().transform((raw, ctx) => {
    const value = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a positive number, got ${JSON.stringify(raw)}` });
      return z.NEVER;
    }
    return value;
  });
}

function flag(name: string) {
  return z.string().transform((raw, ctx) => {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    ctx.addIssue({ code: 'custom', message: `${name} must be 1 or 0, got ${JSON.stringify(raw)}` });
    return z.NEVER;
  });
}

/** Debian policy: lowercase letters, digits, `+`, `-` and `.`, starting with a letter or digit, two characters at least. */
export const DEBIAN_PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** `a, b c` -> ['a', 'b', 'c']: Debian package names, comma or space separated, sorted and deduplicated. */
function debianPackages(name: string) {
  return z.string().transform((raw, ctx) => {
    const names = raw.split(/[\s,]+/).filter((n) => n !== '');
    const bad = names.filter((n) => !DEBIAN_PACKAGE_NAME.test(n));
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `${name}: ${bad.map((n) => JSON.stringify(n)).join(', ')} ${bad.length === 1 ? 'is not a Debian package name' : 'are not Debian package names'} (lowercase letters, digits, + - . and at least 2 characters; comma or space separated)` });
      return z.NEVER;
    }
    return [...new Set(names)].sort();
  });
}

/** A dotted Python module name (`matplotlib.pyplot`). */
const PYTHON_MODULE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** `a, b.c` -> ['a', 'b.c']: Python module names, comma or space separated, in order, deduplicated; `none` for none. */
function pythonModules(name: string) {
  return z.string().transform((raw, ctx) => {
    if (raw.trim() === 'none') return [];
    const names = raw.split(/[\s,]+/).filter((n) => n !== '');
    if (names.length > 32) {
      ctx.addIssue({ code: 'custom', message: `${name}: ${names.length} modules, at most 32` });
      return z.NEVER;
    }
    const bad = names.filter((n) => !PYTHON_MODULE.test(n) || n.length > 100);
    if (bad.length > 0) {
      ctx.addIssue({ code: 'custom', message: `${name}: ${bad.map((n) => JSON.stringify(n)).join(', ')} ${bad.length === 1 ? 'is not a Python module name' : 'are not Python module names'} (dotted identifiers such as matplotlib.pyplot; comma or space separated)` });
      return z.NEVER;
    }
    return [...new Set(names)];
  });
}

export const IMAGE_PROFILES = ['base', 'data'] as const;
export const ImageProfileSchema = z.enum(IMAGE_PROFILES);
export type ImageProfile = z.infer<typeof ImageProfileSchema>;

/**
 * Every MCP_BRIDGE_* variable, its default and its check. Keys are the variable names so that a
 * failed check names the variable. docs/CONFIG.md documents each one (a test checks the list).
 */
export const EnvConfigSchema = z.object({
  MCP_BRIDGE_RUNTIME: z
    .string()
    .regex(/^(docker|podman|bwrap|\/.+|unix:\/\/\/.+|tcp:\/\/.+)$/, 'MCP_BRIDGE_RUNTIME must be docker, podman, bwrap, or a socket path')
    .optional(),
  MCP_BRIDGE_IMAGE: z.string().min(1).default('python:3.12-slim'),
  /** Which image the builder makes and the daemon uses when MCP_BRIDGE_IMAGE is not set. */
  MCP_BRIDGE_IMAGE_PROFILE: z.enum(IMAGE_PROFILES, { error: (issue) => `MCP_BRIDGE_IMAGE_PROFILE must be ${IMAGE_PROFILES.join(' or ')}, got ${JSON.stringify(issue.input)}` }).default('base'),
  /** Debian packages added to the offline build (a derived image). */
  MCP_BRIDGE_EXTRA_PACKAGES: debianPackages('MCP_BRIDGE_EXTRA_PACKAGES').optional(),
  /** A requirements file installed with pip into a derived image at build time (never at run time). */
  MCP_BRIDGE_PIP_REQUIREMENTS: z.string().min(1).optional(),
  /** A wheelhouse: pip installs from it alone (--no-index --find-links). */
  MCP_BRIDGE_PIP_FIND_LINKS: z.string().min(1).optional(),
  /**
   * Modules a warm sandbox imports before it is handed out, those the image has (the others are
   * skipped): a run on the data image then finds pandas and pyplot loaded instead of paying seconds.
   */
  MCP_BRIDGE_PRELOAD: pythonModules('MCP_BRIDGE_PRELOAD').default(['numpy', 'pandas', 'matplotlib.pyplot']),
  MCP_BRIDGE_TIMEOUT: int('MCP_BRIDGE_TIMEOUT', 1, 86400).default(30),
  MCP_BRIDGE_MAX_TIMEOUT: int('MCP_BRIDGE_MAX_TIMEOUT', 1, 86400).default(120),
  MCP_BRIDGE_MEMORY: byteSize('MCP_BRIDGE_MEMORY', 6 * 1024 * 1024).default(512 * 1024 ** 2),
  MCP_BRIDGE_PIDS: int('MCP_BRIDGE_PIDS', 8, 1_000_000).default(128),
  MCP_BRIDGE_CPUS: positiveNumber('MCP_BRIDGE_CPUS').optional(),
  MCP_BRIDGE_CONTAINER_USER: z
    .string()
    .regex(/^\d+(:\d+)?$/, 'MCP_BRIDGE_CONTAINER_USER must be UID or UID:GID, numeric')
    .default('65534:65534'),
  MCP_BRIDGE_TMPFS_SIZE: byteSize('MCP_BRIDGE_TMPFS_SIZE', 1024 * 1024).default(64 * 1024 ** 2),
  MCP_BRIDGE_NOFILE: int('MCP_BRIDGE_NOFILE', 64, 1_048_576).default(1024),
  MCP_BRIDGE_NPROC: int('MCP_BRIDGE_NPROC', 16, 1_048_576).default(4096),
  MCP_BRIDGE_POOL_SIZE: int('MCP_BRIDGE_POOL_SIZE', 0, 256).default(2),
  MCP_BRIDGE_POOL_MAX: int('MCP_BRIDGE_POOL_MAX', 1, 256).default(8),
  MCP_BRIDGE_QUEUE_MAX: int('MCP_BRIDGE_QUEUE_MAX', 0, 100_000).default(64),
  /** Seconds with no run before the pool keeps no warm sandbox (an engine VM may sleep); 0 = never. */
  MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT: int('MCP_BRIDGE_RUNTIME_IDLE_TIMEOUT', 0, 7 * 86400).default(300),
  /** The engine's OCI runtime for sandboxes (`runsc` for gVisor); the engine's default when unset. */
  MCP_BRIDGE_OCI_RUNTIME: z
    .string()
    .regex(/^(\/[^\s]+|[A-Za-z0-9][A-Za-z0-9._-]*)$/, 'MCP_BRIDGE_OCI_RUNTIME must be a runtime name the engine knows (runsc) or, on Podman, an absolute path')
    .optional(),
  MCP_BRIDGE_MAX_OUTPUT_BYTES: byteSize('MCP_BRIDGE_MAX_OUTPUT_BYTES', 1).default(64 * 1024),
  // Code travels to the sandbox in one frame, which is capped at 8 MiB.
  MCP_BRIDGE_MAX_CODE_BYTES: byteSize('MCP_BRIDGE_MAX_CODE_BYTES', 1024, 4 * 1024 * 1024).default(1024 * 1024),
  MCP_BRIDGE_OUTPUT_MODE: OutputModeSchema.default('toon'),
  MCP_BRIDGE_STATE_DIR: z.string().min(1).optional(),
  MCP_BRIDGE_HTTP_PORT: int('MCP_BRIDGE_HTTP_PORT', 0, 65535).default(0),
  MCP_BRIDGE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MCP_BRIDGE_AUTOSTART: flag('MCP_BRIDGE_AUTOSTART').default(true),
  /** Seconds a session may stay idle (no run) before it ends and its container is removed. */
  MCP_BRIDGE_SESSION_TTL: int('MCP_BRIDGE_SESSION_TTL', 1, 7 * 86400).default(15 * 60),
  /**
   * Read by the shim: 1 sends the result as structuredContent too, and the tool's outputSchema. Off
   * by default because Claude Code then hands the model the JSON (2.4x the tokens of our text).
   */
  MCP_BRIDGE_STRUCTURED_CONTENT: flag('MCP_BRIDGE_STRUCTURED_CONTENT').default(false),
  /** Sessions open at once; 0 turns sessions off. */
  MCP_BRIDGE_MAX_SESSIONS: int('MCP_BRIDGE_MAX_SESSIONS', 0, 256).default(8),
  /** bwrap: run sandboxes without memory, pids and CPU limits where cgroups cannot be used (never the default). */
  MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED: flag('MCP_BRIDGE_BWRAP_ALLOW_UNLIMITED').default(false),
  /** bwrap as root: the first host uid of the range the sandboxes run as (one uid per sandbox). */
  MCP_BRIDGE_BWRAP_UID_BASE: int('MCP_BRIDGE_BWRAP_UID_BASE', 1000, 4_000_000_000).default(200_000),
  MCP_BRIDGE_BWRAP_UID_COUNT: int('MCP_BRIDGE_BWRAP_UID_COUNT', 16, 1_000_000).default(10_000),
  /** bwrap as a user: a delegated cgroup v2 directory the daemon may create sandbox cgroups in. */
  MCP_BRIDGE_BWRAP_CGROUP: z.string().regex(/^\//, 'MCP_BRIDGE_BWRAP_CGROUP must be an absolute path').optional(),
  /** bwrap: where the unpacked sandbox root filesystems are kept. */
  MCP_BRIDGE_BWRAP_CACHE: z.string().regex(/^\//, 'MCP_BRIDGE_BWRAP_CACHE must be an absolute path').optional(),
  /** Tool calls one run may make; past it a call raises MCPError naming this variable. */
  MCP_BRIDGE_MAX_TOOL_CALLS: int('MCP_BRIDGE_MAX_TOOL_CALLS', 1, 1_000_000).default(1000),
  /** Tool calls of one run in flight at once; more wait their turn (asyncio.gather of thousands stays bounded). */
  MCP_BRIDGE_MAX_CONCURRENT_CALLS: int('MCP_BRIDGE_MAX_CONCURRENT_CALLS', 1, 4096).default(64),
  /** Images one run may return (show_image, plt.show); 0 turns images off. */
  MCP_BRIDGE_MAX_IMAGES: int('MCP_BRIDGE_MAX_IMAGES', 0, 64).default(8),
  /** Each image's PNG, at most; a bigger figure is re-rendered smaller, else refused. Under the frame cap with base64's growth. */
  MCP_BRIDGE_MAX_IMAGE_BYTES: byteSize('MCP_BRIDGE_MAX_IMAGE_BYTES', 1024, 4 * 1024 * 1024).default(1024 * 1024),
  /** All the files one run exports (export_file), together; 0 turns exports off. */
  MCP_BRIDGE_MAX_EXPORT_BYTES: byteSize('MCP_BRIDGE_MAX_EXPORT_BYTES', 0, 64 * 1024 * 1024).default(4 * 1024 * 1024),
  /** When sandbox code's tool calls wait for the user's approval (docs/APPROVALS.md). */
  MCP_BRIDGE_APPROVAL: z
    .enum(APPROVAL_MODES, { error: (issue) => `MCP_BRIDGE_APPROVAL must be ${APPROVAL_MODES.join(', ')}, got ${JSON.stringify(issue.input)}` })
    .default('auto'),
  /** Seconds a question waits for the user before it counts as a denial. */
  MCP_BRIDGE_APPROVAL_TIMEOUT: int('MCP_BRIDGE_APPROVAL_TIMEOUT', 1, 86400).default(300),
  /** The per-server and per-tool rules; default <state dir>/approvals.json. */
  MCP_BRIDGE_APPROVALS_FILE: z.string().min(1).optional(),
  /** Size at which <state dir>/audit.jsonl is rotated (to audit.jsonl.1, .2, .3). */
  MCP_BRIDGE_AUDIT_MAX_BYTES: byteSize('MCP_BRIDGE_AUDIT_MAX_BYTES', 64 * 1024).default(10 * 1024 ** 2),
});
export type EnvConfig = z.infer<typeof EnvConfigSchema>;
export const ENV_VARIABLES = Object.keys(EnvConfigSchema.shape) as (keyof EnvConfig)[];

export type ConfigCheck = { ok: true; config: EnvConfig } | { ok: false; problems: string[] };

/** Reads the MCP_BRIDGE_* variables out of an environment; every bad value is named. */
export function parseEnvConfig(env: Record<string, string | undefined>): ConfigCheck {
  const picked: Record<string, string> = {};
  for (const name of ENV_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') picked[name] = value;
  }
  const parsed = EnvConfigSchema.safeParse(picked);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'config');
        return issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`;
      }),
    };
  }
  const config = parsed.data;
  if (config.MCP_BRIDGE_TIMEOUT > config.MCP_BRIDGE_MAX_TIMEOUT) {
    return { ok: false, problems: [`MCP_BRIDGE_TIMEOUT (${config.MCP_BRIDGE_TIMEOUT}) must not exceed MCP_BRIDGE_MAX_TIMEOUT (${config.MCP_BRIDGE_MAX_TIMEOUT})`] };
  }
  if (config.MCP_BRIDGE_PIP_FIND_LINKS && !config.MCP_BRIDGE_PIP_REQUIREMENTS) {
    return { ok: false, problems: ['MCP_BRIDGE_PIP_FIND_LINKS is set but MCP_BRIDGE_PIP_REQUIREMENTS is not: name the requirements file to install from that wheelhouse'] };
  }
  if (config.MCP_BRIDGE_POOL_SIZE > config.MCP_BRIDGE_POOL_MAX) {
    return { ok: false, problems: [`MCP_BRIDGE_POOL_SIZE (${config.MCP_BRIDGE_POOL_SIZE}) must not exceed MCP_BRIDGE_POOL_MAX (${config.MCP_BRIDGE_POOL_MAX})`] };
  }
  return { ok: true, config };
}
