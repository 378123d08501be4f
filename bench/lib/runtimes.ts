// Runtimes side by side in one run: the same daemon on Docker and on bwrap (and Podman when asked),
// measured in turns so that all see the same machine, against a `docker run --rm` per call with the
// sandbox flags; then each of issue 11's targets with its figure, and where it is missed, why and
// what would close it. Used by `npm run bench` (section `runtimes`) and `npm run bench:runtimes`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ControlClient } from '@mcp-code-mode/client';
import type { RunResponse } from '@mcp-code-mode/protocol';
import { buildSandboxSpec } from '../../daemon/src/runtimes/container/sandbox-spec.ts';
import { EVERYTHING, stdio, writeServersConfig } from '../../test/fixtures/mcp-servers/upstreams.ts';
import { openTestRuntime, startAgent } from '../../test/support/bwrap.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../../test/support/daemon-process.ts';
import type { TestEngine } from '../../test/support/engines.ts';
import { dockerCli, dockerRunArgs } from './baseline.ts';
import { sleep, summarize, timed, type Summary } from './stats.ts';

const POOL = 2;
const SHIM = new URL('../../packages/cli/bin/mcp-code-mode-shim.js', import.meta.url).pathname;
const FLOOR_SERVER = new URL('./http-floor-server.mjs', import.meta.url).pathname;

export interface RuntimeFigures {
  coldStartToWarmMs?: Summary;
  idleRssMb?: number;
  pacedMs?: Summary;
  /** durationMs of the same paced runs: the run inside the daemon, without HTTP and the client. */
  pacedInDaemonMs?: Summary;
  shimMs?: Summary;
  toolCallMs?: Summary;
  toolCallDirectMs?: Summary;
  backToBackMs?: Summary;
  burst?: { runs: number; seconds: number; perSecond: number; p50Ms: number; failures: number };
}

/** What a warm run cannot go below on this machine, measured paced in the same run as the figures. */
export interface Floors {
  /** The same ControlClient run against a Fastify server (a process of its own) that answers at once: client, HTTP and Fastify, no run. */
  controlApiMs: Summary;
  /** `execute` of `print(1)` on a fresh warm bwrap agent over its pipe, with no daemon: the agent's own part. */
  bwrapAgentExecuteMs?: Summary | undefined;
}

export interface RuntimesResult {
  date: string;
  n: number;
  runtimes: Record<string, RuntimeFigures>;
  dockerRunBaselineMs?: Summary | undefined;
  floors?: Floors | undefined;
}

const echoes = (n: number): string => `
import time, json
xs = []
for i in range(${n}):
    t = time.perf_counter(); await mcp_everything.echo(message=f"m{i}"); xs.append((time.perf_counter() - t) * 1000)
print(json.dumps(xs))`;

/** `pollMs`: how often to ask whether it answers (fine for the start-up figure). */
async function daemonOn(runtime: string, engines: TestEngine[], extra: Record<string, string> = {}, pollMs?: number): Promise<DaemonHandle> {
  const engine = engines.find((e) => e.name === runtime);
  if (!engine) throw new Error(`runtime ${runtime} is not available here (have ${engines.map((e) => e.name).join(', ')}); run the set-up with SETUP_ENGINES=all`);
  return startDaemonProcess(engine, { MCP_BRIDGE_LOG_LEVEL: 'warn', MCP_BRIDGE_POOL_SIZE: String(POOL), ...extra }, undefined, pollMs);
}

/** The control API's floor: the same client against a Fastify server that answers each run at once with `answer`. */
async function controlApiFloor(work: string, answer: RunResponse, n: number): Promise<Summary> {
  const socket = join(work, 'floor.sock');
  const answerFile = join(work, 'floor-answer.json');
  writeFileSync(answerFile, JSON.stringify(answer));
  const server = spawn(process.execPath, [FLOOR_SERVER, socket, answerFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`the floor server exited with ${code}`)));
      server.stdout!.once('data', () => resolve());
    });
    const client = new ControlClient(socket);
    const times: number[] = [];
    for (let i = 0; i < n + 3; i++) {
      await sleep(100);
      const [t, response] = await timed(() => client.run({ code: 'print(1)' }));
      if (response.result.status !== 'success') throw new Error('the floor server gave another answer');
      if (i >= 3) times.push(t);
    }
    return summarize(times);
  } finally {
    server.kill('SIGTERM');
  }
}

