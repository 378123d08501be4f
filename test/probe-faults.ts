import { availableEngines, containersOf } from './helpers/engines.ts';
import { startDaemonProcess, waitWarm } from './helpers/daemon-process.ts';
const want = process.env.PROBE_ENGINE ?? 'docker';
const engine = (await availableEngines()).find((e) => e.name === want)!;
const d = await startDaemonProcess(engine, { HOME: '/tmp/mcmtest' });
await waitWarm(d.client, 2);
const show = async (label: string) => console.log(label, (await containersOf(engine, d.owner)).map((c) => `${c.Id.slice(0, 8)}:${c.State}`), JSON.stringify((await d.client.get('/v1/status') as any).pool));
await show('start');
const warm = await containersOf(engine, d.owner);
await engine.docker.getContainer(warm[0]!.Id).kill();
await new Promise((r) => setTimeout(r, 1500));
await show('after kill warm');
for (let i = 0; i < 3; i++) { const r = await d.client.run({ code: 'print(1)' }); console.log(r.result.status, r.result.durationMs); await show('after run'); }
await new Promise((r) => setTimeout(r, 6000));
await show('after 6s');
// busy kill
const p = d.client.run({ code: 'import time\nprint("go", flush=True)\ntime.sleep(30)', timeout: 60 });
await new Promise((r) => setTimeout(r, 1500));
const st = (await d.client.get('/v1/status') as any).pool;
const all = await containersOf(engine, d.owner);
console.log('pool during', st);
// find the busy container: the one whose processes include sleep? use top
for (const c of all) { try { const top = await engine.docker.getContainer(c.Id).top(); if (JSON.stringify(top).includes('time.sleep') || JSON.stringify(top).length > 0) {} } catch {} }
const t0 = Date.now();
// kill all containers (busy + warm) at once
await Promise.all(all.map((c) => engine.docker.getContainer(c.Id).remove({ force: true }).catch((e) => console.log('rm', e.message))));
console.log('busy result', JSON.stringify((await p).result), Date.now() - t0);
await show('after rm all');
for (let i = 0; i < 3; i++) { const t = Date.now(); const r = await d.client.run({ code: 'print(1)' }).catch((e) => ({ result: { status: String(e) } } as any)); console.log(r.result.status, Date.now() - t); }
await new Promise((r) => setTimeout(r, 3000));
await show('end');
console.log(d.logs().split('\n').filter((l) => /warn|error/i.test(l)).slice(0, 20).join('\n'));
await d[Symbol.asyncDispose]();
