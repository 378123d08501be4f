import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { waitWarm } from '../../test/support/daemon-process.ts';
import { pair } from '../lib/report.ts';
import { summarize } from '../lib/stats.ts';
import type { Section } from './index.ts';

const SHIM = new URL('../../packages/cli/bin/mcp-code-mode-shim.js', import.meta.url).pathname;

/** Warm run of print(1) as an MCP client sees it: the SDK's Client over stdio to the shim. */
export const shimSection: Section = {
  name: 'shim',
  async run(ctx) {
    const client = new Client({ name: 'bench', version: '0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [SHIM], env: ctx.daemon.env as Record<string, string>, stderr: 'ignore' }));
    const samples: number[] = [];
    for (let i = 0; i < ctx.n + 5; i++) {
      await waitWarm(ctx.daemon.client, 2);
      const t = performance.now();
      const answer = (await client.callTool({ name: 'run_python', arguments: { code: 'print(1)' } })) as { isError?: boolean };
      if (answer.isError) throw new Error(`shim run failed: ${JSON.stringify(answer)}`);
      if (i >= 5) samples.push(performance.now() - t);
    }
    await client.close();
    const s = summarize(samples);
    const baseline = (ctx.results.warmRun as { dockerRunBaseline: { median: number } } | undefined)?.dockerRunBaseline.median;
    ctx.rows.push({
      section: 'Warm run of print(1)',
      what: 'through the shim (SDK Client over stdio → shim → daemon)',
      value: pair(s),
      ...(baseline ? { baseline: 'docker run --rm: see above', ratio: `${(baseline / s.median).toFixed(1)}× faster` } : {}),
      target: 'p50 ≤ 8 ms',
      met: s.median <= 8,
    });
    ctx.chart.push({ label: 'MCP client → shim → daemon', value: s.median });
    ctx.results.shimRun = s;
  },
};