/** The bwrap agent's own part of a run: `execute` of `print(1)` on a fresh warm agent, over its pipe, no daemon (each agent runs once, as the pool's do). */
async function bwrapAgentFloor(n: number): Promise<Summary> {
  const t = await openTestRuntime();
  const times: number[] = [];
  for (let i = 0; i < n + 3; i++) {
    const agent = await startAgent(t.runtime);
    try {
      await sleep(100);
      const [ms, result] = await timed(() => agent.run('print(1)'));
      if (result.stdout !== '1\n') throw new Error(`the agent printed ${JSON.stringify(result.stdout)}`);
      if (i >= 3) times.push(ms);
    } finally {
      await t.runtime.remove(agent.sandbox.id);
    }
  }
  return summarize(times);
}

/**
 * Until every daemon's pool is full with nothing starting or being removed: a paced run on one
 * runtime must not share the machine with another's refill or removal (Docker's removal of a used
 * container goes on in dockerd after the run has answered).
 */
async function quiet(daemons: DaemonHandle[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pools = await Promise.all(daemons.map(async (d) => ((await d.client.get('/v1/status')) as { pool: { warm: number; starting: number; removing: number } }).pool));
    if (pools.every((p) => p.warm >= POOL && p.starting === 0 && p.removing === 0)) break;
    if (Date.now() > deadline) throw new Error(`the pools did not settle within 60 s: ${JSON.stringify(pools)}`);
    await sleep(20);
  }
  await sleep(50);
}

async function run(daemon: DaemonHandle): Promise<[number, number]> {
  const [t, response] = await timed(() => daemon.client.run({ code: 'print(1)' }));
  if (response.result.status !== 'success') throw new Error(`a run failed: ${JSON.stringify(response.result)}`);
  return [t, response.result.durationMs];
}

