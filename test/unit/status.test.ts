import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildStatus, redactText } from '../../daemon/src/status.ts';
import type { ServerStatus } from '../../daemon/src/rpc/tool-host.ts';

test('the status keeps only the named fields of a server: env, headers and args never pass', () => {
  const leaky = {
    name: 'github',
    transport: 'stdio',
    source: '/home/me/.claude.json',
    state: 'failed',
    tools: 3,
    lastError: 'spawn failed',
    env: { GITHUB_TOKEN: 'ghp_secret' },
    headers: { Authorization: 'Bearer abc' },
    args: ['--token', 'ghp_secret'],
  } as ServerStatus;
  const status = buildStatus({
    info: () => ({ version: '1', pid: 1, uptimeSec: 0, rssBytes: 0, engine: { name: 'docker', version: '1', via: 'x' }, image: 'i', socket: '/s' }),
    pool: () => ({ warm: 0, starting: 0, busy: 0, removing: 0, queued: 0, target: 0, sleeping: false, created: 0, failedStarts: 0 }),
    toolHost: { status: () => ({ servers: [leaky], problems: [{ path: '/p.json', message: 'bad', extra: 'x' } as never] }) },
    runs: () => ({ total: 0, success: 0, error: 0, timeout: 0, validation_error: 0, toolCalls: 0 }),
    http: () => ({ enabled: false }),
  });
  assert.deepEqual(status.servers, [{ name: 'github', transport: 'stdio', source: '/home/me/.claude.json', state: 'failed', tools: 3, lastError: 'spawn failed' }]);
  assert.deepEqual(status.configProblems, [{ path: '/p.json', message: 'bad' }]);
  assert.doesNotMatch(JSON.stringify(status), /ghp_secret|Bearer abc/);
});

test('redactText masks the usual shapes of credentials in messages', () => {
  const cases: [string, string][] = [
    ['connect to https://bob:hunter22@example.com/mcp failed', 'connect to https://bob:***@example.com/mcp failed'],
    ['401 for header Authorization: Bearer abcdef123456', '401 for header Authorization: Bearer ***'],
    ['bad url ?api_key=sk-live-1234&x=1', 'bad url ?api_key=***&x=1'],
    ['{"token": "xyzxyzxyz"}', '{"token": "***"}'],
    ['GITHUB_TOKEN=ghp_abcdef is invalid', 'GITHUB_TOKEN=*** is invalid'],
    ['connection refused', 'connection refused'],
  ];
  for (const [input, expected] of cases) assert.equal(redactText(input), expected, input);
});
