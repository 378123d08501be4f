import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { parse as shellWords } from 'shell-quote';
import { parse as parseToml } from 'smol-toml';
import { fromCodexEntry, fromGeminiEntry } from '../../daemon/src/config/client-formats.ts';
import { parseServerEntry } from '../../daemon/src/config/schema.ts';
import { clientSnippet, CLIENTS, type SnippetInput } from '../../packages/cli/src/client-config.ts';

const env = { MCP_BRIDGE_STATE_DIR: '/s', MCP_BRIDGE_HTTP_PORT: '8787' };
const input: Omit<SnippetInput, 'client'> = { node: '/usr/bin/node', shim: "/opt/my repo/it's/mcp-code-mode-shim.js", env, platform: 'linux' };
const expected = { command: input.node, args: [input.shim], env };

/**
 * `claude mcp add` as Claude Code declares it (commander; `-e` and `-H` are variadic, which is why a
 * name after `-e` is taken for a variable), with its check that every variable is KEY=value.
 */
function claudeMcpAdd(words: string[]): { name: string; command: string; args: string[]; env: string[]; scope: string } {
  let parsed: { name: string; command: string; args: string[]; env: string[]; scope: string } | undefined;
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
  program
    .command('mcp')
    .command('add')
    .argument('<name>')
    .argument('<commandOrUrl>')
    .argument('[args...]')
    .option('-s, --scope <scope>', '', 'local')
    .option('-t, --transport <transport>')
    .option('-e, --env <env...>')
    .option('-H, --header <header...>')
    .action((name: string, command: string, args: string[], options: { env?: string[]; scope: string }) => {
      for (const pair of options.env ?? []) if (!/^[^=]+=/.test(pair)) throw new Error(`Invalid environment variable format: ${pair}`);
      parsed = { name, command, args, env: options.env ?? [], scope: options.scope };
    });
  assert.equal(words[0], 'claude');
  program.parse(words.slice(1), { from: 'user' });
  return parsed!;
}

function commandLine(snippet: string): string[] {
  const line = snippet.split('\n').find((l) => l.startsWith('claude '))!;
  const words = shellWords(line);
  assert.ok(words.every((w) => typeof w === 'string'), 'plain words only: no shell operators');
  return words as string[];
}

const jsonOf = (snippet: string): Record<string, Record<string, Record<string, unknown>>> => JSON.parse(snippet.slice(snippet.indexOf('{')));

test('claude-code: the command line, split as a shell does and parsed as Claude Code does, registers the shim with its env', () => {
  const snippet = clientSnippet({ ...input, client: 'claude-code' });
  const words = commandLine(snippet);
  assert.ok(words.indexOf('mcp-code-mode') < words.indexOf('-e'), 'the name comes before -e');
  assert.deepEqual(claudeMcpAdd(words), { name: 'mcp-code-mode', command: input.node, args: [input.shim], env: ['MCP_BRIDGE_STATE_DIR=/s', 'MCP_BRIDGE_HTTP_PORT=8787'], scope: 'user' });
  // The line this replaces, which Claude Code refused: the parser above refuses it the same way.
  assert.throws(() => claudeMcpAdd(['claude', 'mcp', 'add', '--scope', 'user', '-e', 'A=1', 'mcp-code-mode', '--', 'node', 'shim.js']), /Invalid environment variable format: mcp-code-mode/);
  // Without variables there is no -e at all.
  assert.deepEqual(claudeMcpAdd(commandLine(clientSnippet({ ...input, env: {}, client: 'claude-code' }))).env, []);
  // And the project file alternative is Claude Code's .mcp.json shape.
  assert.deepEqual(jsonOf(snippet).mcpServers!['mcp-code-mode'], expected);
});

test('claude-desktop, cursor: mcpServers with command, args and env, as both clients (and our discovery) read it', () => {
  for (const client of ['claude-desktop', 'cursor'] as const) {
    const entry = jsonOf(clientSnippet({ ...input, client })).mcpServers!['mcp-code-mode']!;
    assert.deepEqual(entry, expected, client);
    assert.equal(parseServerEntry(entry).ok, true);
  }
});

test('vscode: servers with type stdio', () => {
  const doc = jsonOf(clientSnippet({ ...input, client: 'vscode' }));
  assert.deepEqual(doc.servers!['mcp-code-mode'], { type: 'stdio', ...expected });
  assert.equal(doc.mcpServers, undefined, 'VS Code reads "servers", not "mcpServers"');
});

test("gemini: mcpServers with a stdio entry and a timeout (ms) longer than the longest run", () => {
  const entry = jsonOf(clientSnippet({ ...input, client: 'gemini' })).mcpServers!['mcp-code-mode']!;
  assert.deepEqual(entry, { ...expected, timeout: 150_000 });
  const config = parseServerEntry(fromGeminiEntry(entry));
  assert.ok(config.ok && config.config.transport === 'stdio');
});

test('codex: a [mcp_servers.mcp-code-mode] table that TOML parses back, with a tool timeout past the longest run', () => {
  const snippet = clientSnippet({ ...input, env: { ...env, MCP_BRIDGE_MAX_TIMEOUT: '300' }, client: 'codex' });
  assert.match(snippet, /^\[mcp_servers\.mcp-code-mode\]$/m);
  const doc = parseToml(snippet) as { mcp_servers: Record<string, Record<string, unknown>> };
  // smol-toml makes null-prototype objects; compare the plain data.
  assert.deepEqual(JSON.parse(JSON.stringify(doc.mcp_servers['mcp-code-mode'])), { ...expected, env: { ...env, MCP_BRIDGE_MAX_TIMEOUT: '300' }, tool_timeout_sec: 330 });
  const config = parseServerEntry(fromCodexEntry(doc.mcp_servers['mcp-code-mode']));
  assert.ok(config.ok && config.config.transport === 'stdio');
});

test('every client has a snippet', () => {
  assert.deepEqual([...CLIENTS], ['claude-code', 'claude-desktop', 'cursor', 'vscode', 'gemini', 'codex']);
  for (const client of CLIENTS) assert.ok(clientSnippet({ ...input, client }).includes(input.node), client);
});
