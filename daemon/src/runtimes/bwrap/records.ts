// A small file per sandbox under the state directory, written before anything of the sandbox exists
// (its uid claim aside): what labels are to a container. A daemon killed at any point leaves records
// naming everything it made, and the next daemon on the same state directory removes it all.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** A bwrap sandbox id: it names a record file and cgroups, so it is never anything else. */
export const SANDBOX_ID = /^bw-[0-9a-f]{12}$/;

export const SandboxRecordFileSchema = z.object({
  id: z.string().regex(SANDBOX_ID),
  owner: z.string(),
  daemon: z.string(),
  slot: z.string(),
  /** Host uid of the sandbox (only when the daemon runs as root). */
  uid: z.number().int().optional(),
  cgroup: z
    .object({ version: z.union([z.literal(1), z.literal(2)]), memory: z.string(), pids: z.string(), cpu: z.string().optional() })
    .optional(),
  /** Host pid of the launcher (then bwrap), once spawned. */
  pid: z.number().int().optional(),
  createdAt: z.number(),
});
export type SandboxRecordFile = z.infer<typeof SandboxRecordFileSchema>;

export class RecordStore {
  constructor(readonly dir: string) {}

  private path(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  /** Written aside then renamed, so that a reader never sees half a record. */
  async write(record: SandboxRecordFile): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const aside = join(this.dir, `.${record.id}.${randomUUID()}.tmp`);
    await writeFile(aside, JSON.stringify(record), { mode: 0o600 });
    await rename(aside, this.path(record.id));
  }

  async read(id: string): Promise<SandboxRecordFile | undefined> {
    try {
      return SandboxRecordFileSchema.parse(JSON.parse(await readFile(this.path(id), 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`the bwrap sandbox record ${this.path(id)} is unreadable: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Every record; a file that is not one (or a write that a crash left aside) is reported through `onBad` and removed. */
  async all(onBad: (file: string, reason: string) => void = () => undefined): Promise<SandboxRecordFile[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: SandboxRecordFile[] = [];
    for (const name of names.sort()) {
      const file = join(this.dir, name);
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        await rm(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        out.push(SandboxRecordFileSchema.parse(JSON.parse(await readFile(file, 'utf8'))));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        onBad(file, (err as Error).message);
        await rm(file, { force: true });
      }
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }
}
