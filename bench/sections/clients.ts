import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ServerIndex, ServerInfo } from '@mcp-code-mode/protocol';
import { encode as countTokens } from 'gpt-tokenizer';
import type { ToolHost } from '../../daemon/src/rpc/tool-host.ts';
import { buildServerIndex } from '../../daemon/src/upstreams/server-index.ts';
import { serverStub } from '../../daemon/src/upstreams/stubs.ts';
import { runPythonTool, serverInstructions } from '../../shim/src/manual.ts';
import { definitionOf, listRealServers, type RealServer } from '../lib/real-servers.ts';
import type { Row } from '../lib/report.ts';
import type { Section, SectionContext } from './index.ts';
import { TABLE_CODE, TOKENIZER } from './tokens.ts';

const tokens = (text: string): number => countTokens(text).length;
export const SHIM = new URL('../../packages/cli/bin/mcp-code-mode-shim.js', import.meta.url).pathname;

/** The issue's target: a server's stub costs at most this share of its tools' JSON definitions. */
export const STUB_SHARE_TARGET = 0.6;
/** The bounds test/unit/model-tokens.test.ts holds the definition and the instructions to. */
const DEFINITION_MAX = 900;
const INSTRUCTIONS_MAX = 600;

type Answer = { content: { type: string; text?: string }[]; structuredContent?: unknown; isError?: boolean };

/** A real shim on the bench's daemon, as an MCP client launches it, with structured content on or off. */
export async function connectBenchShim(ctx: SectionContext, structured: boolean): Promise<Client> {
  // As for a daemon that has run a while: its servers are connected, so the shim's start gets the
  // index into its instructions (it waits only briefly for it).
  await ctx.daemon.client.get('/v1/index', { timeoutMs: 30_000 });
  const client = new Client({ name: 'bench', version: '0' });
  const env = { ...(ctx.daemon.env as Record<string, string>), MCP_BRIDGE_AUTOSTART: '0', MCP_BRIDGE_STRUCTURED_CONTENT: structured ? '1' : '' };
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [SHIM], env, stderr: 'ignore' }));
  return client;
}

/** What the model reads of a tool result when the client passes the text contents only. */
export const textOf = (answer: Answer): string => answer.content.map((c) => c.text ?? '').join('\n');

/** The tool list and the instructions as an MCP client receives them from the shim. */
export async function definitionTokens(client: Client): Promise<{ definition: number; instructions: number }> {
  const { tools } = await client.listTools();
  return { definition: tokens(JSON.stringify(tools)), instructions: tokens(client.getInstructions() ?? '') };
}

/** 0, 3 or 10 servers: the three real ones, then copies of -filesystem under other names (as the unit test). */
async function indexOf(real: RealServer[], n: number): Promise<ServerIndex> {
  const infos: ServerInfo[] = real.map((s) => s.info as ServerInfo);
  const filesystem = infos.find((s) => s.name === 'filesystem')!;
  const chosen = n <= infos.length ? infos.slice(0, n) : [...infos, ...Array.from({ length: n - infos.length }, (_, i) => ({ ...filesystem, name: `files-${i}` }))];
  const host: ToolHost = {
    discovered: () => chosen.map((s) => s.name),
    describe: async (names) => names.map((name) => chosen.find((s) => s.name === name)!),
    handle: async () => Promise.reject(new Error('not in the bench')),
    status: () => ({ servers: [], problems: [] }),
    close: async () => undefined,
  };
  return buildServerIndex(host, { signal: new AbortController().signal });
}

/**
 * Tokens the model reads, per client: a result as Claude Code passes it (the text content only, the
 * shim's default) against a client that also forwards structuredContent; the definition (tool list and
 * instructions) with 0, 3 and 10 servers; each real server's stub against its tools' JSON definitions.
 */
