import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pidAlive } from '@mcp-code-mode/client';
import { checkUidRange, overlappingSubids, UidClaims, uidsInUse } from '../../daemon/src/runtimes/bwrap/uid-claims.ts';
import { RecordStore } from '../../daemon/src/runtimes/bwrap/records.ts';
import { rootfsReachable } from '../../daemon/src/runtimes/bwrap/rootfs.ts';

test('uids are claimed one per sandbox, across daemons, and freed only by their holder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-claims-'));
  const a = new UidClaims({ base: 300_000, count: 3 }, '/state/a', dir);
  const b = new UidClaims({ base: 300_000, count: 3 }, '/state/b', dir);
  const claimed = await Promise.all([a.claim('bw-000000000001'), b.claim('bw-000000000002'), a.claim('bw-000000000003')]);
  assert.deepEqual([...claimed].sort(), [300_000, 300_001, 300_002]);
  await assert.rejects(b.claim('bw-000000000004'), /all 3 sandbox uids from 300000 are in use.*MCP_BRIDGE_BWRAP_UID_COUNT/);
  const bUid = claimed[1]!;
  await a.release(bUid, 'bw-000000000002'); // not a's: stays
  await assert.rejects(a.claim('bw-000000000005'), /in use/);
  await b.release(bUid, 'bw-000000000002');
  assert.equal(await a.claim('bw-000000000005'), bUid);
  await b.release(300_009, 'bw-x'); // never claimed: nothing to do
  // A record that never learnt its uid (a daemon killed in between) still frees it, by sandbox id.
  await a.releaseSandbox('bw-000000000005');
  assert.equal(await b.claim('bw-000000000006'), bUid);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), []);
});

test('claims whose daemon is gone and whose uid no process uses are freed; a live daemon\'s, or one whose uid still runs, stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-claims-'));
  const live = new UidClaims({ base: 300_000, count: 8 }, '/state/live', dir);
  const ours = await live.claim('bw-000000000001');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // an exited process: its pid is free
  assert.equal(pidAlive(dead), false);
  assert.equal(pidAlive(process.pid), true);
  const write = (uid: number, pid: number, sandboxId: string): void => {
    mkdirSync(join(dir, String(uid)));
    writeFileSync(join(dir, String(uid), 'owner.json'), JSON.stringify({ uid, stateDir: '/state/gone', sandboxId, pid }));
  };
  write(300_005, dead, 'bw-000000000005');
  write(300_006, dead, 'bw-000000000006'); // its daemon is gone, but something still runs as its uid
  write(300_007, 1, 'bw-000000000007'); // pid 1 lives
  mkdirSync(join(dir, '300004')); // being made: no owner yet
  const freed = await live.reclaimAbandoned(pidAlive, async () => new Set([0, 300_006]));
  assert.deepEqual(freed, [300_005]);
  assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('.')).sort(), [String(ours), '300004', '300006', '300007']);
  assert.deepEqual([...(await live.heldSandboxes())].sort(), ['bw-000000000001', 'bw-000000000006', 'bw-000000000007']);
  // Nothing to judge: /proc is not read.
  assert.deepEqual(await new UidClaims({ base: 300_000, count: 8 }, '/state/x', mkdtempSync(join(tmpdir(), 'mcm-claims-'))).reclaimAbandoned(pidAlive, () => Promise.reject(new Error('read /proc'))), []);
});

test('uidsInUse reads the uids of the processes in /proc', async () => {
  const uids = await uidsInUse();
  assert.ok(uids.has(process.getuid!()), 'this process\'s own uid');
});

test('a daemon claims uids round robin: after the last one it claimed, not from the start of the range', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcm-claims-'));
  const a = new UidClaims({ base: 300_000, count: 4 }, '/state/a', dir);
  assert.equal(await a.claim('bw-000000000001'), 300_000);
  await a.release(300_000, 'bw-000000000001');
  // 300000 is free again, but its turn comes after the others.
  assert.equal(await a.claim('bw-000000000002'), 300_001);
  assert.equal(await a.claim('bw-000000000003'), 300_002);
  assert.equal(await a.claim('bw-000000000004'), 300_003);
  assert.equal(await a.claim('bw-000000000005'), 300_000, 'wraps around to the freed uid');
  await assert.rejects(a.claim('bw-000000000006'), /all 4 sandbox uids from 300000 are in use/);
});

test('a uid range is checked, and one that overlaps /etc/subuid is found', () => {
  assert.throws(() => checkUidRange({ base: 0, count: 10 }), /MCP_BRIDGE_BWRAP_UID_BASE/);
  assert.throws(() => checkUidRange({ base: 200_000, count: 0 }), /MCP_BRIDGE_BWRAP_UID_COUNT/);
  const subuid = 'alice:100000:65536\nbob:165536:65536\n# comment\n';
  assert.deepEqual(overlappingSubids({ base: 200_000, count: 10_000 }, subuid), ['bob:165536:65536']);
  assert.deepEqual(overlappingSubids({ base: 300_000, count: 10_000 }, subuid), []);
});

test('records are written whole, listed, and a bad one is dropped with a report', async () => {
  const store = new RecordStore(mkdtempSync(join(tmpdir(), 'mcm-records-')));
  const record = { id: 'bw-0123456789ab', owner: 'o', daemon: 'd', slot: 's', uid: 200_001, createdAt: 1 };
  await store.write(record);
  writeFileSync(join(store.dir, 'junk.json'), '{');
  writeFileSync(join(store.dir, '.bw-0123456789ab.x.tmp'), '{');
  const bad: string[] = [];
  assert.deepEqual(await store.all((file) => bad.push(file)), [record]);
  assert.deepEqual(bad, [join(store.dir, 'junk.json')]);
  assert.deepEqual(readdirSync(store.dir), ['bw-0123456789ab.json']);
  await store.remove(record.id);
  assert.equal(await store.read(record.id), undefined);
});

test('a root fs behind a directory that others may not pass is refused, naming it', async () => {
  const base = mkdtempSync(join(tmpdir(), 'mcm-reach-'));
  chmodSync(base, 0o755);
  const closed = join(base, 'state');
  mkdirSync(join(closed, 'rootfs'), { recursive: true, mode: 0o700 });
  chmodSync(closed, 0o700);
  chmodSync(join(closed, 'rootfs'), 0o755);
  await assert.rejects(rootfsReachable(join(closed, 'rootfs')), new RegExp(`${closed} has mode 0700`));
  chmodSync(closed, 0o711);
  await rootfsReachable(join(closed, 'rootfs'));
});
