import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createDaemonLogger } from '../../daemon/src/logging.ts';
import { eventually } from '../support/poll.ts';

test('the daemon log is a 0600 file of JSON lines with env values and headers redacted by path', async () => {
  const logFile = join(mkdtempSync(join(tmpdir(), 'mcm-log-')), 'state', 'daemon.log');
  const log = createDaemonLogger({ level: 'info', logFile, stderr: false });
  log.info({ server: { name: 'gh', env: { GITHUB_TOKEN: 'ghp_x' }, headers: { Authorization: 'Bearer y' } } }, 'server config');
  log.info({ env: { A: 'secret-a' } }, 'top level');
  log.info({ req: { headers: { authorization: 'Bearer z' } } }, 'request');
  log.debug('not at info');
  log.flush();
  // The file stream writes asynchronously: wait for all three lines rather than for a fixed time.
  await eventually(() => existsSync(logFile) && readFileSync(logFile, 'utf8').trim().split('\n').length >= 3, 'the log lines are written', 10_000, 10);
  const text = readFileSync(logFile, 'utf8');
  assert.equal(statSync(logFile).mode & 0o777, 0o600);
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => l.msg), ['server config', 'top level', 'request']);
  assert.doesNotMatch(text, /ghp_x|Bearer y|secret-a|Bearer z/);
  assert.equal((lines[0]!.server as { env: unknown }).env, '[redacted]');
});
