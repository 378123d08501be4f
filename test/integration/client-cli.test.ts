// Real MCP client CLIs from npm (Claude Code, the Gemini CLI) against the real shim and daemon, with
// a recording stand-in for the model's API: what the client hands the model (the tool definition,
// the instructions, the tool's result) is what the shim sent, whole, and the connection stays up.
// No model and no credentials: each CLI runs in a network namespace with loopback only, where
// 127.0.0.1:<port> is forwarded to the stand-in and nothing else can be reached.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { EVERYTHING, stdio, writeServersConfig } from '../fixtures/mcp-servers/upstreams.ts';
import { availableEngines } from '../support/engines.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { startModelStandin, type ModelStandin, type RecordedRequest } from '../support/model-standin.ts';
import { connectShim, SHIM_BIN, type ShimClient } from '../support/shim-client.ts';

// One engine is enough: what is checked is what the client passes on, not the runtime.
const engines = (await availableEngines()).slice(0, 1);

const require = createRequire(import.meta.url);
const LOOPBACK_ONLY = fileURLToPath(new URL('../support/loopback-only.mjs', import.meta.url));
const STDIO_TAP = fileURLToPath(new URL('../support/stdio-tap.mjs', import.meta.url));

/** A file of an installed npm package, or undefined when the package is not installed. */
function packageFile(name: string, file: string): string | undefined {
  try {
    const path = join(dirname(require.resolve(`${name}/package.json`)), file);
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const packageVersion = (name: string): string => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;

/** Why the CLIs cannot be run in a loopback-only network namespace here, or undefined. */
function namespaceUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the client CLIs run in a network namespace of their own (unshare --net), which needs root';
  const probe = spawnSync('unshare', ['--net', '--', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (probe.status !== 0) return `unshare --net does not work here: ${probe.stderr || probe.error?.message}`;
  return undefined;
}
const NO_NAMESPACE = namespaceUnavailable();

const SERVER_NAME = 'mcp-code-mode';
/** The scripted call: plain Python and one call of a configured server. */
const CODE = 'print(6*7)\nprint(await mcp_everything.get_sum(a=2, b=3))';
const INPUT = { code: CODE, servers: ['everything'] };
const FINAL_TEXT = 'The stand-in says: 42 and 5.';
/** The daemon's result text says how long a run took; nothing else in it may differ between two runs. */
const withoutDuration = (text: string): string => text.replace(/\b\d+(\.\d+)? ?(ms|s)\b/g, '<duration>');

type TapEntry = { from: 'client' | 'server'; message: { id?: number | string; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: unknown } };

function readTap(path: string): TapEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as TapEntry);
}

/** The tools/call exchange in a tap log: the request, the answer, and the progress notifications after the answer. */
function toolCallOf(tap: TapEntry[]): { request: TapEntry; answer: TapEntry; progressAfter: TapEntry[] } {
  const request = tap.find((e) => e.from === 'client' && e.message.method === 'tools/call');
  assert.ok(request, `the client sent no tools/call: ${JSON.stringify(tap.map((e) => e.message.method ?? `answer ${e.message.id}`))}`);
  const at = tap.findIndex((e) => e.from === 'server' && e.message.id === request.message.id && e.message.method === undefined);
  assert.ok(at >= 0, 'the shim never answered the tools/call');
  const token = (request.message.params?._meta as { progressToken?: unknown } | undefined)?.progressToken;
  const progressAfter = tap.slice(at + 1).filter((e) => e.message.method === 'notifications/progress' && (e.message.params as { progressToken?: unknown }).progressToken === token);
  return { request, answer: tap[at]!, progressAfter };
}

/** The text of a tool's result as the shim sent it (its text content parts, joined as MCP clients join them). */
const shimText = (answer: TapEntry): string => ((answer.message.result!.content as { type: string; text?: string }[]) ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a CLI in a loopback-only network namespace of its own, with 127.0.0.1:<port> inside forwarded
 * to the stand-in's Unix socket. In a process group of its own, so that a timeout ends the CLI and
 * the servers it started too.
 */
function runCli(argv: string[], options: { socket: string; port: number; env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number }): Promise<CliRun> {
  const command = ['unshare', '--net', '--', process.execPath, LOOPBACK_ONLY, options.socket, String(options.port), ...argv];
  const child = spawn(command[0]!, command.slice(1), { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), options.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The shim as the client starts it: node and the shim's entry, through the tap, pointed at the test's daemon. */
function shimEntry(daemon: DaemonHandle, tapLog: string): { command: string; args: string[]; env: Record<string, string> } {
  const env: Record<string, string> = { MCP_BRIDGE_AUTOSTART: '0' };
  for (const [k, v] of Object.entries(daemon.env)) if (k.startsWith('MCP_BRIDGE_') && v !== undefined) env[k] = v;
  return { command: process.execPath, args: [STDIO_TAP, tapLog, process.execPath, SHIM_BIN], env };
}

type ShimEntry = ReturnType<typeof shimEntry>;

/** What a client handed the model, read from the stand-in's requests. */
interface ModelView {
  /** Our tool's definition as the model got it in the request that called it. */
  tool?: { description?: string; schema: unknown };
  /**
   * What the client tells the model besides the conversation: the system prompt and what it adds to
   * it (Claude Code: turns of role system; the Gemini CLI: the session context in the first turn).
   */
  context: string;
  /** Our tool's result as the client sent it back. */
  result: string;
}

/** One client CLI: where it is, how it is configured under a throwaway HOME, and where it puts things. */
interface CliCase {
  name: string;
  pkg: string;
  /** The file run with node, when the package is installed. */
  entry: string | undefined;
  /** The name the client gives our tool. */
  toolName: string;
  /** The client's tool that loads a deferred tool's definition, and its input for ours. */
  loader?: { name: string; input: Record<string, unknown> };
  /** Every request the client sends must be one of these (method, path and query). */
  requests: RegExp;
  /** Our tool's definition as this client is known to pass it on: each change it makes, and nothing else. */
  expected(tool: { description: string; schema: Record<string, unknown> }): { description: string; schema: unknown };
  /** Our tool's result text as this client hands it to the model (the client's own wrapping, if any). */
  expectedResult(text: string): string;
  /** The lines of the client's log about its connection to our server, up to its shutdown (not the echoes of the conversation). */
  serverLines(log: string): string[];
  /** The line that says the client connected to our server. */
  connected: RegExp;
  setup(home: string, baseUrl: string, server: ShimEntry): { args: string[]; env: Record<string, string> };
  view(called: RecordedRequest, answered: RecordedRequest, standin: ModelStandin): ModelView;
  finalAnswer(stdout: string): unknown;
  /** The client's own log, where it reports its MCP connections. */
  log(home: string, run: CliRun): string;
}

const PROMPT = 'Use run_python: what are 6*7 and 2+3?';

const textOf = (blocks: { type?: string; text?: string }[]): string => blocks.map((b) => b.text ?? '').join('\n');

const claudeCode: CliCase = {
  name: 'Claude Code',
  pkg: '@anthropic-ai/claude-code',
  // The wrapper runs the platform's native binary (from the optional dependency), with or without the postinstall that copies it.
  entry: packageFile('@anthropic-ai/claude-code', 'cli-wrapper.cjs'),
  toolName: `mcp__${SERVER_NAME}__run_python`,
  // 2.1.332 defers MCP tools: the system lists their names, and the model loads a definition with ToolSearch.
  loader: { name: 'ToolSearch', input: { query: `select:mcp__${SERVER_NAME}__run_python` } },
  requests: /^POST \/v1\/messages(\/count_tokens)?(\?beta=true)?$/,
  // 2.1.332 writes the ellipsis character of a tool description as three dots (the instructions it leaves alone).
  expected: ({ description, schema }) => ({ description: description.replaceAll('\u2026', '...'), schema }),
  expectedResult: (text) => text,
  serverLines(log) {
    const lines = log.split('\n');
    // From here on it stops its servers (SIGINT, then SIGTERM and SIGKILL when one is slow to exit): shutdown, not the session.
    const end = lines.findIndex((l) => /MCP server "[^"]+": Sending SIGINT/.test(l));
    return lines.slice(0, end >= 0 ? end : undefined).filter((l) => l.includes(`MCP server "${SERVER_NAME}"`) || l.includes(`Server "${SERVER_NAME}"`));
  },
  connected: /MCP server "[^"]+": Successfully connected/,
  setup(home, baseUrl, server) {
    const config = join(home, 'mcp.json');
    writeFileSync(config, JSON.stringify({ mcpServers: { [SERVER_NAME]: server } }, null, 2));
    return {
      args: ['-p', PROMPT, '--output-format', 'json', '--mcp-config', config, '--strict-mcp-config', '--allowedTools', this.toolName, '--debug-file', join(home, 'claude-debug.txt')],
      env: {
        ANTHROPIC_BASE_URL: baseUrl,
        ANTHROPIC_API_KEY: 'test-key',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_ERROR_REPORTING: '1',
      },
    };
  },
  view(called, answered, standin) {
    type Block = { type: string; text?: string; tool_use_id?: string; content?: string | { type: string; text?: string }[] };
    type Message = { role: string; content: string | Block[] };
    const body = called.body as { system?: string | { text: string }[]; tools?: { name: string; description?: string; input_schema?: unknown }[]; messages: Message[] };
    const messageText = (m: Message): string => (typeof m.content === 'string' ? m.content : textOf(m.content));
    // The system prompt, and the turns of role system where 2.1.332 puts what MCP servers said (their instructions among them).
    const context = [typeof body.system === 'string' ? body.system : textOf(body.system ?? []), ...body.messages.filter((m) => m.role === 'system').map(messageText)].join('\n');
    const blocksOf = (request: RecordedRequest): Block[] => (request.body as { messages: Message[] }).messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content));
    const resultText = (request: RecordedRequest, id: string | undefined): string | undefined => {
      const block = blocksOf(request).find((b) => b.type === 'tool_result' && b.tool_use_id === id);
      if (block === undefined) return undefined;
      return typeof block.content === 'string' ? block.content : textOf(block.content ?? []);
    };
    // Once ToolSearch has loaded it, 2.1.332 sends the definition among the tools (with defer_loading: true).
    const listed = body.tools?.find((t) => t.name === this.toolName);
    const tool = listed ? { description: listed.description, schema: listed.input_schema } : undefined;
    return { ...(tool ? { tool } : {}), context, result: resultText(answered, standin.toolCall?.id) ?? '' };
  },
  finalAnswer: (stdout) => (JSON.parse(stdout) as { result?: string }).result,
  log: (home) => (existsSync(join(home, 'claude-debug.txt')) ? readFileSync(join(home, 'claude-debug.txt'), 'utf8') : ''),
};

const geminiCli: CliCase = {
  name: 'the Gemini CLI',
  pkg: '@google/gemini-cli',
  entry: packageFile('@google/gemini-cli', 'bundle/gemini.js'),
  toolName: `mcp_${SERVER_NAME}_run_python`,
  requests: /^POST \/v1beta\/models\/[\w.-]+:(generateContent|streamGenerateContent\?alt=sse|countTokens)$/,
  // The CLI adds wait_for_previous to every tool's parameters (run_python ignores it).
  expected: ({ description, schema }) => ({
    description,
    schema: {
      ...schema,
      properties: {
        ...(schema.properties as Record<string, unknown>),
        wait_for_previous: {
          description: 'Set to true to wait for all previously requested tools in this turn to complete before starting. Set to false (or omit) to run in parallel. Use true when this tool depends on the output of previous tools.',
          type: 'boolean',
        },
      },
    },
  }),
  // 0.61.0 wraps every MCP tool's text in these tags of its own.
  expectedResult: (text) => `<untrusted_context>\n${text}\n</untrusted_context>`,
  setup(home, baseUrl, server) {
    mkdirSync(join(home, '.gemini'), { recursive: true });
    const settings = {
      mcpServers: { [SERVER_NAME]: { ...server, trust: true, timeout: 150_000 } },
      // GOOGLE_GEMINI_BASE_URL alone makes the auth type 'gateway', which 0.61.0's own check refuses ("Invalid auth method selected").
      security: { auth: { selectedType: 'gemini-api-key' } },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      general: { disableAutoUpdate: true, disableUpdateNag: true },
    };
    writeFileSync(join(home, '.gemini', 'settings.json'), JSON.stringify(settings, null, 2));
    return {
      args: ['-p', PROMPT, '--output-format', 'json', '--allowed-mcp-server-names', SERVER_NAME, '--debug'],
      // The throwaway project folder is new, so not trusted; untrusted, the CLI would leave the servers' instructions out.
      env: { GOOGLE_GEMINI_BASE_URL: baseUrl, GEMINI_API_KEY: 'test-key', GEMINI_CLI_TRUST_WORKSPACE: 'true', NO_COLOR: '1' },
    };
  },
  view(called, answered) {
    type Declaration = { name: string; description?: string; parametersJsonSchema?: unknown; parameters?: unknown };
    const body = called.body as { systemInstruction?: { parts?: { text?: string }[] }; tools?: { functionDeclarations?: Declaration[] }[]; contents: { parts?: { text?: string }[] }[] };
    const tool = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? []).find((d) => d.name === this.toolName);
    // 0.61.0 puts the servers' instructions in the <session_context> that opens the first turn (in a trusted folder only).
    const sessionContext = textOf(body.contents[0]?.parts ?? []);
    const context = [textOf(body.systemInstruction?.parts ?? []), sessionContext].join('\n');
    type Part = { functionResponse?: { name: string; response?: { output?: string } } };
    const parts = ((answered.body as { contents: { parts?: Part[] }[] }).contents ?? []).flatMap((c) => c.parts ?? []);
    const result = parts.find((p) => p.functionResponse?.name === this.toolName)?.functionResponse?.response?.output ?? '';
    return { ...(tool ? { tool: { description: tool.description, schema: tool.parametersJsonSchema ?? tool.parameters } } : {}), context, result };
  },
  finalAnswer: (stdout) => (JSON.parse(stdout) as { response?: string }).response,
  // --debug writes to stderr; the CLI names a server in quotes, or in parentheses in `MCP ERROR (name):`. Lines that echo
  // the conversation ([MESSAGE_BUS], [Conseca], [PolicyEngine...]) carry our description, which has words like "error".
  serverLines: (log) => log.split('\n').filter((l) => !/^\[(MESSAGE_BUS|Conseca|PolicyEngine)/.test(l) && (l.includes(`'${SERVER_NAME}'`) || l.includes(`(${SERVER_NAME})`))),
  connected: /Registering notification handlers for server '[^']+'/,
  log: (_home, run) => run.stderr,
};

