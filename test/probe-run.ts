// Temporary probe (deleted before hand-off).
import { readFileSync } from 'node:fs';
import { availableEngines, containersOf } from './helpers/engines.ts';
import { startDaemonProcess, waitWarm } from './helpers/daemon-process.ts';
const want = process.env.PROBE_ENGINE ?? 'docker';
const engine = (await availableEngines()).find((e) => e.name === want)!;
const cases = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { code: string; timeout?: number; servers?: string[] }[];
const d = await startDaemonProcess(engine, { MCP_SERVERS_CONFIG: '/tmp/mcmtest/servers.json', HOME: '/tmp/mcmtest', MCP_BRIDGE_MAX_OUTPUT_BYTES: process.env.PROBE_CAP ?? '4096' });
await waitWarm(d.client, 2);
for (const c of cases) {
  const t = Date.now();
  try {
    const r = await d.client.run(c);
    const res = r.result as any;
    console.log(`--- ${Date.now() - t} ms`, JSON.stringify({ ...res, stdout: res.stdout.slice(0, 20).map((l: string) => l.slice(0, 300)), stderr: res.stderr.slice(0, 10).map((l: string) => l.slice(0, 300)) }));
  } catch (e) { console.log('--- THROW', e); }
}
await new Promise((r) => setTimeout(r, 3000));
console.log('containers', (await containersOf(engine, d.owner)).map((c) => c.State));
await d[Symbol.asyncDispose]();