export async function measureRuntimes(engines: TestEngine[], runtimes: string[], n: number, log: (line: string) => void): Promise<RuntimesResult> {
  const figures: Record<string, RuntimeFigures> = Object.fromEntries(runtimes.map((r) => [r, {}]));

  // Cold start: daemon start to its first warm sandbox, five times each, in turns (the spread between starts here is ±100 ms).
  const cold: Record<string, number[]> = Object.fromEntries(runtimes.map((r) => [r, []]));
  for (let i = 0; i < 5; i++) {
    for (const runtime of runtimes) {
      const t0 = performance.now();
      const daemon = await daemonOn(runtime, engines, {}, 5);
      await waitWarm(daemon.client, 1, 120_000, 5);
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
  for (const runtime of runtimes) figures[runtime]!.coldStartToWarmMs = summarize(cold[runtime]!);
  log('runtimes: cold start done');

  const work = mkdtempSync(join(tmpdir(), 'mcm-bench-rt-'));
  const config = writeServersConfig(join(work, 'servers.json'), { everything: stdio(EVERYTHING, ['stdio']) });
  const daemons: Record<string, DaemonHandle> = {};
  const shims: Record<string, Client> = {};
  let direct: Client | undefined;
  let floors: Floors | undefined;
  try {
    for (const runtime of runtimes) daemons[runtime] = await daemonOn(runtime, engines, { MCP_SERVERS_CONFIG: config });
    for (const runtime of runtimes) await waitWarm(daemons[runtime]!.client, POOL, 120_000);
    for (const runtime of runtimes) {
      const client = new Client({ name: 'bench', version: '0' });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [SHIM], env: daemons[runtime]!.env as Record<string, string>, stderr: 'ignore' }));
      shims[runtime] = client;
    }

    // Paced, as a model calls: the pool is warm when the next call comes. Runtimes take turns.
    const paced: Record<string, number[]> = Object.fromEntries(runtimes.map((r) => [r, []]));
    const inDaemon: Record<string, number[]> = Object.fromEntries(runtimes.map((r) => [r, []]));
    const shim: Record<string, number[]> = Object.fromEntries(runtimes.map((r) => [r, []]));
    const baseline: number[] = [];
    const docker = engines.find((e) => e.name === 'docker');
    const spec = buildSandboxSpec({ image: 'mcp-code-mode/sandbox:local', user: '65534:65534', memoryBytes: 512 * 1024 ** 2, pids: 128, tmpfsBytes: 64 * 1024 ** 2, nofile: 1024, nproc: 4096 }, [], {});
    for (let i = 0; i < n + 3; i++) {
      for (const runtime of runtimes) {
        const daemon = daemons[runtime]!;
        await quiet(Object.values(daemons));
        const [t, inside] = await run(daemon);
        await quiet(Object.values(daemons));
        const s0 = performance.now();
        const answer = (await shims[runtime]!.callTool({ name: 'run_python', arguments: { code: 'print(1)' } })) as { isError?: boolean };
        if (answer.isError) throw new Error(`a run through the shim failed: ${JSON.stringify(answer)}`);
        if (i < 3) continue; // the first runs warm the shim's and the daemon's code paths
        paced[runtime]!.push(t);
        inDaemon[runtime]!.push(inside);
        shim[runtime]!.push(performance.now() - s0);
      }
      if (docker && i >= 3 && i < 23) {
        const [b, out] = await timed(() => dockerCli(docker.socket, dockerRunArgs(spec, 'print(1)')));
        if (out.trim() !== '1') throw new Error(`baseline printed ${out}`);
        baseline.push(b);
      }
      if ((i + 1) % 10 === 0) log(`runtimes: paced ${i + 1}/${n + 3}`);
    }
    for (const runtime of runtimes) {
      figures[runtime]!.pacedMs = summarize(paced[runtime]!);
      figures[runtime]!.pacedInDaemonMs = summarize(inDaemon[runtime]!);
      figures[runtime]!.shimMs = summarize(shim[runtime]!);
    }
    // The floors under the paced figures, on the same machine in the same run.
    const answer = await daemons[runtimes[0]!]!.client.run({ code: 'print(1)' });
    floors = {
      controlApiMs: await controlApiFloor(work, answer, n),
      bwrapAgentExecuteMs: runtimes.includes('bwrap') ? await bwrapAgentFloor(n) : undefined,
    };
    log('runtimes: floors done');

    // Tool calls: an echo from the sandbox against the SDK client calling the same server directly.
    direct = new Client({ name: 'bench', version: '0' });
    await direct.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }));
    for (let i = 0; i < 50; i++) await direct.callTool({ name: 'echo', arguments: { message: 'warm' } });
    const calls: Record<string, number[]> = Object.fromEntries(runtimes.map((r) => [r, []]));
    const directMs: Record<string, number[]> = Object.fromEntries(runtimes.map((r) => [r, []]));
    for (const runtime of runtimes) await daemons[runtime]!.client.run({ code: echoes(50), servers: ['everything'], timeout: 120 });
    for (let round = 0; round < 5; round++) {
      for (const runtime of runtimes) {
        await quiet(Object.values(daemons));
        for (let i = 0; i < 100; i++) {
          const t = performance.now();
          await direct.callTool({ name: 'echo', arguments: { message: `m${i}` } });
          directMs[runtime]!.push(performance.now() - t);
        }
        const { result } = await daemons[runtime]!.client.run({ code: echoes(100), servers: ['everything'], timeout: 120 });
        if (result.status !== 'success') throw new Error(`a tool-call round failed on ${runtime}: ${JSON.stringify(result)}`);
        calls[runtime]!.push(...(JSON.parse(result.stdout.join('')) as number[]));
      }
    }
    for (const runtime of runtimes) {
      figures[runtime]!.toolCallMs = summarize(calls[runtime]!);
      figures[runtime]!.toolCallDirectMs = summarize(directMs[runtime]!);
    }
    log('runtimes: tool calls done');

    // Back to back: each run waits for the pool's refill when the warm ones are used up.
    for (const runtime of runtimes) {
      await waitWarm(daemons[runtime]!.client, POOL);
      const times: number[] = [];
      for (let i = 0; i < 30; i++) times.push((await run(daemons[runtime]!))[0]);
      figures[runtime]!.backToBackMs = summarize(times);
      log(`runtimes: back to back ${runtime} done`);
    }

    // A burst of 50 at once.
    for (const runtime of runtimes) {
      await waitWarm(daemons[runtime]!.client, POOL);
      await sleep(2000); // the pool's grown target from the runs above shrinks back meanwhile
      const t0 = performance.now();
      const settled = await Promise.allSettled(Array.from({ length: 50 }, () => run(daemons[runtime]!)));
      const seconds = (performance.now() - t0) / 1000;
      const ok = settled.filter((s): s is PromiseFulfilledResult<[number, number]> => s.status === 'fulfilled').map((s) => s.value[0]);
      figures[runtime]!.burst = { runs: 50, seconds: Math.round(seconds * 100) / 100, perSecond: Math.round((50 / seconds) * 10) / 10, p50Ms: summarize(ok).median, failures: 50 - ok.length };
      log(`runtimes: burst ${runtime} done`);
    }
    return { date: new Date().toISOString(), n, runtimes: figures, dockerRunBaselineMs: baseline.length > 0 ? summarize(baseline) : undefined, floors };
  } finally {
    await direct?.close().catch(() => undefined);
    for (const client of Object.values(shims)) await client.close().catch(() => undefined);
    await Promise.all(Object.values(daemons).map((d) => d[Symbol.asyncDispose]()));
    rmSync(work, { recursive: true, force: true });
  }
}

