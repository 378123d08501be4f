// Latency of a follow-up run in a session against a fresh run (issue 7). Prints medians; asserts nothing.
// Usage: node --import tsx bench/session-latency.ts   (BENCH_ENGINE=docker|podman, BENCH_N=50)
// Each run is timed from the request to the answer over the control socket (what the shim forwards).
// "fresh, pool warm" waits for the warm pool to refill before each run (a model thinking between
// calls); "fresh, back to back" does not (a burst). A session follow-up needs no container start.
import type { ControlClient } from '@mcp-code-mode/client';
import { availableEngines } from '../test/support/engines.ts';
import { startDaemonProcess, waitWarm } from '../test/support/daemon-process.ts';
import { summarize, timed, type Summary } from './lib/stats.ts';

const N = Number(process.env.BENCH_N ?? 50);
const POOL = 2;
// The second pair: a question about data that a session already holds, against loading it again.
const LOAD = 'import random\nrandom.seed(1)\nrows = [(i % 97, random.random()) for i in range(300_000)]';
const ASK = 'print(round(sum(v for k, v in rows if k == 7), 3))';

async function sample(n: number, before: () => Promise<void>, run: () => Promise<{ status: string }>): Promise<Summary> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    await before();
    const [ms, result] = await timed(run);
    if (result.status !== 'success') throw new Error(`a measured run failed: ${JSON.stringify(result)}`);
    times.push(ms);
  }
  return summarize(times);
}

async function main(): Promise<void> {
  const wanted = process.env.BENCH_ENGINE;
  const engine = (await availableEngines()).find((e) => !wanted || e.name === wanted);
  if (!engine) throw new Error(`engine ${wanted} is not available`);
  await using daemon = await startDaemonProcess(engine, { MCP_BRIDGE_POOL_SIZE: String(POOL), MCP_BRIDGE_LOG_LEVEL: 'warn' });
  const client: ControlClient = daemon.client;
  const run = async (code: string, session?: string) => (await client.run({ code, ...(session ? { session } : {}) })).result;
  const warm = (): Promise<void> => waitWarm(client, POOL);
  const none = async (): Promise<void> => undefined;
  await warm();
  for (let i = 0; i < 5; i++) await run('print(1)'); // warm-up: engine caches, daemon JIT

  const opened = await run('x = 0\n' + LOAD, 'new');
  if (opened.session?.state !== 'open') throw new Error(`no session: ${JSON.stringify(opened)}`);
  const id = opened.session.id;

  const rows: [string, Summary][] = [];
  rows.push(['fresh run, pool warm: print(1)', await sample(N, warm, () => run('print(1)'))]);
  rows.push(['fresh run, back to back: print(1)', await sample(N, none, () => run('print(1)'))]);
  await warm();
  rows.push(['session follow-up: x += 1; print(x)', await sample(N, none, () => run('x += 1\nprint(x)', id))]);
  rows.push(['fresh run, pool warm: load 300k rows + ask', await sample(N, warm, () => run(`${LOAD}\n${ASK}`))]);
  rows.push(['session follow-up: ask (rows already loaded)', await sample(N, none, () => run(ASK, id))]);
  await client.delete(`/v1/sessions/${id}`);

  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`engine ${engine.name}, n=${N} each, times in ms (request to answer over the control socket)\n`);
  process.stdout.write(`${'what'.padEnd(width)}  median     min     p99\n`);
  for (const [label, s] of rows) process.stdout.write(`${label.padEnd(width)}  ${s.median.toFixed(1).padStart(6)}  ${s.min.toFixed(1).padStart(6)}  ${s.p99.toFixed(1).padStart(6)}\n`);
  const fresh = rows[0]![1].median;
  const follow = rows[2]![1].median;
  process.stdout.write(`follow-up vs fresh (pool warm), medians: ${(fresh / follow).toFixed(2)}x faster\n`);
}

await main();
