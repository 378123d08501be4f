// The benchmark harness (`npm run bench`). Starts its own daemon on a temporary state directory,
// warms up, measures, and writes bench/results/latest.json, docs/BENCHMARKS.md, docs/benchmarks.svg.
// Knobs: BENCH_ENGINE=docker|podman, BENCH_N (latency samples, default 100), BENCH_MANY (runs for the
// memory figure, default 1000), BENCH_SECTIONS=comma list to run only some sections, BENCH_RUNTIMES
// (the runtimes compared in the last section, default docker,bwrap).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSandboxSpec } from '../daemon/src/runtimes/container/sandbox-spec.ts';
import { availableEngines, containersOf, type TestEngine } from '../test/support/engines.ts';
import { CLI, startDaemonProcess, waitWarm, type DaemonHandle } from '../test/support/daemon-process.ts';
import { dockerCli, dockerRunArgs } from './lib/baseline.ts';
import { latencyChart, markdown, mb, ms, pair, type Row } from './lib/report.ts';
import { sleep, summarize, timed, type Summary } from './lib/stats.ts';
import { measureRuntimes, runtimesTable, targetsTable } from './lib/runtimes.ts';
import { extraSections, type SectionContext } from './sections/index.ts';
import { writeWorkflowFiles } from './sections/workflow.ts';
import { EVERYTHING, FILESYSTEM, stdio, writeServersConfig } from '../test/fixtures/mcp-servers/upstreams.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const N = Number(process.env.BENCH_N ?? 100);
const MANY = Number(process.env.BENCH_MANY ?? 1000);
const POOL = 2;
const only = process.env.BENCH_SECTIONS?.split(',').map((s) => s.trim());
const want = (name: string): boolean => !only || only.includes(name);
const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

const rows: Row[] = [];
const results: Record<string, unknown> = {};
const chart: { label: string; value: number }[] = [];

/**
 * Containers of the daemon that its pool does not hold, once the pool is at rest (nothing busy,
 * starting or being removed; up to 30 s: removing 50 single-use containers takes seconds on a
 * loaded machine). The pool follows demand, so after a burst it may keep more than POOL warm for a
 * while: those are its own, not left behind.
 */
async function settle(engine: TestEngine, daemon: DaemonHandle): Promise<number> {
  let left = Number.NaN;
  for (let i = 0; i < 300; i++) {
    const { pool } = (await daemon.client.get('/v1/status')) as { pool: { warm: number; busy: number; starting: number; removing: number } };
    left = (await containersOf(engine, daemon.owner)).length - pool.warm;
    if (pool.busy + pool.starting + pool.removing === 0 && left === 0) return 0;
    await sleep(100);
  }
  return left;
}

async function coldStart(engine: TestEngine): Promise<void> {
  const answer: number[] = [];
  const firstWarm: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const daemon = await startDaemonProcess(engine, { MCP_BRIDGE_LOG_LEVEL: 'warn' });
    answer.push(performance.now() - t0);
    await waitWarm(daemon.client, 1, 120_000);
    firstWarm.push(performance.now() - t0);
    await daemon[Symbol.asyncDispose]();
  }
  const a = summarize(answer);
  const w = summarize(firstWarm);
  results.coldStart = { daemonAnswers: a, firstWarmContainer: w };
  rows.push({ section: 'Cold start', what: 'daemon start to control API answering', value: `p50 ${ms(a.median)} (n=${a.n})` });
  rows.push({ section: 'Cold start', what: 'daemon start to first warm container', value: `p50 ${ms(w.median)} (n=${w.n})` });
}

async function warmLatency(engine: TestEngine, daemon: DaemonHandle, image: string): Promise<void> {
  const spec = buildSandboxSpec({ image, user: '65534:65534', memoryBytes: 512 * 1024 ** 2, pids: 128, tmpfsBytes: 64 * 1024 ** 2, nofile: 1024, nproc: 4096 }, [], {});
  const baselineArgs = dockerRunArgs(spec, 'print(1)');
  const api: number[] = [];
  const inner: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < N; i++) {
    // A model takes seconds between calls; the pool is warm when the next call comes.
    await waitWarm(daemon.client, POOL);
    const [t, response] = await timed(() => daemon.client.run({ code: 'print(1)' }));
    if (response.result.status !== 'success') throw new Error(`warm run failed: ${JSON.stringify(response.result)}`);
    api.push(t);
    inner.push(response.result.durationMs);
    const [b, out] = await timed(() => dockerCli(engine.socket, baselineArgs));
    if (out.trim() !== '1') throw new Error(`baseline printed ${out}`);
    baseline.push(b);
    if ((i + 1) % 20 === 0) log(`warm latency ${i + 1}/${N}`);
  }
  const a = summarize(api);
  const b = summarize(baseline);
  results.warmRun = { api: a, daemonSide: summarize(inner), dockerRunBaseline: b, baselineCommand: ['docker', ...baselineArgs].join(' ') };
  const ratio = b.median / a.median;
  const daemonSide = summarize(inner);
  rows.push({
    section: 'Warm run of print(1)',
    what: 'control API (HTTP over the Unix socket)',
    value: pair(a),
    baseline: `docker run --rm: ${pair(b)}`,
    ratio: `${ratio.toFixed(1)}× faster`,
    target: 'p50 ≤ 3 ms, ≥ 40×',
    met: a.median <= 3 && ratio >= 40,
    ...(a.median > 3
      ? {
          note: `why: of the p50, ${ms(daemonSide.median)} is the run inside the daemon (durationMs), mostly two trips through the engine's attach proxy (about 1 ms each way and back here: a ping alone takes ~1 ms) and the agent's own work in the container; the rest is HTTP and the client. What would close it: a channel to the agent that does not pass through the engine's proxy (not possible without mounting a host path, which the sandbox forbids), or one round trip fewer per run`,
        }
      : {}),
  });
  chart.push({ label: 'control API, warm pool', value: a.median }, { label: 'docker run --rm per call', value: b.median });
}

