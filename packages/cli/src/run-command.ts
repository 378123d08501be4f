// `mcp-code-mode run`: one run through the control API. Light on purpose: it loads only the client.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { OutputMode } from '@mcp-code-mode/protocol';
import { ControlClient, statePaths } from '@mcp-code-mode/client';
import { writeAttachments } from './attachment-files.js';
import { UsageError, type CliContext } from './context.js';

async function readCode(positionals: string[], inline: string | undefined, stdin: AsyncIterable<Buffer | string>): Promise<string> {
  if (inline !== undefined) return inline;
  const source = positionals[0];
  if (!source) throw new UsageError('run needs code: -c CODE, a FILE, or - for standard input');
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }
  return readFile(source, 'utf8');
}

export async function runCommand(args: string[], ctx: CliContext & { stdin: AsyncIterable<Buffer | string> }): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      code: { type: 'string', short: 'c' },
      timeout: { type: 'string' },
      servers: { type: 'string' },
      session: { type: 'string' },
      json: { type: 'boolean', default: false },
      'output-mode': { type: 'string' },
      /** Where the run's images and exported files go; a new temporary directory by default. */
      out: { type: 'string' },
    },
  });
  const code = await readCode(positionals, values.code, ctx.stdin);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !Number.isInteger(timeout)) throw new UsageError(`--timeout must be a whole number of seconds, got ${values.timeout}`);
  const mode = values['output-mode'];
  if (mode !== undefined && !['toon', 'json', 'compact'].includes(mode)) throw new UsageError(`--output-mode must be toon, json or compact, got ${mode}`);
  const client = new ControlClient(statePaths(ctx.env).socket);
  const response = await client.run({
    code,
    ...(timeout !== undefined ? { timeout } : {}),
    ...(values.servers ? { servers: values.servers.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(values.session !== undefined ? { session: values.session } : {}),
    ...(mode ? { outputMode: mode as OutputMode } : {}),
  });
  ctx.stdout.write((values.json ? JSON.stringify(response.result, null, 2) : response.text) + '\n');
  const paths = await writeAttachments(response.attachments ?? [], values.out);
  // With --json, stdout stays one JSON document: the paths go to stderr.
  for (const path of paths) (values.json ? ctx.stderr : ctx.stdout).write(`wrote ${path}\n`);
  const status = response.result.status;
  return status === 'success' ? 0 : status === 'validation_error' ? 2 : status === 'timeout' ? 124 : 1;
}