const f = (s: Summary | undefined): string => (s ? `${s.median.toFixed(2)} / ${s.p99.toFixed(2)}` : '-');

/** The side-by-side table: one column per runtime. */
export function runtimesTable(result: RuntimesResult): string[] {
  const names = Object.keys(result.runtimes);
  const col = (pick: (fig: RuntimeFigures) => string): string => names.map((r) => pick(result.runtimes[r]!)).join(' | ');
  const base = result.dockerRunBaselineMs;
  return [
    `| figure (ms: p50 / p99) | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
    `| daemon start to first warm sandbox | ${col((x) => f(x.coldStartToWarmMs))} |`,
    `| warm \`print(1)\`, control API, paced | ${col((x) => f(x.pacedMs))} |`,
    `| ↳ of which the run inside the daemon (\`durationMs\`) | ${col((x) => f(x.pacedInDaemonMs))} |`,
    `| ↳ floor: the same client against a Fastify server that answers at once (no run) | ${col(() => f(result.floors?.controlApiMs))} |`,
    `| ↳ floor: the agent's own \`execute\` of \`print(1)\` over its pipe, no daemon (fresh agent) | ${names.map((r) => (r === 'bwrap' ? f(result.floors?.bwrapAgentExecuteMs) : '-')).join(' | ')} |`,
    `| × faster than \`docker run --rm\` (${base ? `${base.median.toFixed(1)} ms p50` : 'no Docker'}) | ${col((x) => (base && x.pacedMs ? `${(base.median / x.pacedMs.median).toFixed(1)}×` : '-'))} |`,
    `| warm \`print(1)\` through the shim (SDK Client over stdio) | ${col((x) => f(x.shimMs))} |`,
    `| one echo tool call from the sandbox | ${col((x) => f(x.toolCallMs))} |`,
    `| ↳ over the SDK client calling the server directly | ${col((x) => (x.toolCallMs && x.toolCallDirectMs ? `+${(x.toolCallMs.median - x.toolCallDirectMs.median).toFixed(2)}` : '-'))} |`,
    `| 30 runs back to back | ${col((x) => f(x.backToBackMs))} |`,
    `| burst of 50: runs/s, p50, failures | ${col((x) => (x.burst ? `${x.burst.perSecond}/s, ${x.burst.p50Ms.toFixed(0)} ms, ${x.burst.failures}` : '-'))} |`,
    `| daemon RSS idle, warm pool (MB) | ${col((x) => String(x.idleRssMb ?? '-'))} |`,
  ];
}

interface Target {
  what: string;
  runtime: string;
  limit: string;
  /** The figure as the table shows it and whether it meets the limit; undefined when it was not measured. */
  measure: (fig: RuntimeFigures) => { shown: string; met: boolean } | undefined;
  why: string;
  close: string;
}

/** A figure that meets its target at `limit` or below, shown by `show`. */
const atMost =
  (pick: (fig: RuntimeFigures) => number | undefined, limit: number, show: (v: number) => string): Target['measure'] =>
  (fig) => {
    const v = pick(fig);
    return v === undefined ? undefined : { shown: show(v), met: v <= limit };
  };
