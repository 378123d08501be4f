import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as plist from 'plist';
import { CLI_BIN, DAEMON_NODE_FLAGS, daemonCommandLine } from '../../packages/cli/src/context.ts';
import {
  LAUNCHD_LABEL,
  launchdPlist,
  serviceCommand,
  serviceEnvironment,
  systemdQuote,
  systemdUnit,
  type ServiceDeps,
  type ServiceSpec,
} from '../../packages/cli/src/service.ts';

const spec: ServiceSpec = {
  node: process.execPath,
  nodeFlags: ['--max-semi-space-size=1'],
  cli: '/opt/mcp code mode/daemon/bin/mcp-code-mode.js',
  env: { MCP_BRIDGE_STATE_DIR: '/home/me/state dir', MCP_BRIDGE_HTTP_PORT: '8787', PATH: '/usr/local/bin:/usr/bin', MCP_SERVERS_CONFIG: '/home/me/100%"quoted"$HOME.json' },
  logFile: '/home/me/state dir/daemon.log',
};

/** systemd-analyze on this machine (the test set-up, SETUP_FOR_TESTS=1, installs it where it can). */
function systemdAnalyze(): boolean {
  return process.platform === 'linux' && !spawnSync('systemd-analyze', ['--version']).error;
}

/** Parses a unit file the way systemd does for what we use: sections, key=value, quoted words. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      current = sections[section[1]!] = {};
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    assert.ok(kv && current, `not a unit line: ${line}`);
    (current[kv[1]!] ??= []).push(kv[2]!);
  }
  return sections;
}

/** The words of a systemd line with C-style quotes and %% undone, and $$ too in a command line. */
function words(value: string, kind: 'command' | 'environment' = 'command'): string[] {
  return [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => {
    const word = m[1]!.replace(/\\(.)/g, '$1').replace(/%%/g, '%');
    return kind === 'command' ? word.replace(/\$\$/g, '$') : word;
  });
}

test('the systemd user unit runs the daemon with the recorded environment, and restarts only on real failures', () => {
  const unit = parseUnit(systemdUnit(spec));
  assert.deepEqual(Object.keys(unit), ['Unit', 'Service', 'Install']);
  assert.deepEqual(words(unit.Service!.ExecStart![0]!), [spec.node, '--max-semi-space-size=1', spec.cli, 'daemon']);
  assert.deepEqual(
    unit.Service!.Environment!.map((e) => words(e, 'environment')[0]),
    Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
  );
  assert.deepEqual(unit.Service!.Restart, ['on-failure']);
  assert.deepEqual(unit.Service!.RestartPreventExitStatus, ['75']);
  assert.deepEqual(unit.Install!.WantedBy, ['default.target']);
});

test('systemd-analyze verify accepts the unit, with no warning', { skip: !systemdAnalyze() && 'systemd-analyze is not available here' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-unit-'));
  const file = join(dir, 'mcp-code-mode.service');
  // The binary must exist for verify; the CLI path may not, which verify does not check.
  writeFileSync(file, systemdUnit({ ...spec, node: process.execPath }));
  const runtime = mkdtempSync(join(tmpdir(), 'mcm-runtime-'));
  const r = spawnSync('systemd-analyze', ['--user', 'verify', file], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warning');
  // The check is real: a broken unit does get a warning.
  writeFileSync(file, systemdUnit(spec).replace('Restart=on-failure', 'Restart=sometimes'));
  const broken = spawnSync('systemd-analyze', ['--user', 'verify', file], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: runtime } });
  assert.match(broken.stderr, /Failed to parse service restart specifier/);
});

test('systemd quoting: backslashes, quotes, specifiers and $ are escaped; a line break is refused', () => {
  assert.equal(systemdQuote('a b'), '"a b"');
  assert.equal(systemdQuote('100%'), '"100%%"');
  assert.equal(systemdQuote('$HOME'), '"$$HOME"');
  assert.equal(systemdQuote('A=$HOME', 'environment'), '"A=$HOME"');
  assert.equal(systemdQuote('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
  assert.throws(() => systemdQuote('a\nb'), /line break/);
});

test('the launchd agent parses as a plist with the daemon, its environment and RunAtLoad', () => {
  const parsed = plist.parse(launchdPlist(spec)) as Record<string, unknown>;
  assert.equal(parsed.Label, LAUNCHD_LABEL);
  assert.deepEqual(parsed.ProgramArguments, [spec.node, '--max-semi-space-size=1', spec.cli, 'daemon', '--background']);
  assert.deepEqual(parsed.EnvironmentVariables, spec.env);
  assert.equal(parsed.RunAtLoad, true);
  assert.equal(parsed.KeepAlive, undefined, 'no restart loop: the shim restarts the daemon on demand');
  assert.equal(parsed.StandardErrorPath, spec.logFile);
  assert.equal(parsed.StandardOutPath, spec.logFile);
});

test('the service keeps MCP_BRIDGE_*, the engine, the MCP config and PATH, and nothing else', () => {
  const env = serviceEnvironment({ MCP_BRIDGE_MEMORY: '1g', DOCKER_HOST: 'unix:///x', PATH: '/bin', GITHUB_TOKEN: 'secret', MCP_BRIDGE_CPUS: '', HOME: '/h' });
  assert.deepEqual(env, { MCP_BRIDGE_MEMORY: '1g', DOCKER_HOST: 'unix:///x', PATH: '/bin' });
});

function fakeDeps(platform: NodeJS.Platform, results: Record<string, number> = {}): ServiceDeps & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    platform,
    home: mkdtempSync(join(tmpdir(), 'mcm-svc-home-')),
    uid: 501,
    env: { MCP_BRIDGE_STATE_DIR: '/s', PATH: '/bin' },
    node: '/usr/bin/node',
    cli: '/repo/daemon/bin/mcp-code-mode.js',
    run: (command, args) => {
      const line = `${command} ${args.join(' ')}`;
      ran.push(line);
      return { status: results[line] ?? 0, output: results[line] ? 'Failed to connect to bus' : '' };
    },
  };
}