for (const engine of engines) {
  describe(`real client CLIs against the shim, with server-everything, on ${engine.name}`, () => {
    let daemon: DaemonHandle;
    let shim: ShimClient;
    let dir: string;
    let description: string;
    let instructions: string;
    let inputSchema: Record<string, unknown>;
    /** The same call through the SDK's Client, with the defaults a real client gets. */
    let sdkText: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'mcm-client-cli-'));
      const config = writeServersConfig(join(dir, 'servers.json'), { everything: stdio(EVERYTHING, ['stdio']) });
      daemon = await startDaemonProcess(engine, { MCP_SERVERS_CONFIG: config });
      await waitWarm(daemon.client, 1);
      await daemon.client.get('/v1/index', { timeoutMs: 30_000 });
      shim = await connectShim({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0', MCP_BRIDGE_STRUCTURED_CONTENT: '' });
      instructions = shim.client.getInstructions() ?? '';
      const tool = (await shim.client.listTools()).tools[0]!;
      description = tool.description ?? '';
      inputSchema = tool.inputSchema;
      const r = (await shim.client.callTool({ name: 'run_python', arguments: INPUT })) as { content: { type: string; text?: string }[]; isError?: boolean };
      assert.equal(r.isError, false, JSON.stringify(r));
      sdkText = r.content.map((c) => c.text ?? '').join('\n');
      assert.match(sdkText, /42[\s\S]*\b5\b/, sdkText);
      assert.match(instructions, /^- everything\b/m, instructions);
    });
    after(async () => {
      await shim?.[Symbol.asyncDispose]();
      await daemon?.[Symbol.asyncDispose]();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const cli of [claudeCode, geminiCli]) {
      const skip = NO_NAMESPACE ?? (cli.entry ? undefined : `${cli.name} is not installed: npm ci (it is a devDependency: ${cli.pkg})`);
      test(`${cli.name}: the description and the instructions arrive whole, the tool result is our text, the connection stays up`, { skip: skip ?? false, timeout: 240_000 }, async () => {
        const home = mkdtempSync(join(tmpdir(), 'mcm-client-home-'));
        const project = join(home, 'project');
        mkdirSync(project);
        const tapLog = join(home, 'tap.jsonl');
        const socket = join(home, 'standin.sock');
        const standin = await startModelStandin({ tool: cli.toolName, input: INPUT, finalText: FINAL_TEXT, ...(cli.loader ? { loader: cli.loader } : {}) }, socket);
        try {
          // Any port: the namespace is new and has nothing listening but the forwarder.
          const port = randomInt(20_000, 60_000);
          const { args, env } = cli.setup(home, `http://127.0.0.1:${port}`, shimEntry(daemon, tapLog));
          const run = await runCli([process.execPath, cli.entry!, ...args], { socket, port, cwd: project, timeoutMs: 180_000, env: { PATH: process.env.PATH, HOME: home, ...env } });
          const log = cli.log(home, run);
          // MCM_CLIENT_CLI_DUMP=<dir> keeps what the client sent (requests, the tap, its log) for a look by hand.
          const dump = process.env.MCM_CLIENT_CLI_DUMP;
          if (dump) {
            const to = join(dump, cli.pkg.replace(/\W+/g, '-'));
            mkdirSync(to, { recursive: true });
            writeFileSync(join(to, 'requests.json'), JSON.stringify(standin.requests, null, 2));
            writeFileSync(join(to, 'client.log'), log);
            if (existsSync(tapLog)) writeFileSync(join(to, 'tap.jsonl'), readFileSync(tapLog));
          }
          const trail = (): string =>
            `exit ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr.slice(-4000)}\nrequests: ${JSON.stringify(standin.requests.map((r) => `${r.method} ${r.url} -> ${r.answered}`))}\nlog (tail): ${log.slice(-4000)}`;
          assert.equal(run.code, 0, trail());
          assert.equal(cli.finalAnswer(run.stdout), FINAL_TEXT, trail());

          // Only the stand-in was reached (nothing else can be, in the namespace), with model calls only.
          for (const r of standin.requests) assert.match(`${r.method} ${r.url}`, cli.requests, trail());
          const called = standin.requests.find((r) => r.answered === 'tool_call');
          const answered = standin.requests.find((r) => r.answered === 'final_text');
          assert.ok(called && answered, trail());
          const view = cli.view(called, answered, standin);

          // The tool definition: our description, whole, and our input schema.
          assert.ok(view.tool, `no ${cli.toolName} among the tools: ${trail()}`);
          const expected = cli.expected({ description, schema: inputSchema });
          assert.equal(view.tool.description, expected.description);
          assert.deepEqual(view.tool.schema, expected.schema);
          // The instructions, which name the configured server, whole in what the client tells the model.
          assert.ok(view.context.includes(instructions), `the model's context lacks the shim's instructions:\n${view.context.slice(-3000)}`);

          // The tool result: exactly the text the shim answered, so no larger (but for the client's own
          // wrapping, if any), and the same as the SDK's call got (but for the duration).
          const exchange = toolCallOf(readTap(tapLog));
          assert.deepEqual(exchange.request.message.params?.arguments, INPUT);
          const sent = shimText(exchange.answer);
          assert.equal(view.result, cli.expectedResult(sent));
          assert.equal(withoutDuration(sent), withoutDuration(sdkText));
          assert.deepEqual(exchange.progressAfter, [], 'a progress notification came after the result');

          // The client's own log of our server: connected, and no error or dropped connection.
          const ours = cli.serverLines(log);
          assert.ok(ours.some((l) => cli.connected.test(l)), `the client's log does not say it connected to ${SERVER_NAME}: ${trail()}`);
          const bad = ours.filter((l) => /error|closed|disconnect|failed|timed out|unknown token/i.test(l));
          assert.deepEqual(bad, [], bad.join('\n'));
          console.log(`# ${cli.name} ${packageVersion(cli.pkg)}: ${standin.requests.length} requests (${[...new Set(standin.requests.map((r) => r.answered))].join(', ')}); description ${view.tool.description?.length} chars; tool result ${view.result.length} chars for our ${sent.length}`);
        } finally {
          await standin.close();
          rmSync(home, { recursive: true, force: true });
        }
      });
    }
  });
}
