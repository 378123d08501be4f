import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { makeAliases } from '../../daemon/src/upstreams/aliases.ts';
import type { StubServer } from '../../daemon/src/upstreams/stubs.ts';
import { summarize } from '../../daemon/src/upstreams/tool-docs.ts';
import { EVERYTHING, FILESYSTEM, MEMORY } from '../../test/fixtures/mcp-servers/upstreams.ts';

/** One real server as a direct MCP client and the daemon both see it: its tools/list, and the metadata a run's stub is made from. */
export interface RealServer {
  name: string;
  /** The tools as tools/list gives them, the definitions a client without code mode hands the model. */
  tools: Tool[];
  /** As the daemon's describe() makes it for a run that lists only this server. */
  info: StubServer;
}

/** The definition of a tool as a client hands it to the model: name, description, input schema. */
export const definitionOf = (tool: Tool): Record<string, unknown> => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema });

/**
 * server-everything, -filesystem (on `dir`) and -memory from npm, each asked for its tools over stdio
 * by the SDK's Client, then closed.
 */
export async function listRealServers(dir: string): Promise<RealServer[]> {
  const scratch = mkdtempSync(join(tmpdir(), 'mcm-bench-memory-'));
  const specs: [string, string[], Record<string, string>][] = [
    ['everything', [EVERYTHING, 'stdio'], {}],
    ['filesystem', [FILESYSTEM, dir], {}],
    ['memory', [MEMORY], { MEMORY_FILE_PATH: join(scratch, 'memory.jsonl') }],
  ];
  try {
    return await Promise.all(
      specs.map(async ([name, args, env]): Promise<RealServer> => {
        const client = new Client({ name: 'bench', version: '0' });
        await client.connect(new StdioClientTransport({ command: process.execPath, args, env: { PATH: process.env.PATH ?? '', ...env }, stderr: 'ignore' }));
        try {
          const { tools } = await client.listTools();
          const aliases = makeAliases(tools.map((t) => t.name));
          const description = summarize(client.getInstructions());
          const info: StubServer = {
            name,
            alias: makeAliases([name])[0]!,
            ...(description ? { description } : {}),
            tools: tools.map((t, i) => ({ name: t.name, alias: aliases[i]!, description: t.description, inputSchema: t.inputSchema as Record<string, unknown> })),
          };
          return { name, tools, info };
        } finally {
          await client.close();
        }
      }),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