async function cliLatency(daemon: DaemonHandle): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < Math.min(N, 30); i++) {
    await waitWarm(daemon.client, POOL);
    const [t] = await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [CLI, 'run', '-c', 'print(1)'], { env: daemon.env, stdio: 'ignore' });
          child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`cli exited ${code}`))));
        }),
    );
    samples.push(t);
  }
  const s = summarize(samples);
  results.cliRun = s;
  rows.push({ section: 'Warm run of print(1)', what: '`mcp-code-mode run -c` (includes starting Node.js)', value: pair(s) });
  chart.push({ label: 'mcp-code-mode run (CLI)', value: s.median });
}

async function burst(engine: TestEngine, daemon: DaemonHandle): Promise<void> {
  await waitWarm(daemon.client, POOL);
  const latencies: number[] = [];
  let failures = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      try {
        const [t, r] = await timed(() => daemon.client.run({ code: 'print(1)' }));
        if (r.result.status === 'success') latencies.push(t);
        else failures++;
      } catch {
        failures++;
      }
    }),
  );
  const total = performance.now() - t0;
  const left = await settle(engine, daemon);
  const s = summarize(latencies);
  results.burst = { runs: 50, failures, totalMs: total, throughputPerSec: 50 / (total / 1000), latency: s, containersLeftBeyondPool: left };
  rows.push({ section: 'Burst: 50 concurrent runs, default pool', what: 'throughput', value: `${(50 / (total / 1000)).toFixed(1)} runs/s (${ms(total)} for 50)` });
  rows.push({ section: 'Burst: 50 concurrent runs, default pool', what: 'latency', value: pair(s) });
  rows.push({ section: 'Burst: 50 concurrent runs, default pool', what: 'failures · containers left that the pool does not hold', value: `${failures} · ${left}`, target: '0 · 0', met: failures === 0 && left === 0 });
}

const rssOf = async (daemon: DaemonHandle): Promise<number> => ((await daemon.client.get('/v1/status')) as { rssBytes: number }).rssBytes;

