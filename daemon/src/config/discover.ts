import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fromCodexEntry, fromGeminiEntry, parseCodexToml } from './client-formats.js';
import { expandVariables } from './expand.js';
import { parseServerEntry, ServerMapSchema, type ServerConfig } from './schema.js';
import { selfLaunchReason } from './self-launch.js';
import { configSources, type ConfigSource, type DiscoveryInputs, type SourceScope } from './sources.js';

/** The file access discovery needs; tests may pass their own. */
export interface ConfigFileSystem {
  readFile(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
}

export const nodeFileSystem: ConfigFileSystem = {
  readFile: (path) => readFile(path, 'utf8'),
  readdir: (path) => readdir(path),
};

/** Where one entry was found: the file, and for ~/.claude.json which part of it. */
export interface EntryOrigin {
  path: string;
  /** e.g. `projects["/home/me/app"].mcpServers`; absent when the servers are the file's own key. */
  section?: string;
  label: string;
  scope: SourceScope;
}

export interface DiscoveredServer {
  name: string;
  config: ServerConfig;
  origin: EntryOrigin;
}

/** An entry that was found and deliberately not loaded. */
export interface SkippedEntry {
  name: string;
  origin: EntryOrigin;
  reason: string;
  /** For shadowed entries: where the definition that won lives. */
  shadowedBy?: EntryOrigin;
}

/** A file or entry that could not be read; everything else still loads. */
export interface DiscoveryProblem {
  path: string;
  /** The entry, when the problem is one entry rather than the whole file. */
  name?: string;
  message: string;
}

export interface SourceVisit {
  label: string;
  path: string;
  scope: SourceScope;
  /** Files read (one for a file source, any number for a directory). */
  files: number;
  servers: number;
  /** Files or entries of this source that could not be used. */
  problems: number;
}

export interface DiscoveryReport {
  servers: DiscoveredServer[];
  skipped: SkippedEntry[];
  problems: DiscoveryProblem[];
  sources: SourceVisit[];
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** JSON.parse's message, which already says where ("Unexpected token } in JSON at position 42"). */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, message: `not valid JSON: ${(err as Error).message}` };
  }
}

interface ServerMap {
  section?: string;
  entries: Record<string, unknown>;
}

/** The object of servers in one parsed file, per the source's format; a missing key is no servers. */
function serverMap(source: ConfigSource, document: unknown, cwd: string): { ok: true; map: ServerMap | undefined } | { ok: false; message: string } {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { ok: false, message: source.format === 'codex' ? 'the file must hold a TOML table' : 'the file must hold a JSON object' };
  }
  const doc = document as Record<string, unknown>;
  let section: string | undefined;
  let raw: unknown;
  switch (source.format) {
    case 'claude-project': {
      const projects = doc.projects;
      if (typeof projects !== 'object' || projects === null) return { ok: true, map: undefined };
      section = `projects[${JSON.stringify(cwd)}].mcpServers`;
      raw = (projects as Record<string, { mcpServers?: unknown } | undefined>)[cwd]?.mcpServers;
      break;
    }
    case 'servers':
      section = undefined;
      raw = doc.servers;
      break;
    case 'gemini':
      raw = doc.mcpServers;
      break;
    case 'codex':
      raw = doc.mcp_servers;
      break;
    case 'claude-user':
    case 'mcpServers':
      // A file of the servers directory written VS Code style is read too: same entries, other key.
      raw = doc.mcpServers ?? (source.format === 'mcpServers' ? doc.servers : undefined);
      break;
  }
  if (raw === undefined) return { ok: true, map: undefined };
  const parsed = ServerMapSchema.safeParse(raw);
  if (!parsed.success || Array.isArray(raw)) {
    const key = section ?? (source.format === 'servers' ? 'servers' : source.format === 'codex' ? 'mcp_servers' : 'mcpServers');
    return { ok: false, message: `${key} must be ${source.format === 'codex' ? 'a table of [mcp_servers.<name>] tables' : 'an object of name to server entry'}` };
  }
  const translate = source.format === 'gemini' ? fromGeminiEntry : source.format === 'codex' ? fromCodexEntry : undefined;
  const entries = translate ? Object.fromEntries(Object.entries(parsed.data).map(([name, entry]) => [name, translate(entry)])) : parsed.data;
  return { ok: true, map: { ...(section ? { section } : {}), entries } };
}

async function filesOf(source: ConfigSource, fs: ConfigFileSystem, problems: DiscoveryProblem[]): Promise<string[]> {
  if (!source.directory) return [source.path];
  try {
    const names = await fs.readdir(source.path);
    return names.filter((n) => n.endsWith('.json')).sort().map((n) => join(source.path, n));
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') problems.push({ path: source.path, message: `cannot list the directory: ${(err as Error).message}` });
    return [];
  }
}