const msFixed =
  (digits: number) =>
  (v: number): string =>
    `${v.toFixed(digits)} ms`;

// Why and what would close it: from profiles made on this machine kind (bench/README.md, the `runtimes` section).
const TARGETS: Target[] = [
  {
    what: 'warm `print(1)`, control API, p50',
    runtime: 'bwrap',
    limit: '≤ 1.5 ms',
    measure: atMost((x) => x.pacedMs?.median, 1.5, msFixed(2)),
    why: 'below the two floor rows of the table, measured in this run: the same client against a Fastify server that answers at once (a new connection per request, HTTP, the NDJSON answer and its parse) and the agent\'s own execute over its pipe with no daemon (thread hand-offs in the agent: the reader thread to the main thread, the output pump during the run, each a wake-up on an idle core; the end of a run no longer waits for the pumps) add up to more than 1.5 ms; the daemon\'s own part (validation, lease, frames, audit, rendering) is the rest',
    close: 'not within HTTP and a threaded agent on this machine: a persistent framed connection between shim and daemon instead of HTTP per run, and an agent whose main thread reads the daemon\'s frames and its output pipes itself (one poll loop, no threads); a kept-alive HTTP connection saves ~0.4 ms (measured) but answers a dead daemon with ECONNRESET, which the shim\'s retry rule relies on being ECONNREFUSED',
  },
  {
    what: 'warm `print(1)` through the shim, p50',
    runtime: 'bwrap',
    limit: '≤ 3 ms',
    measure: atMost((x) => x.shimMs?.median, 3, msFixed(2)),
    why: 'the control API run above plus the MCP SDK\'s stdio framing and JSON-RPC on both sides of the shim',
    close: 'what closes the control API figure; the shim adds ~1-2 ms of its own',
  },
  {
    what: 'tool call over the SDK client direct, p50',
    runtime: 'bwrap',
    limit: '≤ +0.25 ms',
    measure: atMost((x) => (x.toolCallMs && x.toolCallDirectMs ? x.toolCallMs.median - x.toolCallDirectMs.median : undefined), 0.25, (v) => `+${v.toFixed(2)} ms`),
    why: 'each call is an RPC frame out of the sandbox, a route, approval and limit checks, then the SDK client call, and the answer back through the agent\'s event loop',
    close: 'batching frames on the pipe; a cheaper result validation in the router',
  },
  {
    what: '30 runs back to back, p50',
    runtime: 'bwrap',
    limit: '≤ 30 ms',
    measure: atMost((x) => x.backToBackMs?.median, 30, msFixed(1)),
    why: 'each run uses up a single-use sandbox, and a run costs ~130-145 ms of CPU on this 2-core machine, measured over 60 back-to-back runs (`/proc/stat` and the daemon\'s `/proc/<pid>/stat`): ~18 ms in the daemon (of it ~4 ms forking the launcher, the rest the records, uid claim and cgroup files), the rest the sandbox: one Python (the init, its Landlock prelude and, forked from it since this stop, the agent) whose start and agent imports are most of it, then the launcher, bwrap and the namespaces (in a loop of 30 on this machine, machine-wide CPU per sandbox from `/proc/stat`: bwrap with all namespaces running `true` ~5 ms, `python3 -I -S -c pass` in it ~14 ms, importing asyncio, json, threading, ast and inspect ~66 ms; `-X importtime` puts asyncio at ~42 ms, of it logging ~12 ms and ssl ~6 ms, which asyncio imports at once); the refill rate bounds it',
    close: 'a fork server: one warm Python with the agent imported that forks each sandbox\'s agent into fresh namespaces (not done: the uid, cgroup and Landlock set-up would move into that process, and each sandbox would share its parent\'s memory image); short of that, an agent that imports asyncio only when code needs it',
  },
  {
    what: 'burst of 50 concurrent runs: runs/s',
    runtime: 'bwrap',
    limit: '≥ 40/s, p50 ≤ 0.6 s, 0 failures',
    measure: (x) => (x.burst ? { shown: `${x.burst.perSecond}/s, p50 ${x.burst.p50Ms.toFixed(0)} ms, ${x.burst.failures} failures`, met: x.burst.perSecond >= 40 && x.burst.p50Ms <= 600 && x.burst.failures === 0 } : undefined),
    why: 'the same CPU bound: 2 cores / ~130-145 ms of CPU per run (sandbox start, run, removal) ≈ 14-17 runs a second',
    close: 'as for back to back: sandboxes that cost ~50 ms of CPU (a fork server)',
  },
  {
    what: 'daemon RSS idle',
    runtime: 'bwrap',
    limit: '≤ 70 MB',
    measure: atMost((x) => x.idleRssMb, 70, (v) => `${v} MB`),
    why: 'of the RSS, ~43 MB are the node binary\'s own pages (shared, clean: `/proc/<pid>/smaps_rollup`) and the rest the heap and buffers; the daemon runs with V8\'s young generation at 1 MiB (`--max-semi-space-size=1`, DAEMON_NODE_FLAGS: ~12 MB less than the default 16 MiB, paced and back-to-back figures unchanged); the old generation holds ~17 MB of module code and data. Since this stop prom-client (with its @opentelemetry/api, 51 files) loads only when the health endpoint is on, and Fastify\'s ajv schema compilers (117 files, with ajv-formats and fast-json-stringify) never, since no route has a JSON schema: ~74 -> ~71 MB measured with them gone; what is left is the daemon\'s own modules, Fastify (semver among them, 47 files, for its plugin checks), zod, pino and generic-pool',
    close: 'a bundle of the daemon that keeps less code alive, or a control server on node:http alone instead of Fastify',
  },
  {
    what: 'daemon start to first warm sandbox',
    runtime: 'bwrap',
    limit: '≤ 300 ms',
    measure: atMost((x) => x.coldStartToWarmMs?.median, 300, msFixed(0)),
    why: 'Node.js itself starts in ~85 ms here, and loading the CLI and the daemon (zod ~70 ms alone, pino, Fastify, the MCP SDK) takes it to ~300 ms before the runtime opens; then the probe and the image check (`docker image inspect`, ~60 ms when an engine is there) and the first sandbox (~100 ms; the compiled agent now comes from the cache and the first sandbox starts alone). A CPU profile of a start (node --require with the inspector\'s profiler) puts the loading at ~500 ms of the daemon\'s thread: zod ~40 ms, Fastify with avvio, find-my-way and semver ~70 ms, ajv (Fastify\'s schema compilers) ~50 ms, prom-client with @opentelemetry/api ~22 ms; the last two are no longer loaded (see the RSS row). The first sandbox now launches before the control server is built, whose ~50 ms overlap the agent\'s start (runtime ready to daemon ready ~215 -> ~170 ms in the daemon\'s log). Tried and measured, no gain: loading Fastify and the SDK while the first sandbox starts, and Node 22\'s compile cache (NODE_COMPILE_CACHE; ~690 ms with and without: evaluation, not compilation, is the cost)',
    close: 'a V8 startup snapshot of the daemon (Node\'s `--build-snapshot` needs a single-file CommonJS build of it), or the image check skipped when the rootfs record is fresh',
  },
  {
    what: '30 runs back to back, p50 (demand-following pool)',
    runtime: 'docker',
    limit: '≤ 100 ms',
    measure: atMost((x) => x.backToBackMs?.median, 100, msFixed(1)),
    why: 'each refill is a container create, attach and start through dockerd (the `docker run --rm` row shows what one costs); the pool grows while runs wait, but two cores bound the refill',
    close: 'bwrap on the same machine; or sessions, which keep one sandbox for many runs',
  },
];

/** issue 11's targets, each with its figure from `result`, met or not, and for a missed one why and what would close it. */
export function targetsTable(result: RuntimesResult): string[] {
  const lines = ['| target | runtime | limit | measured | met | why (when missed) | what would close it |', '|---|---|---|---|---|---|---|'];
  for (const t of TARGETS) {
    const fig = result.runtimes[t.runtime];
    const measured = fig ? t.measure(fig) : undefined;
    if (!measured) continue;
    const { shown, met } = measured;
    lines.push(`| ${t.what} | ${t.runtime} | ${t.limit} | ${shown} | ${met ? 'yes' : '**no**'} | ${met ? '' : t.why} | ${met ? '' : t.close} |`);
  }
  return lines;
}
