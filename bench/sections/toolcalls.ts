import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { EVERYTHING } from '../../test/fixtures/mcp-servers/upstreams.ts';
import { ms, pair } from '../lib/report.ts';
import { summarize } from '../lib/stats.ts';
import type { Section } from './index.ts';

const ROUNDS = 10;
const PER_ROUND = 100;

/** Times `n` sequential echo calls inside one sandbox run; returns per-call milliseconds. */
const sandboxEchoes = (n: number): string => `
import time, json
xs = []
for i in range(${n}):
    t = time.perf_counter(); await mcp_everything.echo(message=f"m{i}"); xs.append((time.perf_counter() - t) * 1000)
print(json.dumps(xs))`;

/** A gather of `n` echo calls against `n` sequential ones, alternating, in one run. */
const gatherVsSequential = (n: number, rounds: number): string => `
import asyncio, time, json
out = {"gather": [], "sequential": []}
for _ in range(${rounds}):
    t = time.perf_counter()
    await asyncio.gather(*(mcp_everything.echo(message=f"g{i}") for i in range(${n})))
    out["gather"].append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    for i in range(${n}):
        await mcp_everything.echo(message=f"s{i}")
    out["sequential"].append((time.perf_counter() - t) * 1000)
print(json.dumps(out))`;

/**
 * Tool-call overhead: an echo to server-everything from the sandbox against the SDK client calling
 * the same server directly, alternating rounds of 100 calls; then a gather of 100 against 100
 * sequential calls.
 */
export const toolCallsSection: Section = {
  name: 'toolcalls',
  async run(ctx) {
    const direct = new Client({ name: 'bench', version: '0' });
    await direct.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }));
    for (let i = 0; i < 50; i++) await direct.callTool({ name: 'echo', arguments: { message: 'warm' } });
    await ctx.daemon.client.run({ code: sandboxEchoes(50), servers: ['everything'], timeout: 120 });
    const directMs: number[] = [];
    const sandboxMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < PER_ROUND; i++) {
        const t = performance.now();
        await direct.callTool({ name: 'echo', arguments: { message: `m${i}` } });
        directMs.push(performance.now() - t);
      }
      const { result } = await ctx.daemon.client.run({ code: sandboxEchoes(PER_ROUND), servers: ['everything'], timeout: 120 });
      if (result.status !== 'success') throw new Error(`tool-call round failed: ${JSON.stringify(result)}`);
      sandboxMs.push(...(JSON.parse(result.stdout.join('')) as number[]));
    }
    // The same gather against sequential comparison, by the SDK client directly: what the server
    // itself allows, whatever sits in between.
    const directGather: number[] = [];
    const directSequential: number[] = [];
    for (let round = 0; round < 10; round++) {
      let t = performance.now();
      await Promise.all(Array.from({ length: 100 }, (_, i) => direct.callTool({ name: 'echo', arguments: { message: `g${i}` } })));
      directGather.push(performance.now() - t);
      t = performance.now();
      for (let i = 0; i < 100; i++) await direct.callTool({ name: 'echo', arguments: { message: `s${i}` } });
      directSequential.push(performance.now() - t);
    }
    await direct.close();
    const d = summarize(directMs);
    const s = summarize(sandboxMs);
    const overhead = s.median - d.median;
    ctx.rows.push({
      section: 'Tool calls (echo to server-everything over stdio)',
      what: `one call from the sandbox (${ROUNDS * PER_ROUND} calls)`,
      value: pair(s),
      baseline: `SDK client direct: ${pair(d)}`,
      ratio: `+${ms(overhead)} per call`,
      target: 'overhead p50 ≤ 0.5 ms',
      met: overhead <= 0.5,
      ...(overhead > 0.5
        ? { note: 'why: each call crosses the engine attach proxy twice (sandbox to daemon and back), about as much as a ping to an idle sandbox; the daemon side (schema check, allowlist, argument validation) is a small part' }
        : {}),
    });
    const { result } = await ctx.daemon.client.run({ code: gatherVsSequential(100, 10), servers: ['everything'], timeout: 120 });
    if (result.status !== 'success') throw new Error(`gather run failed: ${JSON.stringify(result)}`);
    const times = JSON.parse(result.stdout.join('')) as { gather: number[]; sequential: number[] };
    const g = summarize(times.gather);
    const q = summarize(times.sequential);
    const ratio = q.median / g.median;
    const dg = summarize(directGather);
    const dq = summarize(directSequential);
    const directRatio = dq.median / dg.median;
    ctx.rows.push({
      section: 'Tool calls (echo to server-everything over stdio)',
      what: 'asyncio.gather of 100 calls',
      value: pair(g),
      baseline: `100 sequential: ${pair(q)}`,
      ratio: `${ratio.toFixed(1)}× faster`,
      target: '≥ 10×',
      met: ratio >= 10,
      ...(ratio < 10
        ? {
            note: `why: the server bounds it. The SDK client calling it directly gets ${directRatio.toFixed(1)}× (100 at once p50 ${ms(dg.median)}, 100 in sequence p50 ${ms(dq.median)}): about ${ms(dg.median / 100)} of server work per echo that no overlap removes. A gather through the sandbox overlaps every round trip (20 one-second calls gathered take about 1 s)`,
          }
        : {}),
    });
    ctx.rows.push({
      section: 'Tool calls (echo to server-everything over stdio)',
      what: 'the same 100 calls by the SDK client directly (no sandbox)',
      value: `100 at once: ${pair(dg)}`,
      baseline: `100 sequential: ${pair(dq)}`,
      ratio: `${directRatio.toFixed(1)}× faster`,
    });
    ctx.results.toolCalls = { direct: d, sandbox: s, overheadMedianMs: overhead, gather100: g, sequential100: q, gatherSpeedup: ratio, directGather100: dg, directSequential100: dq, directGatherSpeedup: directRatio };
  },
};
