// Runtimes side by side in one run (`npm run bench:runtimes`): the same daemon on Docker and on
// bwrap (and Podman with BENCH_RUNTIMES=docker,podman,bwrap), measured in turns so that both see the
// same machine, against a `docker run --rm` per call with the sandbox flags. Writes
// bench/results/runtimes.json and prints a markdown table.
// Knobs: BENCH_RUNTIMES (default docker,bwrap), BENCH_N (paced samples per runtime, default 50).
import { writeFileSync } from 'node:fs';
import { availableEngines, type TestEngine } from '../test/support/engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../test/support/daemon-process.ts';
import { buildSandboxSpec } from '../daemon/src/runtimes/container/sandbox-spec.ts';
import { dockerCli, dockerRunArgs } from './lib/baseline.ts';
import { sleep, summarize, timed, type Summary } from './lib/stats.ts';

const N = Number(process.env.BENCH_N ?? 50);
const RUNTIMES = (process.env.BENCH_RUNTIMES ?? 'docker,bwrap').split(',').map((s) => s.trim());
const POOL = 2;
const log = (line: string): void => void process.stderr.write(`[bench:runtimes] ${line}\n`);

interface Figures {
  coldStartToWarmMs?: Summary;
  idleRssMb?: number;
  pacedMs?: Summary;
  backToBackMs?: Summary;
  burst?: { runs: number; seconds: number; perSecond: number; p50Ms: number; failures: number };
}

async function daemonOn(runtime: string, engines: TestEngine[]): Promise<DaemonHandle> {
  const engine = engines.find((e) => e.name === runtime) ?? engines[0]!;
  const env: Record<string, string> = { MCP_BRIDGE_LOG_LEVEL: 'warn', MCP_BRIDGE_POOL_SIZE: String(POOL) };
  if (runtime === 'bwrap') env.MCP_BRIDGE_RUNTIME = 'bwrap';
  return startDaemonProcess(engine, env);
}

async function run(daemon: DaemonHandle): Promise<number> {
  const [t, response] = await timed(() => daemon.client.run({ code: 'print(1)' }));
  if (response.result.status !== 'success') throw new Error(`a run failed: ${JSON.stringify(response.result)}`);
  return t;
}

