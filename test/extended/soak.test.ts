// The soak: 2,000 runs from four clients at once, mixing success, error, timeout and tool calls.
// Every run must get its own right answer, the engine must settle to the warm pool, and the daemon's
// RSS at the end must be within 20% of its RSS after the first 100 runs. It runs on the first engine
// only (Docker when it answers; SOAK_ENGINE=podman picks Podman), being the slowest case by far.
// docs/SECURITY.md: id S1.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunResult } from '@mcp-code-mode/protocol';
import { availableEngines } from '../support/engines.ts';
import { POOL_SIZE, settled, startHostileDaemon, type HostileDaemon } from '../support/hostile.ts';

const RUNS = Number(process.env.SOAK_RUNS ?? 2000);
const CLIENTS = 4;
const WARMUP = 100;

const engines = await availableEngines();
const engine = engines.find((e) => e.name === process.env.SOAK_ENGINE) ?? engines[0]!;

type Kind = 'success' | 'error' | 'timeout' | 'tools';

/** The mix: one run in a hundred times out (1 s), one in ten raises, two in ten call tools. */
function kindOf(i: number): Kind {
  if (i % 100 === 50) return 'timeout';
  if (i % 10 === 1) return 'error';
  if (i % 10 === 2 || i % 10 === 3) return 'tools';
  return 'success';
}

function request(i: number): Record<string, unknown> {
  switch (kindOf(i)) {
    case 'timeout':
      return { code: 'print("spinning", flush=True)\nwhile True: pass', timeout: 1 };
    case 'error':
      return { code: `raise ValueError("run ${i}")` };
    case 'tools':
      return { code: `import asyncio\nanswers = await asyncio.gather(*[mcp_hostile.echo(text=f"r${i}-{k}") for k in range(3)])\nprint(",".join(answers))`, servers: ['hostile'] };
    case 'success':
      return { code: `print(${i} * 2)` };
  }
}

function check(i: number, r: RunResult): void {
  const context = `run ${i} (${kindOf(i)}): ${JSON.stringify(r)}`;
  switch (kindOf(i)) {
    case 'timeout':
      assert.equal(r.status, 'timeout', context);
      assert.equal(r.error?.type, 'Timeout', context);
      return;
    case 'error':
      assert.equal(r.status, 'error', context);
      assert.equal(r.error?.type, 'ValueError', context);
      assert.equal(r.error?.message, `run ${i}`, context);
      return;
    case 'tools':
      assert.equal(r.status, 'success', context);
      assert.deepEqual(r.stdout, [`r${i}-0,r${i}-1,r${i}-2`], context);
      assert.equal(r.toolCalls, 3, context);
      return;
    case 'success':
      assert.equal(r.status, 'success', context);
      assert.deepEqual(r.stdout, [String(i * 2)], context);
  }
}

describe(`soak on ${engine.name}`, () => {
  let h: HostileDaemon;

  before(async () => {
    h = await startHostileDaemon(engine);
  });
  after(async () => {
    await h?.dispose();
  });

  test(`S1 ${RUNS} runs from ${CLIENTS} clients: all answered right, nothing left, RSS steady`, { timeout: 900_000 }, async (t) => {
    const rss = async (): Promise<number> => ((await h.daemon.client.get('/v1/status')) as { rssBytes: number }).rssBytes;
    let next = 0;
    let done = 0;
    let rssAfterWarmup: number | undefined;
    const counts: Record<Kind, number> = { success: 0, error: 0, timeout: 0, tools: 0 };
    const started = Date.now();
    const client = async (): Promise<void> => {
      for (let i = next++; i < RUNS; i = next++) {
        const { result } = await h.daemon.client.run(request(i) as never);
        check(i, result);
        counts[kindOf(i)]++;
        done++;
        if (done === WARMUP) rssAfterWarmup = await rss();
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    const seconds = (Date.now() - started) / 1000;
    assert.equal(done, RUNS);
    await settled(engine, h.daemon, POOL_SIZE, 120_000);
    const rssEnd = await rss();
    const growth = rssEnd / rssAfterWarmup! - 1;
    t.diagnostic(`${RUNS} runs in ${seconds.toFixed(0)} s (${(RUNS / seconds).toFixed(1)} runs/s): ${JSON.stringify(counts)}`);
    t.diagnostic(`daemon RSS after ${WARMUP} runs ${(rssAfterWarmup! / 2 ** 20).toFixed(1)} MiB, at the end ${(rssEnd / 2 ** 20).toFixed(1)} MiB (${(growth * 100).toFixed(1)}%)`);
    assert.ok(growth <= 0.2, `daemon RSS grew by ${(growth * 100).toFixed(1)}% (from ${rssAfterWarmup} to ${rssEnd} bytes)`);
    const status = (await h.daemon.client.get('/v1/status')) as { runs: { total: number; timeout: number } };
    assert.ok(status.runs.total >= RUNS, JSON.stringify(status.runs));
    await h.recovered();
  });
});
