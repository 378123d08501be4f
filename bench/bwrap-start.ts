// bwrap sandboxes through the runtime interface: start to the agent's `ready`, a ping round trip to a
// warm agent, and remove(). Prints medians and p99; asserts nothing. Runs as root (per-sandbox uids, v1 cgroups).
// Usage: node --import tsx bench/bwrap-start.ts   (BENCH_N=50)
import { Agent, openTestRuntime, startAgent } from '../test/support/bwrap.ts';
import { summarize, timed } from './lib/stats.ts';

const N = Number(process.env.BENCH_N ?? 50);

async function main(): Promise<void> {
  const t = await openTestRuntime();
  // As the daemon does before its pool starts: every sandbox then runs the compiled agent.
  if (!(await t.runtime.precompile())) throw new Error('the agent could not be precompiled');
  for (let i = 0; i < 3; i++) await t.runtime.remove((await startAgent(t.runtime)).sandbox.id); // warm the page cache
  const starts: number[] = [];
  const spawned: number[] = [];
  const pings: number[] = [];
  const removes: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const sandbox = await t.runtime.start(`bench-${i}`);
    spawned.push(performance.now() - t0);
    const agent = new Agent(sandbox);
    await agent.ready();
    starts.push(performance.now() - t0);
    await agent.ping();
    for (let j = 0; j < 5; j++) pings.push((await timed(() => agent.ping()))[0]);
    removes.push((await timed(() => t.runtime.remove(agent.sandbox.id)))[0]);
  }
  const row = (name: string, values: number[]) => {
    const s = summarize(values);
    return `${name.padEnd(34)} n=${String(s.n).padStart(3)}  median ${s.median.toFixed(2).padStart(8)} ms  p99 ${s.p99.toFixed(2).padStart(8)} ms`;
  };
  // Four at a time, as a pool refills: sandboxes per second from start() to ready, removes included.
  const t1 = performance.now();
  for (let i = 0; i < N; i += 4) {
    const batch = await Promise.all(Array.from({ length: Math.min(4, N - i) }, () => startAgent(t.runtime)));
    await Promise.all(batch.map((a) => t.runtime.remove(a.sandbox.id)));
  }
  const perSecond = N / ((performance.now() - t1) / 1000);
  console.log(`bwrap ${t.runtime.info().version}, ${N} sandboxes, one at a time`);
  console.log(row('start() (uid, cgroups, record, spawn)', spawned));
  console.log(row('start to agent ready', starts));
  console.log(row('ping round trip (warm agent)', pings));
  console.log(row('remove (kill tree, cgroups, files)', removes));
  console.log(`${'sandboxes per second, 4 at a time'.padEnd(34)} ${perSecond.toFixed(1)} (start to ready, and remove)`);
}

await main();
