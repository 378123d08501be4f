// Runtimes side by side in one run (`npm run bench:runtimes`; `npm run bench` runs the same as its
// `runtimes` section): see bench/lib/runtimes.ts. Writes bench/results/runtimes.json and prints the
// markdown tables. Knobs: BENCH_RUNTIMES (default docker,bwrap), BENCH_N (paced samples, default 50).
import { writeFileSync } from 'node:fs';
import { availableEngines } from '../test/support/engines.ts';
import { measureRuntimes, runtimesTable, targetsTable } from './lib/runtimes.ts';

const N = Number(process.env.BENCH_N ?? 50);
const RUNTIMES = (process.env.BENCH_RUNTIMES ?? 'docker,bwrap').split(',').map((s) => s.trim());
const log = (line: string): void => void process.stderr.write(`[bench:runtimes] ${line}\n`);

const result = await measureRuntimes(await availableEngines({ bwrap: true }), RUNTIMES, N, log);
writeFileSync(new URL('./results/runtimes.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
process.stdout.write([...runtimesTable(result), '', ...targetsTable(result)].join('\n') + '\n');
