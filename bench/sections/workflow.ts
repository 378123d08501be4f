import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { encode as countTokens } from 'gpt-tokenizer';
import { EVERYTHING, FILESYSTEM } from '../../test/fixtures/mcp-servers/upstreams.ts';
import { definitionOf } from '../lib/real-servers.ts';
import { connectBenchShim, definitionTokens, textOf } from './clients.ts';
import type { Section } from './index.ts';
import { TOKENIZER } from './tokens.ts';

const tokens = (text: string): number => countTokens(text).length;
export const FILE_COUNT = 50;

/** 50 small service logs, some with ERROR lines: the data of the workflow. */
export function writeWorkflowFiles(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < FILE_COUNT; f++) {
    const lines = Array.from({ length: 30 }, (_, i) => {
      const level = (f * 7 + i) % 23 === 0 ? 'ERROR' : i % 5 === 0 ? 'WARN' : 'INFO';
      return `2026-11-25T10:${String(i).padStart(2, '0')}:00Z ${level} svc-${f} request ${f * 100 + i} took ${(f + i) % 40} ms`;
    });
    writeFileSync(join(dir, `service-${String(f).padStart(2, '0')}.log`), lines.join('\n') + '\n');
  }
}

/**
 * The question: "which of the 50 logs have ERROR lines, and how many each?". Done with direct tool
 * calls, every call and every whole file enters the model's context; done with one run_python, only
 * the code and the printed answer do.
 */
export const workflowSection: Section = {
  name: 'workflow',
  async run(ctx) {
    const dir = ctx.workflowDir;
    const direct = new Client({ name: 'bench', version: '0' });
    await direct.connect(new StdioClientTransport({ command: process.execPath, args: [FILESYSTEM, dir], stderr: 'ignore' }));
    const listed = (await direct.listTools()).tools;
    const tools = listed.map((t) => t.name);
    const read = tools.includes('read_text_file') ? 'read_text_file' : 'read_file';
    let directTokens = 0;
    const call = async (name: string, args: Record<string, unknown>): Promise<string> => {
      const result = (await direct.callTool({ name, arguments: args })) as { content: { type: string; text?: string }[] };
      const text = result.content.map((c) => c.text ?? '').join('\n');
      // What the model writes (the call) and what it reads back (the result) both cost context.
      directTokens += tokens(JSON.stringify({ name, arguments: args })) + tokens(text);
      return text;
    };
    const listing = await call('list_directory', { path: dir });
    const files = [...listing.matchAll(/\[FILE\]\s+(\S+)/g)].map((m) => m[1]!);
    const directAnswer: Record<string, number> = {};
    for (const file of files) {
      const text = await call(read, { path: join(dir, file) });
      const errors = text.split('\n').filter((l) => l.includes(' ERROR ')).length;
      if (errors > 0) directAnswer[file] = errors;
    }
    // A client without code mode puts every configured server's tools (and instructions) before the model.
    const everything = new Client({ name: 'bench', version: '0' });
    await everything.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }));
    const directDefinition =
      tokens(JSON.stringify([...(await everything.listTools()).tools, ...listed].map(definitionOf))) + tokens(everything.getInstructions() ?? '') + tokens(direct.getInstructions() ?? '');
    await everything.close();
    await direct.close();

    const code = `import json
def text_of(r):
    if isinstance(r, str): return r
    c = r["content"]
    return c if isinstance(c, str) else c[0]["text"]
listing = text_of(await mcp_filesystem.list_directory(path=${JSON.stringify(dir)}))
files = [line.split()[-1] for line in listing.splitlines() if line.startswith("[FILE]")]
errors = {}
for name in files:
    body = text_of(await mcp_filesystem.${read}(path=${JSON.stringify(dir)} + "/" + name))
    n = sum(1 for line in body.splitlines() if " ERROR " in line)
    if n:
        errors[name] = n
print(json.dumps(errors))`;
    const response = await ctx.daemon.client.run({ code, servers: ['filesystem'], timeout: 120 });
    if (response.result.status !== 'success') throw new Error(`workflow run failed: ${JSON.stringify(response.result)}`);
    const sandboxAnswer = JSON.parse(response.result.stdout.join('')) as Record<string, number>;
    if (JSON.stringify(sandboxAnswer) !== JSON.stringify(directAnswer)) throw new Error(`the two ways disagree: ${JSON.stringify({ sandboxAnswer, directAnswer })}`);
    const codeModeTokens = tokens(JSON.stringify({ name: 'run_python', arguments: { code, servers: ['filesystem'] } })) + tokens(response.text);
    const saved = 1 - codeModeTokens / directTokens;
    ctx.rows.push({
      section: `Tokens of a workflow over ${FILE_COUNT} files (${TOKENIZER})`,
      what: `which logs have ERROR lines: ${files.length + 1} direct tool calls against one run_python (${response.result.toolCalls} calls inside)`,
      value: `run_python ${codeModeTokens} tokens`,
      baseline: `direct calls ${directTokens} tokens`,
      ratio: `${(100 * saved).toFixed(1)}% fewer`,
      target: '≥ 90% fewer',
      met: saved >= 0.9,
    });

    // From a cold start: the model has only what the client received (tool list, instructions), looks
    // at the read tool's stub and at what a listing returns in a first run, then writes the run above.
    const shim = await connectBenchShim(ctx, false);
    let coldCodeMode: number;
    let definition: { definition: number; instructions: number };
    try {
      definition = await definitionTokens(shim);
      const look = `from mcp import runtime
print(await runtime.query_tool_docs("filesystem", "${read}", detail="stub"))
r = await mcp_filesystem.list_directory(path=${JSON.stringify(dir)})
print(type(r).__name__, repr(r)[:300])`;
      const lookArgs = { code: look, servers: ['filesystem'] };
      const answer = (await shim.callTool({ name: 'run_python', arguments: lookArgs })) as { content: { type: string; text?: string }[]; isError?: boolean };
      if (answer.isError || !textOf(answer).includes(`async def ${read}`)) throw new Error(`the first look failed: ${textOf(answer)}`);
      coldCodeMode = definition.definition + definition.instructions + tokens(JSON.stringify({ name: 'run_python', arguments: lookArgs })) + tokens(textOf(answer)) + codeModeTokens;
    } finally {
      await shim.close();
    }
    const coldDirect = directDefinition + directTokens;
    const coldSaved = 1 - coldCodeMode / coldDirect;
    ctx.rows.push({
      section: `Tokens of a workflow over ${FILE_COUNT} files (${TOKENIZER})`,
      what: 'the same from a cold start: the definitions the client sends (run_python and instructions; or every tool of the 2 configured servers), a first run that looks at the read tool and a listing, then the run above',
      value: `run_python ${coldCodeMode} tokens (definition ${definition.definition + definition.instructions})`,
      baseline: `direct calls ${coldDirect} tokens (definitions ${directDefinition})`,
      ratio: `${(100 * coldSaved).toFixed(1)}% fewer`,
      target: '≥ 90% fewer',
      met: coldSaved >= 0.9,
    });
    ctx.results.workflow = { files: files.length, directTokens, codeModeTokens, savedFraction: saved, answer: sandboxAnswer, coldStart: { codeModeTokens: coldCodeMode, directTokens: coldDirect, definitionTokens: definition, directDefinitionTokens: directDefinition, savedFraction: coldSaved } };
  },
};
