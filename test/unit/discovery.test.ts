import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { discoverServers, type ConfigFileSystem, type DiscoveryReport } from '../../daemon/src/config/discover.ts';
import { formatReport, publicReport } from '../../daemon/src/config/format-report.ts';
import { configSources, type DiscoveryInputs } from '../../daemon/src/config/sources.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/mcp-config/', import.meta.url));

/** The fixture folder seen as `/`, so that absolute paths like ~/.claude.json's project keys hold. */
function rootedFs(root: string, hidden: ReadonlySet<string> = new Set()): ConfigFileSystem {
  const hide = (path: string): void => {
    if (hidden.has(path)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
  };
  return {
    readFile: async (path) => (hide(path), readFile(join(root, path), 'utf8')),
    readdir: async (path) => (hide(path), readdir(join(root, path))),
  };
}

const inputs = (platform: NodeJS.Platform, env: Record<string, string> = {}): DiscoveryInputs => ({
  home: '/home/me',
  cwd: '/work/app',
  env: { MCP_SERVERS_CONFIG: 'explicit.json', ...env },
  platform,
});

const origin = (report: DiscoveryReport, name: string): string | undefined => report.servers.find((s) => s.name === name)?.origin.path;

describe('config sources', () => {
  test('every documented source (docs/SERVERS.md) is read, each from its own fixture', async () => {
    const cases: [string, string, NodeJS.Platform][] = [
      ['explicit', '/work/app/explicit.json', 'linux'],
      ['claude-project', '/home/me/.claude.json', 'linux'],
      ['mcp-json', '/work/app/.mcp.json', 'linux'],
      ['dir-project-a', '/work/app/mcp-servers/a-first.json', 'linux'],
      ['dir-project-b', '/work/app/mcp-servers/b-second.json', 'linux'],
      ['local-code', '/work/app/claude_code_config.json', 'linux'],
      ['local-desktop', '/work/app/claude_desktop_config.json', 'linux'],
      ['vscode', '/work/app/.vscode/mcp.json', 'linux'],
      ['cursor-project', '/work/app/.cursor/mcp.json', 'linux'],
      ['gemini-project', '/work/app/.gemini/settings.json', 'linux'],
      ['claude-user', '/home/me/.claude.json', 'linux'],
      ['dir-user', '/home/me/.config/mcp/servers/user-dir.json', 'linux'],
      ['linux-desktop', '/home/me/.config/Claude/claude_desktop_config.json', 'linux'],
      ['cursor-user', '/home/me/.cursor/mcp.json', 'linux'],
      ['gemini-user', '/home/me/.gemini/settings.json', 'linux'],
      ['codex-user', '/home/me/.codex/config.toml', 'linux'],
      ['mac-code', '/home/me/Library/Application Support/Claude Code/claude_code_config.json', 'darwin'],
      ['mac-code-early', '/home/me/Library/Application Support/Claude/claude_code_config.json', 'darwin'],
      ['mac-desktop', '/home/me/Library/Application Support/Claude/claude_desktop_config.json', 'darwin'],
      ['windows-desktop', '/home/me/AppData/Roaming/Claude/claude_desktop_config.json', 'win32'],
    ];
    const reports = new Map<NodeJS.Platform, DiscoveryReport>();
    for (const platform of ['linux', 'darwin', 'win32'] as const) reports.set(platform, await discoverServers(inputs(platform), rootedFs(join(FIXTURES, 'sources'))));
    for (const [name, path, platform] of cases) assert.equal(origin(reports.get(platform)!, name), path, `${name} on ${platform}`);
    const linux = reports.get('linux')!;
    assert.deepEqual(linux.problems, []);
    // Another project's entries in ~/.claude.json are not this project's.
    assert.equal(origin(linux, 'other-project'), undefined);
    // The macOS paths are read on macOS only; the Linux Claude Desktop path on Linux only.
    assert.equal(origin(linux, 'mac-desktop'), undefined);
    assert.equal(origin(reports.get('darwin')!, 'linux-desktop'), undefined);
    const claudeProject = linux.servers.find((s) => s.name === 'claude-project')!;
    assert.equal(claudeProject.origin.section, 'projects["/work/app"].mcpServers');
  });

  test('without MCP_SERVERS_CONFIG the explicit source is absent; a missing explicit file is a problem', async () => {
    const none = await discoverServers({ ...inputs('linux'), env: {} }, rootedFs(join(FIXTURES, 'sources')));
    assert.equal(origin(none, 'explicit'), undefined);
    assert.equal(configSources({ ...inputs('linux'), env: {} })[0]!.scope, 'project');
    const missing = await discoverServers(inputs('linux', { MCP_SERVERS_CONFIG: '/nowhere/servers.json' }), rootedFs(join(FIXTURES, 'sources')));
    assert.deepEqual(missing.problems, [{ path: '/nowhere/servers.json', message: 'MCP_SERVERS_CONFIG names a file that does not exist' }]);
    assert.ok(missing.servers.length > 10, 'the other sources still load');
  });

  test('a home with no config at all finds nothing and reports nothing', async () => {
    const report = await discoverServers({ home: '/empty', cwd: '/empty', env: {}, platform: 'linux' }, rootedFs(join(FIXTURES, 'sources')));
    assert.deepEqual([report.servers, report.problems, report.skipped], [[], [], []]);
  });
});

describe('precedence', () => {
  // The winner of "shared", defined in every file, as the sources above it disappear one by one.
  const order: [string, string][] = [
    ['explicit', '/work/app/explicit.json'],
    ['claude-project', '/home/me/.claude.json#project'],
    ['mcp-json', '/work/app/.mcp.json'],
    ['dir-project-a', '/work/app/mcp-servers'],
    ['local-code', '/work/app/claude_code_config.json'],
    ['local-desktop', '/work/app/claude_desktop_config.json'],
    ['vscode', '/work/app/.vscode/mcp.json'],
    ['cursor-project', '/work/app/.cursor/mcp.json'],
    ['gemini-project', '/work/app/.gemini/settings.json'],
    ['claude-user', '/home/me/.claude.json'],
    ['dir-user', '/home/me/.config/mcp/servers'],
    ['mac-code', '/home/me/Library/Application Support/Claude Code/claude_code_config.json'],
    ['mac-code-early', '/home/me/Library/Application Support/Claude/claude_code_config.json'],
    ['mac-desktop', '/home/me/Library/Application Support/Claude/claude_desktop_config.json'],
    ['cursor-user', '/home/me/.cursor/mcp.json'],
    ['gemini-user', '/home/me/.gemini/settings.json'],
    ['codex-user', '/home/me/.codex/config.toml'],
  ];

  /** Inputs and file system in which the first `k` sources of `order` define nothing. */
  function withoutFirst(k: number): { inputs: DiscoveryInputs; fs: ConfigFileSystem } {
    const dropped = order.slice(0, k).map(([tag]) => tag);
    const hidden = new Set(order.slice(0, k).filter(([tag]) => tag !== 'explicit' && tag !== 'claude-project').map(([, path]) => path));
    const fs = rootedFs(join(FIXTURES, 'sources'), hidden);
    return {
      inputs: inputs('darwin', dropped.includes('explicit') ? { MCP_SERVERS_CONFIG: '' } : {}),
      fs: {
        ...fs,
        // Claude Code's entries for this project go away when its key names another directory.
        readFile: async (path) => {
          const text = await fs.readFile(path);
          return dropped.includes('claude-project') && path === '/home/me/.claude.json' ? text.replace('"/work/app"', '"/work/elsewhere"') : text;
        },
      },
    };
  }

  for (let k = 0; k < order.length; k++) {
    const [winner] = order[k]!;
    test(`${winner} wins over every source after it`, async () => {
      const { inputs: given, fs } = withoutFirst(k);
      const report = await discoverServers(given, fs);
      const shared = report.servers.find((s) => s.name === 'shared')!;
      assert.equal(shared.config.transport === 'stdio' && shared.config.args[0], `${winner}.js`);
      const shadowed = report.skipped.filter((s) => s.name === 'shared');
      // Every later source defines "shared" once, and the servers directory twice (a-first, b-second).
      const expected = order.length - k - 1 + Number(k <= 3);
      assert.equal(shadowed.length, expected, JSON.stringify(shadowed.map((s) => s.origin.path)));
      for (const s of shadowed) assert.equal(s.reason, `shadowed by the definition in ${shared.origin.path}`);
    });
  }

  test('within a servers directory, files are read in name order', async () => {
    const report = await discoverServers({ ...inputs('linux'), env: {} }, rootedFs(join(FIXTURES, 'sources'), new Set(['/home/me/.claude.json', '/work/app/.mcp.json'])));
    const shared = report.servers.find((s) => s.name === 'shared')!;
    assert.equal(shared.origin.path, '/work/app/mcp-servers/a-first.json');
    assert.ok(report.skipped.some((s) => s.name === 'shared' && s.origin.path === '/work/app/mcp-servers/b-second.json'));
  });
});

describe('malformed files and entries', () => {
  const broken = () => discoverServers(inputs('linux', { TEST_TOKEN: 'tok-123456', MCP_SERVERS_CONFIG: '' }), rootedFs(join(FIXTURES, 'broken')));

  test('each malformed file is reported with its path and reason, and the rest loads', async () => {
    const report = await broken();
    const byPath = (suffix: string) => report.problems.filter((p) => p.path.endsWith(suffix) && p.name === undefined).map((p) => p.message);
    assert.match(byPath('1-malformed.json')[0] ?? '', /^not valid JSON: /);
    assert.deepEqual(byPath('2-array.json'), ['mcpServers must be an object of name to server entry']);
    assert.deepEqual(byPath('3-not-object.json'), ['the file must hold a JSON object']);
    assert.deepEqual(byPath('.vscode/mcp.json'), ['servers must be an object of name to server entry']);
    assert.match(byPath('.codex/config.toml')[0] ?? '', /^not valid TOML: illegal character in key \(line 1, column 26\)$/);
    // ~/.claude.json feeds two sources but is reported once.
    assert.equal(byPath('.claude.json').length, 1);
    assert.ok(report.servers.some((s) => s.name === 'cursor-ok'), 'a good file after broken ones still loads');
  });

  test('each malformed entry is reported by name, and its good neighbours load', async () => {
    const report = await broken();
    const entryProblem = (name: string) => report.problems.find((p) => p.name === name)?.message;
    assert.match(entryProblem('no-target')!, /needs command \(stdio\) or url \(http\/sse\)/);
    assert.match(entryProblem('both')!, /either command .* or url .*, not both/);
    assert.match(entryProblem('bad-url')!, /url: url must start with http:\/\/ or https:\/\//);
    assert.match(entryProblem('bad-args')!, /args: /);
    assert.match(entryProblem('bad-type')!, /type: /);
    assert.match(entryProblem('stdio-with-url-type')!, /type "http" needs url/);
    assert.match(entryProblem('unset-variable')!, /environment variable NOT_SET_ANYWHERE not set/);
    assert.match(entryProblem('not-an-object')!, /must be an object/);
    assert.match(entryProblem('gemini-bad')!, /url: url must start with http:\/\/ or https:\/\//);
    const names = report.servers.map((s) => s.name).sort();
    assert.deepEqual(names, ['checkout-named-like-us', 'cursor-ok', 'good-camel', 'good-http', 'good-sse', 'good-stdio', 'good-streamable', 'untyped-url']);
  });

  test('entries are normalised: transports, variables, scalars, relative cwd', async () => {
    const report = await broken();
    const get = (name: string) => report.servers.find((s) => s.name === name)!.config;
    assert.deepEqual(get('good-stdio'), {
      transport: 'stdio',
      command: 'node',
      args: ['server.js', '7'],
      env: { TOKEN: 'tok-123456', PORT: '3000', MODE: 'dev' },
      cwd: '/work/app/mcp-servers/servers/x',
      disabled: false,
    });
    assert.deepEqual(get('good-http'), { transport: 'http', url: 'https://example.test/mcp', headers: { Authorization: 'Bearer tok-123456' }, sseFallback: false, disabled: false });
    assert.equal(get('good-sse').transport, 'sse');
    assert.equal(get('good-streamable').transport, 'http');
    assert.equal(get('good-camel').transport, 'http');
    assert.deepEqual([get('untyped-url').transport, (get('untyped-url') as { sseFallback: boolean }).sseFallback], ['http', true]);
  });

  test('entries that launch this bridge (or the Python one) and disabled entries are skipped with a reason', async () => {
    const report = await broken();
    const reason = (name: string) => report.skipped.find((s) => s.name === name)?.reason;
    assert.equal(reason('ourselves'), 'it launches mcp-code-mode itself');
    assert.equal(reason('ourselves-bin'), 'it launches mcp-code-mode itself');
    assert.equal(reason('ourselves-node'), 'it launches mcp-code-mode itself');
    assert.match(reason('python-bridge')!, /Python code-execution bridge/);
    assert.match(reason('disabled-one')!, /disabled/);
    // A directory that merely shares our name is not us.
    assert.equal(reason('checkout-named-like-us'), undefined);
  });

  test('the listing and its JSON never show env values or header values', async () => {
    const report = await broken();
    const text = formatReport(report) + JSON.stringify(publicReport(report));
    assert.doesNotMatch(text, /tok-123456/);
    assert.match(text, /good-stdio {2}\[stdio\] {2}node server\.js 7/);
    assert.match(text, /"TOKEN":"\*\*\*"/);
    assert.match(text, /\n {2}\/work\/app\/mcp-servers\/1-malformed\.json: not valid JSON/);
    assert.match(text, /Claude Code \(user\) +\/home\/me\/\.claude\.json {2}\(0 servers, 1 problem\)/);
    assert.match(text, /MCP servers directory \(project\) +\/work\/app\/mcp-servers {2}\(7 servers, 11 problems\)/);
  });
});
