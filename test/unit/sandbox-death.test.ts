import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerState } from '../../daemon/src/runtimes/container/container-client.ts';
import { diagnoseClosed } from '../../daemon/src/runtimes/container/container-death.ts';
import { deathError } from '../../daemon/src/runs/sandbox-death.ts';

/** A sandbox whose engine answers the given states in turn (the last one repeats); `undefined` is gone, an Error is thrown. */
function answering(...states: (ContainerState | undefined | Error)[]) {
  let asked = 0;
  return {
    get asked() {
      return asked;
    },
    async state(): Promise<ContainerState | undefined> {
      const s = states[Math.min(asked++, states.length - 1)];
      if (s instanceof Error) throw s;
      return s;
    },
  };
}

const exited = (exitCode: number, status = 'exited'): ContainerState => ({ running: false, oomKilled: false, exitCode, status });
const running: ContainerState = { running: true, oomKilled: false, exitCode: 0, status: 'running' };

test('a removal that first shows as a stop with code 0 is reported as a removal', async () => {
  const sandbox = answering(exited(0), undefined);
  assert.deepEqual(await diagnoseClosed(sandbox, 300, 5), { kind: 'removed' });
  const removing = answering(exited(0), exited(137, 'removing'));
  assert.deepEqual(await diagnoseClosed(removing, 300, 5), { kind: 'removed' });
  assert.equal(deathError({ kind: 'removed' }).message, 'the sandbox container was removed from outside before the code finished');
});

test('an exit that stays an exit is reported with its latest code', async () => {
  const sandbox = answering(exited(0), exited(137));
  const death = await diagnoseClosed(sandbox, 300, 5);
  assert.deepEqual(death, { kind: 'exited', exitCode: 137 });
  assert.equal(sandbox.asked, 2);
  assert.match(deathError(death).message, /^the sandbox exited with code 137 \(killed by SIGKILL: the memory limit or a kill\)/);
  assert.match(deathError({ kind: 'exited', exitCode: 3 }).message, /^the sandbox exited with code 3 before/);
});

test('a container still running past the settle time is a lost connection; an engine that does not answer too', async () => {
  assert.deepEqual(await diagnoseClosed(answering(running), 60, 5), { kind: 'lost' });
  assert.deepEqual(await diagnoseClosed(answering(running, exited(1)), 300, 5), { kind: 'exited', exitCode: 1 });
  assert.deepEqual(await diagnoseClosed(answering(new Error('engine down')), 300, 5), { kind: 'lost' });
  assert.equal(deathError({ kind: 'lost' }).type, 'SandboxLost');
});

test('an OOM kill is reported as such, before any exit code', async () => {
  const death = await diagnoseClosed(answering({ running: false, oomKilled: true, exitCode: 137, status: 'exited' }), 300, 5);
  assert.deepEqual(death, { kind: 'oom' });
  assert.equal(deathError(death).type, 'OutOfMemory');
});
