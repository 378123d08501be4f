// One unprivileged host uid per sandbox, for a daemon that runs as root: bwrap started by root with
// `--uid 65534` leaves the sandboxed process at host uid 0, able to read any root-only file that a
// bind exposes and exempt from rlimits. A uid of its own per sandbox also keeps per-uid limits
// (RLIMIT_NPROC) and signals from one sandbox off every other, across all daemons of the machine.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive } from '@mcp-code-mode/client';

/** Every process in /proc with its real and effective uid. */
export async function processUids(proc = '/proc'): Promise<{ pid: number; real: number; effective: number }[]> {
  const pids = (await readdir(proc)).filter((name) => /^\d+$/.test(name));
  const rows = await Promise.all(
    pids.map(async (pid) => {
      const status = await readFile(join(proc, pid, 'status'), 'utf8').catch(() => '');
      const line = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
      return line ? { pid: Number(pid), real: Number(line[1]), effective: Number(line[2]) } : undefined;
    }),
  );
  return rows.filter((row) => row !== undefined);
}

/** The real and effective uids of every process in /proc (the sandboxes' uids among them while they run). */
export async function uidsInUse(proc = '/proc'): Promise<Set<number>> {
  return new Set((await processUids(proc)).flatMap((row) => [row.real, row.effective]));
}

export interface UidRange {
  /** First uid (and gid) of the range. */
  base: number;
  count: number;
}

/**
 * Above the first subordinate ranges that useradd hands out (100000 + 65536 per user) would be
 * nicer, but any fixed range can collide: the daemon refuses a range that overlaps /etc/subuid or
 * /etc/subgid (see overlappingSubids), and MCP_BRIDGE_BWRAP_UID_BASE moves it.
 */
export const DEFAULT_UID_RANGE: UidRange = { base: 200_000, count: 10_000 };

/** Where every daemon of the machine claims uids: one directory per uid in use (mkdir is atomic). */
export const DEFAULT_CLAIM_DIR = '/run/mcp-code-mode/bwrap-uids';

export interface UidClaim {
  uid: number;
  stateDir: string;
  sandboxId: string;
  pid: number;
}

/** Ranges of /etc/subuid-style text ("name:start:count") that overlap `range`, as "name:start:count". */
export function overlappingSubids(range: UidRange, text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [name, start, count] = line.trim().split(':');
    if (!name || start === undefined || count === undefined) continue;
    const s = Number(start);
    const c = Number(count);
    if (!Number.isInteger(s) || !Number.isInteger(c)) continue;
    if (s < range.base + range.count && range.base < s + c) out.push(`${name}:${s}:${c}`);
  }
  return out;
}

export function checkUidRange(range: UidRange): void {
  if (!Number.isInteger(range.base) || range.base < 1000 || range.base + range.count > 0xfffffffe) {
    throw new Error(`the bwrap uid range must start at 1000 or above and stay below 4294967294 (MCP_BRIDGE_BWRAP_UID_BASE), got base ${range.base}`);
  }
  if (!Number.isInteger(range.count) || range.count < 1) throw new Error(`the bwrap uid range needs at least one uid (MCP_BRIDGE_BWRAP_UID_COUNT), got ${range.count}`);
}

export class UidClaims {
  constructor(
    private readonly range: UidRange,
    private readonly stateDir: string,
    private readonly dir: string = DEFAULT_CLAIM_DIR,
  ) {
    checkUidRange(range);
  }

  /** Where the next claim starts looking: one past the last uid this daemon claimed. */
  private cursor = 0;

  /**
   * The next free uid of the range after the last one claimed here (round robin: a claim does not
   * walk past every uid in use from the start of the range, and a uid just freed waits its turn),
   * claimed for this sandbox; throws when all are taken.
   */
  async claim(sandboxId: string): Promise<number> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    // A claim appears whole: its owner file is written aside, and the directory renamed onto the
    // uid's name, which fails when another claim (never empty) is already there.
    const aside = join(this.dir, `.new-${sandboxId}`);
    await mkdir(aside, { recursive: true });
    // Read once: a claim running beside this one moves the cursor, and this walk must still try every uid.
    const start = this.cursor;
    try {
      for (let i = 0; i < this.range.count; i++) {
        const offset = (start + i) % this.range.count;
        const uid = this.range.base + offset;
        const claim: UidClaim = { uid, stateDir: this.stateDir, sandboxId, pid: process.pid };
        await writeFile(join(aside, 'owner.json'), JSON.stringify(claim));
        try {
          await rename(aside, join(this.dir, String(uid)));
          this.cursor = (offset + 1) % this.range.count;
          return uid;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        }
      }
    } finally {
      await rm(aside, { recursive: true, force: true });
    }
    throw new Error(
      `all ${this.range.count} sandbox uids from ${this.range.base} are in use (see ${this.dir}); raise MCP_BRIDGE_BWRAP_UID_COUNT, or remove the claims of daemons that no longer run`,
    );
  }

  /**
   * Frees the claims that no daemon will free: their daemon's process is gone and no process runs
   * under their uid (a daemon killed with SIGKILL whose state directory no daemon opens again; one
   * that does would free them itself). A claim of a live pid stays, even if that pid now belongs to
   * another program: kept too long is safe, freed too early is not. Returns the uids freed.
   */
  async reclaimAbandoned(alive: (pid: number) => boolean = pidAlive, inUse: () => Promise<Set<number>> = () => uidsInUse()): Promise<number[]> {
    const orphans = (await this.readClaims()).filter(
      ({ name, claim }) => claim.uid === Number(name) && Number.isInteger(claim.pid) && claim.pid !== process.pid && !alive(claim.pid),
    ).map(({ claim }) => claim);
    if (orphans.length === 0) return [];
    const used = await inUse();
    const freed: number[] = [];
    for (const claim of orphans) {
      if (used.has(claim.uid)) continue;
      await rm(join(this.dir, String(claim.uid)), { recursive: true, force: true });
      freed.push(claim.uid);
    }
    return freed;
  }

  /** The sandbox ids that hold a claim now, any daemon's (a claim being made or removed may be missed). */
  async heldSandboxes(): Promise<Set<string>> {
    return new Set((await this.readClaims()).map(({ claim }) => claim.sandboxId).filter((id) => typeof id === 'string'));
  }

  /**
   * Every claim (by its directory's name) whose owner file reads whole. A claim without a readable
   * owner is being made or removed right now: not ours to judge.
   */
  private async readClaims(): Promise<{ name: string; claim: UidClaim }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const claims: { name: string; claim: UidClaim }[] = [];
    for (const name of names.filter((n) => /^\d+$/.test(n))) {
      const claim = await readFile(join(this.dir, name, 'owner.json'), 'utf8').then((text) => JSON.parse(text) as UidClaim, () => undefined);
      if (claim) claims.push({ name, claim });
    }
    return claims;
  }

  /** Frees whatever uid this sandbox holds: for a record written before its uid was (a daemon killed in between). */
  async releaseSandbox(sandboxId: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (/^\d+$/.test(name)) await this.release(Number(name), sandboxId);
    }
  }

  /** Frees a uid, only when this sandbox of this state directory holds it (a claim is never taken from another daemon). */
  async release(uid: number, sandboxId: string): Promise<void> {
    const path = join(this.dir, String(uid));
    let claim: UidClaim | undefined;
    try {
      claim = JSON.parse(await readFile(join(path, 'owner.json'), 'utf8')) as UidClaim;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    if (claim.sandboxId === sandboxId && claim.stateDir === this.stateDir) await rm(path, { recursive: true, force: true });
  }
}
