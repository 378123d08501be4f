import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { discoverServers, type ConfigFileSystem } from '../../daemon/src/config/discover.ts';
import { configSources } from '../../daemon/src/config/sources.ts';

const ROOT = fileURLToPath(new URL('../fixtures/mcp-config/clients/', import.meta.url));
const fs: ConfigFileSystem = { readFile: (path) => readFile(join(ROOT, path), 'utf8'), readdir: (path) => readdir(join(ROOT, path)) };
const env = { GEMINI_KEY: 'gk-1', CODEX_TOKEN: 'ct-2', CODEX_KEY: 'ck-3' };
const discover = (extra: Record<string, string> = {}) => discoverServers({ home: '/home/me', cwd: '/work/app', env: { ...env, ...extra }, platform: 'linux' }, fs);

test("the Gemini CLI's entries: httpUrl is Streamable HTTP, a bare url is SSE, httpUrl wins over url, a given type is kept", async () => {
  const report = await discover();
  const get = (name: string) => report.servers.find((s) => s.name === name)?.config;
  assert.deepEqual(get('gemini-stdio'), { transport: 'stdio', command: 'npx', args: ['-y', 'some-server'], env: { API_KEY: 'gk-1' }, cwd: '/home/me/.gemini/srv', disabled: false });
  assert.deepEqual(get('gemini-http'), { transport: 'http', url: 'https://example.test/mcp', headers: { Authorization: 'Bearer gk-1' }, sseFallback: false, disabled: false });
  assert.deepEqual(get('gemini-sse'), { transport: 'sse', url: 'https://example.test/sse', headers: {}, sseFallback: false, disabled: false });
  assert.equal((get('gemini-both') as { url: string }).url, 'https://example.test/mcp');
  assert.equal(get('gemini-both')!.transport, 'http');
  assert.equal(get('gemini-typed')!.transport, 'http');
  assert.equal(report.servers.find((s) => s.name === 'gemini-http')!.origin.label, 'Gemini CLI (user)');
});

test("Codex's [mcp_servers.<name>] tables: stdio, Streamable HTTP with its header fields, enabled = false, and a bad table named", async () => {
  const report = await discover();
  const get = (name: string) => report.servers.find((s) => s.name === name)?.config;
  assert.deepEqual(get('codex-stdio'), {
    transport: 'stdio',
    command: 'npx',
    args: ['-y', '@modelcontextprotocol/server-memory'],
    env: { MEMORY_FILE_PATH: '/tmp/memory.json', PORT: '3000' },
    disabled: false,
  });
  assert.deepEqual(get('codex-http'), {
    transport: 'http',
    url: 'https://example.test/mcp',
    headers: { 'X-Team': 'core', 'X-Key': 'ck-3', Authorization: 'Bearer ct-2' },
    sseFallback: false,
    disabled: false,
  });
  assert.match(report.skipped.find((s) => s.name === 'codex-off')!.reason, /disabled/);
  assert.deepEqual(report.problems, [{ path: '/home/me/.codex/config.toml', name: 'codex-no-target', message: 'server "codex-no-target": an entry needs command (stdio) or url (http/sse)' }]);
  // The token variable unset: the entry is reported, not sent with an empty token.
  const unset = await discoverServers({ home: '/home/me', cwd: '/work/app', env: { GEMINI_KEY: 'x', CODEX_KEY: 'y' }, platform: 'linux' }, fs);
  assert.match(unset.problems.find((p) => p.name === 'codex-http')!.message, /CODEX_TOKEN not set/);
});

test('CODEX_HOME moves the Codex file, as it does for Codex', () => {
  const paths = (extra: Record<string, string>) => configSources({ home: '/home/me', cwd: '/w', env: extra, platform: 'linux' }).filter((s) => s.format === 'codex').map((s) => s.path);
  assert.deepEqual(paths({}), ['/home/me/.codex/config.toml']);
  assert.deepEqual(paths({ CODEX_HOME: '/opt/codex' }), ['/opt/codex/config.toml']);
  assert.deepEqual(paths({ CODEX_HOME: 'relative' }), ['/home/me/.codex/config.toml'], 'a relative CODEX_HOME is not trusted');
});
