import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import Docker from 'dockerode';
import { containersOf, type TestEngine } from './helpers/engines.ts';
import { startDaemonProcess, waitWarm } from './helpers/daemon-process.ts';
const dir = '/tmp/mcm-podman-probe'; mkdirSync(dir, { recursive: true });
const sock = `${dir}/podman.sock`;
const startService = () => { rmSync(sock, { force: true }); const p = spawn('podman', ['system', 'service', '--time=0', `unix://${sock}`], { stdio: 'ignore', detached: false }); return p; };
let svc = startService();
const docker = new Docker({ socketPath: sock });
for (let i = 0; i < 100; i++) { try { await docker.ping(); break; } catch { await new Promise((r) => setTimeout(r, 100)); } }
const engine: TestEngine = { name: 'podman', socket: sock, docker };
const d = await startDaemonProcess(engine, { HOME: '/tmp/mcmtest' });
await waitWarm(d.client, 2);
const show = async (label: string) => console.log(label, (await containersOf(engine, d.owner).catch((e) => [{ Id: 'ERR ' + e.message, State: '' }] as any)).map((c: any) => `${c.Id.slice(0, 8)}:${c.State}`), JSON.stringify(((await d.client.get('/v1/status')) as any).pool));
await show('start');
const busy = d.client.run({ code: 'import time\nprint("go", flush=True)\ntime.sleep(20)\nprint("done")', timeout: 60 });
await new Promise((r) => setTimeout(r, 1500));
svc.kill('SIGKILL');
await new Promise((r) => svc.once('exit', r));
console.log('service killed');
const t0 = Date.now();
const during = await d.client.run({ code: 'print(1)' }).then((r) => JSON.stringify(r.result), (e) => `THROW ${e.code} ${e.message}`);
console.log('run while engine down', Date.now() - t0, during);
await show('down');
svc = startService();
for (let i = 0; i < 100; i++) { try { await docker.ping(); break; } catch { await new Promise((r) => setTimeout(r, 100)); } }
console.log('service back');
console.log('busy run', await busy.then((r) => JSON.stringify(r.result), (e) => `THROW ${e.message}`));
for (let i = 0; i < 4; i++) { const t = Date.now(); const r = await d.client.run({ code: 'print(1)' }).then((r) => r.result.status + ' ' + (r.result.error?.message ?? ''), (e) => `THROW ${e.code} ${e.message}`); console.log('after', Date.now() - t, r); await show('after'); }
await new Promise((r) => setTimeout(r, 8000));
await show('end');
console.log(d.logs().split('\n').filter((l) => /warn|error/i.test(l)).slice(0, 15).join('\n').slice(0, 4000));
await d[Symbol.asyncDispose]();
await show('disposed').catch(() => {});
console.log('left', (await containersOf(engine, d.owner)).length);
svc.kill('SIGTERM');