async function main(): Promise<void> {
  const engines = await availableEngines();
  const figures: Record<string, Figures> = Object.fromEntries(RUNTIMES.map((r) => [r, {}]));

  // Cold start: daemon start to its first warm sandbox, three times each, in turns.
  const cold: Record<string, number[]> = Object.fromEntries(RUNTIMES.map((r) => [r, []]));
  for (let i = 0; i < 3; i++) {
    for (const runtime of RUNTIMES) {
      const t0 = performance.now();
      const daemon = await daemonOn(runtime, engines);
      await waitWarm(daemon.client, 1, 120_000);
      cold[runtime]!.push(performance.now() - t0);
      if (i === 0) {
        await waitWarm(daemon.client, POOL, 120_000);
        await sleep(1000);
        const status = (await daemon.client.get('/v1/status')) as { rssBytes: number };
        figures[runtime]!.idleRssMb = Math.round((status.rssBytes / 1024 / 1024) * 10) / 10;
      }
      await daemon[Symbol.asyncDispose]();
    }
  }
  for (const runtime of RUNTIMES) figures[runtime]!.coldStartToWarmMs = summarize(cold[runtime]!);
  log('cold start done');

  const daemons = Object.fromEntries(await Promise.all(RUNTIMES.map(async (r) => [r, await daemonOn(r, engines)] as const)));
  try {
    for (const runtime of RUNTIMES) await waitWarm(daemons[runtime]!.client, POOL, 120_000);
    // Paced, as a model calls: the pool is warm when the next call comes. Runtimes take turns.
    const paced: Record<string, number[]> = Object.fromEntries(RUNTIMES.map((r) => [r, []]));
    const baseline: number[] = [];
    const docker = engines.find((e) => e.name === 'docker');
    const spec = buildSandboxSpec({ image: 'mcp-code-mode/sandbox:local', user: '65534:65534', memoryBytes: 512 * 1024 ** 2, pids: 128, tmpfsBytes: 64 * 1024 ** 2, nofile: 1024, nproc: 4096 }, [], {});
    for (let i = 0; i < N; i++) {
      for (const runtime of RUNTIMES) {
        await waitWarm(daemons[runtime]!.client, POOL);
        await sleep(50);
        paced[runtime]!.push(await run(daemons[runtime]!));
      }
      if (docker && i < 20) {
        const [b, out] = await timed(() => dockerCli(docker.socket, dockerRunArgs(spec, 'print(1)')));
        if (out.trim() !== '1') throw new Error(`baseline printed ${out}`);
        baseline.push(b);
      }
      if ((i + 1) % 10 === 0) log(`paced ${i + 1}/${N}`);
    }
    for (const runtime of RUNTIMES) figures[runtime]!.pacedMs = summarize(paced[runtime]!);

    // Back to back: each run waits for the pool's refill when the warm ones are used up.
    for (const runtime of RUNTIMES) {
      await waitWarm(daemons[runtime]!.client, POOL);
      const times: number[] = [];
      for (let i = 0; i < 30; i++) times.push(await run(daemons[runtime]!));
      figures[runtime]!.backToBackMs = summarize(times);
      log(`back to back ${runtime} done`);
    }

    // A burst of 50 at once.
    for (const runtime of RUNTIMES) {
      await waitWarm(daemons[runtime]!.client, POOL);
      const t0 = performance.now();
      const settled = await Promise.allSettled(Array.from({ length: 50 }, () => run(daemons[runtime]!)));
      const seconds = (performance.now() - t0) / 1000;
      const ok = settled.filter((s): s is PromiseFulfilledResult<number> => s.status === 'fulfilled').map((s) => s.value);
      figures[runtime]!.burst = { runs: 50, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round((50 / seconds) * 10) / 10, p50Ms: summarize(ok).median, failures: 50 - ok.length };
      log(`burst ${runtime} done`);
    }

    const base = baseline.length > 0 ? summarize(baseline) : undefined;
    const out = { date: new Date().toISOString(), n: N, runtimes: figures, dockerRunBaselineMs: base };
    writeFileSync(new URL('./results/runtimes.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
    const f = (s: Summary | undefined): string => (s ? `${s.median.toFixed(2)} / ${s.p99.toFixed(2)}` : '-');
    const lines = [
      `| figure (ms: p50 / p99) | ${RUNTIMES.join(' | ')} |`,
      `|---|${RUNTIMES.map(() => '---').join('|')}|`,
      `| daemon start to first warm sandbox | ${RUNTIMES.map((r) => f(figures[r]!.coldStartToWarmMs)).join(' | ')} |`,
      `| warm print(1), control API, paced | ${RUNTIMES.map((r) => f(figures[r]!.pacedMs)).join(' | ')} |`,
      `| x faster than docker run --rm (${base ? base.median.toFixed(1) : '-'} ms p50) | ${RUNTIMES.map((r) => (base ? `${(base.median / figures[r]!.pacedMs!.median).toFixed(1)}x` : '-')).join(' | ')} |`,
      `| 30 runs back to back | ${RUNTIMES.map((r) => f(figures[r]!.backToBackMs)).join(' | ')} |`,
      `| burst of 50: runs/s, p50, failures | ${RUNTIMES.map((r) => { const b = figures[r]!.burst!; return `${b.perSecond}/s, ${b.p50Ms.toFixed(0)} ms, ${b.failures}`; }).join(' | ')} |`,
      `| daemon RSS idle, warm pool (MB) | ${RUNTIMES.map((r) => String(figures[r]!.idleRssMb)).join(' | ')} |`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await Promise.all(Object.values(daemons).map((d) => d[Symbol.asyncDispose]()));
  }
}

await main();