/** `idle` is the daemon's RSS with a warm pool before its first run (no MCP server called yet). */
async function memory(engine: TestEngine, daemon: DaemonHandle, idle: number): Promise<void> {
  await waitWarm(daemon.client, POOL);
  const rss = (): Promise<number> => rssOf(daemon);
  const busyIdle = await rss();
  const warm = (await containersOf(engine, daemon.owner)).find((c) => c.State === 'running');
  let containerBytes = Number.NaN;
  if (warm && engine.docker) {
    const stats = (await engine.docker.getContainer(warm.Id).stats({ stream: false })) as { memory_stats?: { usage?: number; stats?: Record<string, number> } };
    const usage = stats.memory_stats?.usage ?? Number.NaN;
    const cache = stats.memory_stats?.stats?.inactive_file ?? stats.memory_stats?.stats?.cache ?? 0;
    containerBytes = usage - cache;
  }
  let done = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (done < MANY) {
      done++;
      await daemon.client.run({ code: 'print(sum(range(100)))' });
      if (done % 100 === 0) log(`memory: ${done}/${MANY} runs (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  await settle(engine, daemon);
  const after = await rss();
  results.memory = { daemonIdleRss: idle, daemonRssAfterSections: busyIdle, daemonRssAfterRuns: after, runs: MANY, warmContainerBytes: containerBytes, sustainedRunsPerSec: MANY / ((performance.now() - t0) / 1000) };
  rows.push({
    section: 'Memory',
    what: 'daemon RSS, idle with a warm pool, before its first run',
    value: mb(idle),
    target: '≤ 80 MB',
    met: idle <= 80 * 1024 * 1024,
    ...(idle > 80 * 1024 * 1024
      ? { note: 'why: Node.js itself is ~39 MB; each measured alone on top of it, dockerode (docker-modem with ssh2 and grpc) adds ~22 MB, Fastify (with its ajv) ~15 MB, zod ~12 MB (the MCP SDK, ~17 MB, loads only on the first MCP call). What would close it: an engine client slimmer than dockerode' }
      : {}),
  });
  rows.push({ section: 'Memory', what: 'daemon RSS after the sections above (MCP SDK loaded, 2 MCP servers connected)', value: mb(busyIdle) });
  rows.push({ section: 'Memory', what: `daemon RSS after ${MANY} more runs`, value: mb(after), ratio: `${(100 * (after / busyIdle - 1)).toFixed(1)}% growth` });
  rows.push({ section: 'Memory', what: 'one warm container (cgroup usage less page cache)', value: Number.isNaN(containerBytes) ? 'n/a' : mb(containerBytes) });
  rows.push({ section: 'Memory', what: 'sustained back-to-back runs (3 clients, single-use containers)', value: `${(MANY / ((performance.now() - t0) / 1000)).toFixed(1)} runs/s` });
}

async function main(): Promise<void> {
  const engines = await availableEngines();
  const engine = engines.find((e) => e.name === (process.env.BENCH_ENGINE ?? 'docker')) ?? engines[0]!;
  log(`engine ${engine.name} at ${engine.socket}`);
  if (want('cold')) await coldStart(engine);
  const work = mkdtempSync(join(tmpdir(), 'mcm-bench-'));
  const workflowDir = join(work, 'logs');
  writeWorkflowFiles(workflowDir);
  const config = writeServersConfig(join(work, 'servers.json'), { everything: stdio(EVERYTHING, ['stdio']), filesystem: stdio(FILESYSTEM, [workflowDir]) });
  // The gather section makes 2,000 calls in one run: past the default MCP_BRIDGE_MAX_TOOL_CALLS (1,000).
  const daemon = await startDaemonProcess(engine, { MCP_BRIDGE_LOG_LEVEL: 'warn', MCP_SERVERS_CONFIG: config, MCP_BRIDGE_MAX_TOOL_CALLS: '10000' });
  let header: { date: string; machine: string; engine: string; image: string; command: string };
  try {
    const status = (await daemon.client.get('/v1/status')) as { image: string; engine: { name: string; version: string } };
    await waitWarm(daemon.client, POOL, 120_000);
    const idleRss = await rssOf(daemon);
    for (let i = 0; i < 5; i++) await daemon.client.run({ code: 'print(1)' });
    const ctx: SectionContext = { engine, daemon, rows, results, chart, n: N, log, root, workflowDir };
    if (want('warm')) await warmLatency(engine, daemon, status.image);
    if (want('cli')) await cliLatency(daemon);
    for (const section of extraSections) if (want(section.name)) await section.run(ctx);
    if (want('burst')) await burst(engine, daemon);
    if (want('memory')) await memory(engine, daemon, idleRss);
    const date = new Date().toISOString().slice(0, 10);
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 1024 ** 3)} GiB, Node.js ${process.version}`;
    header = { date, machine, engine: `${status.engine.name} ${status.engine.version}`, image: status.image, command: 'npm run bench' };
  } finally {
    await daemon[Symbol.asyncDispose]();
    rmSync(work, { recursive: true, force: true });
  }
  // After the shared daemon is gone: these start daemons of their own, one per runtime.
  let runtimes = '';
  if (want('runtimes')) {
    const names = (process.env.BENCH_RUNTIMES ?? 'docker,bwrap').split(',').map((s) => s.trim());
    const measured = await measureRuntimes(await availableEngines({ bwrap: true }), names, Math.min(N, 50), log);
    results.runtimes = measured;
    runtimes = [
      '',
      `## Runtimes side by side (${names.join(', ')})`,
      '',
      'The same daemon on each runtime (pool of 2), measured in turns in this run, against `docker run --rm` per call with the',
      'sandbox flags (bench/lib/runtimes.ts; `npm run bench:runtimes` runs this part alone).',
      '',
      ...runtimesTable(measured),
      '',
      'The targets for a daemon with no container engine (bwrap), and for Docker with the demand-following pool:',
      '',
      ...targetsTable(measured),
      '',
    ].join('\n');
  }
  const date = header.date;
  mkdirSync(`${root}/bench/results`, { recursive: true });
  writeFileSync(`${root}/bench/results/latest.json`, JSON.stringify({ ...header, results, rows }, null, 2) + '\n');
  writeFileSync(`${root}/docs/BENCHMARKS.md`, markdown(rows, header) + (chart.length ? '\n![Latency medians](benchmarks.svg)\n' : '') + runtimes);
  if (chart.length) writeFileSync(`${root}/docs/benchmarks.svg`, latencyChart(chart, `Latency medians, ${engine.name}, ${date} (log scale)`));
  process.stdout.write(markdown(rows, header) + runtimes);
}

export type { Summary };
await main();