export const clientsSection: Section = {
  name: 'clients',
  async run(ctx) {
    const section = `Tokens the model reads, per client (${TOKENIZER})`;
    const results: Record<string, unknown> = {};

    const plain = await connectBenchShim(ctx, false);
    const structured = await connectBenchShim(ctx, true);
    try {
      const framing: Record<string, unknown>[] = [];
      for (const [what, code] of [
        ['print(6*7)', 'print(6*7)'],
        ['a table result (40 rows × 5 columns)', TABLE_CODE],
      ] as const) {
        const a = (await plain.callTool({ name: 'run_python', arguments: { code } })) as Answer;
        const b = (await structured.callTool({ name: 'run_python', arguments: { code } })) as Answer;
        if (a.isError || b.isError || a.structuredContent !== undefined || b.structuredContent === undefined) throw new Error(`client framing run failed: ${JSON.stringify({ a, b })}`);
        const text = tokens(textOf(a));
        const json = tokens(JSON.stringify(b.structuredContent));
        const both = tokens(textOf(b)) + json;
        framing.push({ what, textOnly: text, structuredOnly: json, textAndStructured: both });
        ctx.rows.push({
          section,
          what: `${what}: the tool result as Claude Code passes it (text content only, the default)`,
          value: `${text} tokens`,
          baseline: `with MCP_BRIDGE_STRUCTURED_CONTENT=1: ${both} (a client that forwards text and structuredContent) · ${json} (Claude Code, which passes structuredContent instead of the text)`,
          ratio: `${(both / text).toFixed(1)}× · ${(json / text).toFixed(1)}× the text`,
          target: 'text only ≤ structuredContent',
          met: text <= json,
        });
      }
      results.framing = framing;

      const live = await definitionTokens(plain);
      results.liveDefinition = live;
      ctx.rows.push({
        section,
        what: 'definition as this shim sends it (tools/list + instructions, the bench daemon’s 2 servers)',
        value: `${live.definition + live.instructions} tokens (tool ${live.definition} · instructions ${live.instructions})`,
        target: `tool ≤ ${DEFINITION_MAX} · instructions ≤ ${INSTRUCTIONS_MAX}`,
        met: live.definition <= DEFINITION_MAX && live.instructions <= INSTRUCTIONS_MAX,
      });
    } finally {
      await plain.close();
      await structured.close();
    }

    const real = await listRealServers(ctx.workflowDir);
    const definitions: Record<string, unknown>[] = [];
    for (const n of [0, 3, 10]) {
      const state = { index: await indexOf(real, n) };
      const definition = tokens(JSON.stringify(runPythonTool({ state, limits: { timeoutSec: 30, maxTimeoutSec: 120 }, structured: false })));
      const instructions = tokens(serverInstructions(state));
      definitions.push({ servers: n, definition, instructions });
      ctx.rows.push({
        section,
        what: `definition with ${n} servers (tool + instructions; index from the real servers' tool lists${n > 3 ? ', -filesystem copied' : ''})`,
        value: `${definition + instructions} tokens (tool ${definition} · instructions ${instructions})`,
        target: `tool ≤ ${DEFINITION_MAX} · instructions ≤ ${INSTRUCTIONS_MAX}`,
        met: definition <= DEFINITION_MAX && instructions <= INSTRUCTIONS_MAX,
      });
    }
    results.definitions = definitions;

    const stubs: Record<string, unknown>[] = [];
    let stubTotal = 0;
    let schemaTotal = 0;
    let descriptionTotal = 0;
    for (const server of real) {
      descriptionTotal += server.tools.reduce((sum, t) => sum + tokens(t.description ?? '') + descriptionTokens(t.inputSchema), 0);
      const stub = tokens(serverStub(server.info));
      const schema = tokens(JSON.stringify(server.tools.map(definitionOf)));
      stubTotal += stub;
      schemaTotal += schema;
      stubs.push({ server: server.name, tools: server.tools.length, stubTokens: stub, schemaTokens: schema });
      ctx.rows.push(stubRow(section, `server-${server.name} (${server.tools.length} tools)`, stub, schema));
    }
    ctx.rows.push(stubRow(section, 'the three servers together', stubTotal, schemaTotal, descriptionTotal));
    results.stubs = { servers: stubs, stubTokens: stubTotal, schemaTokens: schemaTotal, descriptionTokens: descriptionTotal, share: stubTotal / schemaTotal };
    ctx.results.clients = results;
  },
};

/** Tokens of every description in a JSON Schema, nested ones included. */
function descriptionTokens(schema: unknown): number {
  if (Array.isArray(schema)) return schema.reduce((sum: number, item) => sum + descriptionTokens(item), 0);
  if (typeof schema !== 'object' || schema === null) return 0;
  return Object.entries(schema).reduce((sum, [key, value]) => sum + (key === 'description' && typeof value === 'string' ? tokens(value) : descriptionTokens(value)), 0);
}

/** The target is the three servers' together (the issue's measure); one server's share is shown beside it. */
function stubRow(section: string, what: string, stub: number, schema: number, descriptions?: number): Row {
  const share = stub / schema;
  const targeted = descriptions !== undefined;
  return {
    section,
    what: `stub (resource://mcp-code-mode/servers/<alias>.pyi) of ${what}`,
    value: `${stub} tokens`,
    baseline: `JSON definitions (name, description, inputSchema): ${schema} tokens`,
    ratio: `${(100 * share).toFixed(1)}% of the JSON`,
    ...(targeted ? { target: `≤ ${100 * STUB_SHARE_TARGET}%`, met: share <= STUB_SHARE_TARGET } : {}),
    ...(targeted && share > STUB_SHARE_TARGET
      ? {
          note: `why: ${descriptions} of the stub's tokens are the tools' and arguments' own descriptions, which both sides carry word for word (for -filesystem half of its JSON); most of the rest is the signature as inspect.signature writes it. What would close it: shorter descriptions (a sentence such as "Only works within allowed directories." ends most of -filesystem's tools' descriptions), which changes what the server says`,
        }
      : {}),
  };
}