/**
 * Reads every source of `configSources(inputs)` and merges them: the first definition of a name
 * wins, later ones are skipped as shadowed. Never throws for bad input: a missing file is simply
 * absent (except MCP_SERVERS_CONFIG, which the user asked for), a malformed file or entry becomes
 * a problem naming the path and the reason, and everything else still loads.
 */
export async function discoverServers(inputs: DiscoveryInputs, fs: ConfigFileSystem = nodeFileSystem): Promise<DiscoveryReport> {
  const report: DiscoveryReport = { servers: [], skipped: [], problems: [], sources: [] };
  const winners = new Map<string, DiscoveredServer>();
  const cache = new Map<string, Promise<{ ok: true; value: unknown } | { ok: false; message: string; missing: boolean }>>();
  // ~/.claude.json feeds two sources; a home used as the project would feed the same file twice.
  const seen = new Set<string>();
  const load = (path: string, format: ConfigSource['format']) => {
    let entry = cache.get(path);
    if (!entry) {
      entry = fs.readFile(path).then(
        (text) => {
          const parsed = format === 'codex' ? parseCodexToml(text) : parseJson(text);
          return parsed.ok ? parsed : { ...parsed, missing: false };
        },
        (err: unknown) => ({ ok: false as const, missing: errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR', message: `cannot read the file: ${(err as Error).message}` }),
      );
      cache.set(path, entry);
    }
    return entry;
  };

  for (const source of configSources(inputs)) {
    const visit: SourceVisit = { label: source.label, path: source.path, scope: source.scope, files: 0, servers: 0, problems: 0 };
    report.sources.push(visit);
    for (const path of await filesOf(source, fs, report.problems)) {
      const key = `${source.format === 'claude-project' ? 'p' : 'f'}:${path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const loaded = await load(path, source.format);
      if (!loaded.ok) {
        if (!loaded.missing || source.scope === 'explicit') {
          visit.problems++;
          const message = loaded.missing ? `MCP_SERVERS_CONFIG names a file that does not exist` : loaded.message;
          // ~/.claude.json backs two sources; say once that it is broken.
          if (!report.problems.some((p) => p.path === path && p.message === message)) report.problems.push({ path, message });
        }
        continue;
      }
      visit.files++;
      const found = serverMap(source, loaded.value, inputs.cwd);
      if (!found.ok) {
        visit.problems++;
        if (!report.problems.some((p) => p.path === path && p.message === found.message)) report.problems.push({ path, message: found.message });
        continue;
      }
      if (!found.map) continue;
      const base = { path, label: source.label, scope: source.scope };
      const origin: EntryOrigin = found.map.section ? { ...base, section: found.map.section } : base;
      for (const [name, raw] of Object.entries(found.map.entries)) {
        const outcome = addEntry(report, winners, name, raw, origin, inputs);
        if (outcome === 'added') visit.servers++;
        if (outcome === 'problem') visit.problems++;
      }
    }
  }
  report.servers = [...winners.values()];
  return report;
}

function addEntry(
  report: DiscoveryReport,
  winners: Map<string, DiscoveredServer>,
  name: string,
  raw: unknown,
  origin: EntryOrigin,
  inputs: DiscoveryInputs,
): 'added' | 'skipped' | 'problem' {
  if (name.trim() === '') {
    report.problems.push({ path: origin.path, name, message: 'a server name must not be empty' });
    return 'problem';
  }
  const parsed = parseServerEntry(raw);
  if (!parsed.ok) {
    report.problems.push({ path: origin.path, name, message: `server ${JSON.stringify(name)}: ${parsed.reason}` });
    return 'problem';
  }
  if (parsed.config.disabled) {
    report.skipped.push({ name, origin, reason: 'disabled in its config ("disabled": true)' });
    return 'skipped';
  }
  const self = selfLaunchReason(parsed.config);
  if (self) {
    report.skipped.push({ name, origin, reason: self });
    return 'skipped';
  }
  const winner = winners.get(name);
  if (winner) {
    report.skipped.push({ name, origin, reason: `shadowed by the definition in ${winner.origin.path}`, shadowedBy: winner.origin });
    return 'skipped';
  }
  const expanded = expandVariables(parsed.config, inputs.env);
  if (!expanded.ok) {
    report.problems.push({ path: origin.path, name, message: `server ${JSON.stringify(name)}: ${expanded.reason}` });
    return 'problem';
  }
  let config = expanded.config;
  // A relative cwd means "next to the config file", the only reading that does not depend on
  // where the daemon happened to start.
  if (config.transport === 'stdio' && config.cwd !== undefined) config = { ...config, cwd: resolve(dirname(origin.path), config.cwd) };
  winners.set(name, { name, config, origin });
  return 'added';
}