const sink = () => {
  let text = '';
  return { write: (t: string) => (text += t), text: () => text };
};

test('install on Linux writes the unit and enables it; uninstall disables and removes it', async () => {
  const deps = fakeDeps('linux');
  const out = sink();
  assert.equal(await serviceCommand(['install'], { env: deps.env, stdout: out, stderr: sink() }, deps), 0);
  const file = join(deps.home, '.config', 'systemd', 'user', 'mcp-code-mode.service');
  assert.match(readFileSync(file, 'utf8'), /^ExecStart="\/usr\/bin\/node" "--max-semi-space-size=1" "\/repo\/daemon\/bin\/mcp-code-mode.js" "daemon"$/m);
  assert.deepEqual(deps.ran, ['systemctl --user daemon-reload', 'systemctl --user enable --now mcp-code-mode.service']);
  assert.match(out.text(), /starts at login/);
  assert.equal(await serviceCommand(['uninstall'], { env: deps.env, stdout: sink(), stderr: sink() }, deps), 0);
  assert.equal(existsSync(file), false);
  assert.deepEqual(deps.ran.slice(2), ['systemctl --user disable --now mcp-code-mode.service', 'systemctl --user daemon-reload']);
});

test('install where systemd does not run: the file is written, and the error says how to enable it later', async () => {
  const deps = fakeDeps('linux', { 'systemctl --user daemon-reload': 1 });
  const err = sink();
  assert.equal(await serviceCommand(['install'], { env: deps.env, stdout: sink(), stderr: err }, deps), 1);
  assert.ok(existsSync(join(deps.home, '.config', 'systemd', 'user', 'mcp-code-mode.service')));
  assert.match(err.text(), /Failed to connect to bus/);
  assert.match(err.text(), /systemctl --user enable --now mcp-code-mode.service/);
});

test('install on macOS writes the agent and bootstraps it in the gui domain', async () => {
  const deps = fakeDeps('darwin');
  assert.equal(await serviceCommand(['install'], { env: deps.env, stdout: sink(), stderr: sink() }, deps), 0);
  const file = join(deps.home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  assert.equal((plist.parse(readFileSync(file, 'utf8')) as { Label: string }).Label, LAUNCHD_LABEL);
  assert.deepEqual(deps.ran, [`launchctl bootout gui/501/${LAUNCHD_LABEL}`, `launchctl bootstrap gui/501 ${file}`]);
});

test('other platforms and actions are refused with the reason', async () => {
  await assert.rejects(serviceCommand(['install'], { env: {}, stdout: sink(), stderr: sink() }, fakeDeps('win32')), /Linux \(systemd\) and macOS \(launchd\)/);
  await assert.rejects(serviceCommand(['restart'], { env: {}, stdout: sink(), stderr: sink() }, fakeDeps('linux')), /install or uninstall/);
});

test('every daemon this installation starts gets the same node flags: the autostart and start command line, the login service, npm start', () => {
  assert.deepEqual(daemonCommandLine('--background'), [process.execPath, ...DAEMON_NODE_FLAGS, CLI_BIN, 'daemon', '--background']);
  const unit = parseUnit(systemdUnit({ ...spec, nodeFlags: DAEMON_NODE_FLAGS }));
  assert.deepEqual(words(unit.Service!.ExecStart![0]!), [spec.node, ...DAEMON_NODE_FLAGS, spec.cli, 'daemon']);
  const scripts = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.match(scripts.start!, new RegExp(`node ${DAEMON_NODE_FLAGS.join(' ')} packages/cli/bin/mcp-code-mode\\.js daemon$`));
});
