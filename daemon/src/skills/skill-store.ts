import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatIssues, type SkillSource } from '@mcp-code-mode/protocol';
import { z } from 'zod';

/** One saved tool's source, at most (a tool is a function, not a library). */
export const MAX_SKILL_BYTES = 64 * 1024;
/**
 * Every saved tool travels in every `execute` frame (8 MiB at most, code included), so their sum
 * is capped well below it.
 */
export const MAX_SKILLS_TOTAL_BYTES = 2 * 1024 * 1024;

// Python's reserved words: a saved tool's name is imported (`from skills import name`).
const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);

/** ASCII only, starting with a letter: the name is also a file name on the host. */
export const SkillNameSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a saved tool name must be a Python identifier of ASCII letters, digits and _, starting with a letter, at most 64 characters')
  .refine((name) => !PYTHON_KEYWORDS.has(name), 'a saved tool name must not be a Python keyword');

export const SaveToolParamsSchema = z.object({
  name: SkillNameSchema,
  source: z.string().min(1, 'source must not be empty'),
});
export const DeleteToolParamsSchema = z.object({ name: SkillNameSchema });

/** Thrown with a message meant for the sandbox code (it becomes an MCPError). */
export class SkillStoreError extends Error {
  constructor(readonly code: 'invalid_request' | 'too_large', message: string) {
    super(message);
    this.name = 'SkillStoreError';
  }
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  source: string;
}

/**
 * Saved tools as `<dir>/<name>.py`, one file each, written by the daemon only (the sandbox reaches
 * them through RPC, never through a mount). Files the user edits or removes by hand are seen at the
 * next run: each snapshot re-reads the directory, and re-reads only files whose mtime or size changed.
 */
export class SkillStore {
  private readonly cache = new Map<string, CachedFile>();

  constructor(readonly dir: string) {}

  private path(name: string): string {
    return join(this.dir, `${name}.py`);
  }

  /** Every saved tool with its source, sorted by name; what each `execute` frame carries. */
  async snapshot(): Promise<SkillSource[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const names = entries
      .filter((file) => file.endsWith('.py'))
      .map((file) => file.slice(0, -3))
      .filter((name) => SkillNameSchema.safeParse(name).success)
      .sort();
    const out: SkillSource[] = [];
    let total = 0;
    for (const name of names) {
      const source = await this.read(name);
      // A file put there by hand may be huge; it is left out rather than failing every run.
      if (source === undefined || Buffer.byteLength(source) > MAX_SKILL_BYTES) continue;
      total += Buffer.byteLength(source);
      if (total > MAX_SKILLS_TOTAL_BYTES) break;
      out.push({ name, source });
    }
    for (const name of this.cache.keys()) if (!names.includes(name)) this.cache.delete(name);
    return out;
  }

  private async read(name: string): Promise<string | undefined> {
    try {
      const info = await stat(this.path(name));
      if (!info.isFile()) return undefined;
      const cached = this.cache.get(name);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.source;
      const source = await readFile(this.path(name), 'utf8');
      this.cache.set(name, { mtimeMs: info.mtimeMs, size: info.size, source });
      return source;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Writes (or replaces) one saved tool; refuses a source over the caps. */
  async save(params: Record<string, unknown>): Promise<{ saved: true; name: string; bytes: number }> {
    const { name, source } = parse(SaveToolParamsSchema, params, 'save_tool');
    const bytes = Buffer.byteLength(source);
    if (bytes > MAX_SKILL_BYTES) throw new SkillStoreError('too_large', `save_tool: ${name} is ${bytes} bytes; a saved tool may have at most ${MAX_SKILL_BYTES}`);
    const others = (await this.snapshot()).filter((skill) => skill.name !== name);
    const total = others.reduce((sum, skill) => sum + Buffer.byteLength(skill.source), bytes);
    if (total > MAX_SKILLS_TOTAL_BYTES) {
      throw new SkillStoreError('too_large', `save_tool: saved tools would take ${total} bytes, over the ${MAX_SKILLS_TOTAL_BYTES}-byte total; delete some with runtime.delete_saved_tool(name)`);
    }
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Written aside and renamed, so a run never reads half a file.
    const temp = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temp, source, { mode: 0o600 });
    await rename(temp, this.path(name));
    return { saved: true, name, bytes };
  }

  async delete(params: Record<string, unknown>): Promise<{ deleted: boolean; name: string }> {
    const { name } = parse(DeleteToolParamsSchema, params, 'delete_saved_tool');
    try {
      await rm(this.path(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { deleted: false, name };
      throw err;
    }
    this.cache.delete(name);
    return { deleted: true, name };
  }
}

function parse<S extends z.ZodType>(schema: S, params: Record<string, unknown>, method: string): z.output<S> {
  const parsed = schema.safeParse(params);
  if (parsed.success) return parsed.data;
  throw new SkillStoreError('invalid_request', `${method}: ${formatIssues(parsed.error, { root: 'params', first: true })}`);
}
