import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A stand-in for a model's HTTP API, for tests that drive a real MCP client CLI (Claude Code, the
 * Gemini CLI) without a model or credentials: it records every request and answers from a script.
 * The script is one tool call and one final text: the first request that offers the tool gets a
 * call of it (after a call of the client's loader, when the tool is deferred), the request that
 * carries the tool's result gets the text, and every other request (titles, token counts, routing)
 * gets a minimal valid answer.
 *
 * Two wire formats: Anthropic's Messages API (POST /v1/messages, SSE when `stream: true`, and
 * /v1/messages/count_tokens), and the Gemini API (POST .../models/<model>:generateContent,
 * :streamGenerateContent?alt=sse, :countTokens).
 */
export interface StandinScript {
  /** The tool to call, by the name the client gives it (the client decides the prefix). */
  tool: string;
  /** The tool call's arguments. */
  input: Record<string, unknown>;
  /** The answer once the tool's result has come back. */
  finalText: string;
  /**
   * A tool of the client's that loads a deferred tool's definition (Claude Code's ToolSearch): called
   * first when the request names it but not `tool`; once its result is back, `tool` is called.
   */
  loader?: { name: string; input: Record<string, unknown> };
}

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** Header names in lower case; credential values replaced by `<redacted>`. */
  headers: Record<string, string>;
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** What the stand-in made of it. */
  answered: 'loader_call' | 'tool_call' | 'final_text' | 'filler' | 'token_count' | 'not_found';
}

export interface ModelStandin {
  /** `http://127.0.0.1:<port>` when listening on TCP, else the Unix socket's path. */
  address: string;
  requests: RecordedRequest[];
  /** The tool call sent, once it was (its id for Anthropic; Gemini's calls have none). */
  toolCall?: { name: string; id: string };
  /** The loader's call, once it was sent. */
  loaderCall?: { name: string; id: string };
  close(): Promise<void>;
}

const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'proxy-authorization', 'cookie']);

function recordHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = SECRET_HEADERS.has(name) ? '<redacted>' : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

type Json = Record<string, unknown>;

// ------------------------------------------------------------------ Anthropic Messages API

interface AnthropicBlock {
  type: string;
  [key: string]: unknown;
}

const anthropicToolNames = (body: Json): string[] => ((body.tools as { name?: string }[] | undefined) ?? []).flatMap((t) => (t.name ? [t.name] : []));

function anthropicBlocks(body: Json): AnthropicBlock[] {
  const messages = (body.messages as { content: string | AnthropicBlock[] }[] | undefined) ?? [];
  return messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content));
}

/** The SSE events of one message, as the Messages API streams it. */
export function anthropicEvents(message: { id: string; model: string; content: AnthropicBlock[]; stop_reason: string }): { event: string; data: Json }[] {
  const events: { event: string; data: Json }[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: { id: message.id, type: 'message', role: 'assistant', model: message.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } },
      },
    },
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'tool_use') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { ...block, input: {} } } });
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } } });
    } else {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } } });
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: 5 } } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}

// ------------------------------------------------------------------ Gemini API

interface GeminiPart {
  text?: string;
  functionCall?: { name: string; args: Json };
  functionResponse?: { name: string; response: unknown };
}

function geminiToolNames(body: Json): string[] {
  const tools = (body.tools as { functionDeclarations?: { name: string }[] }[] | undefined) ?? [];
  return tools.flatMap((t) => (t.functionDeclarations ?? []).map((d) => d.name));
}

const geminiParts = (body: Json): GeminiPart[] => ((body.contents as { parts?: GeminiPart[] }[] | undefined) ?? []).flatMap((c) => c.parts ?? []);

const geminiAnswer = (parts: GeminiPart[], model: string): Json => ({
  candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
  modelVersion: model,
});

// ------------------------------------------------------------------ the server

/** Builds the stand-in's HTTP server (not listening): `listen` starts it. */
interface StandinState {
  toolCall?: { name: string; id: string };
  loaderCall?: { name: string; id: string };
}

export function buildModelStandin(script: StandinScript): { server: Server; requests: RecordedRequest[]; state: StandinState } {
  const requests: RecordedRequest[] = [];
  const state: StandinState = {};
  let ids = 0;

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const anthropic = (body: Json, url: URL, res: ServerResponse): RecordedRequest['answered'] => {
    if (url.pathname.endsWith('/count_tokens')) {
      json(res, 200, { input_tokens: 100 });
      return 'token_count';
    }
    const model = typeof body.model === 'string' ? body.model : 'claude-standin';
    const offered = anthropicToolNames(body);
    const blocks = anthropicBlocks(body);
    const hasResult = (call: { id: string } | undefined): boolean => call !== undefined && blocks.some((b) => b.type === 'tool_result' && b.tool_use_id === call.id);
    let content: AnthropicBlock[];
    let answered: RecordedRequest['answered'];
    if (hasResult(state.toolCall)) {
      content = [{ type: 'text', text: script.finalText }];
      answered = 'final_text';
    } else if (!state.toolCall && (offered.includes(script.tool) || hasResult(state.loaderCall))) {
      state.toolCall = { name: script.tool, id: `toolu_standin_${++ids}` };
      content = [{ type: 'tool_use', id: state.toolCall.id, name: script.tool, input: script.input }];
      answered = 'tool_call';
    } else if (!state.toolCall && !state.loaderCall && script.loader && offered.includes(script.loader.name)) {
      state.loaderCall = { name: script.loader.name, id: `toolu_standin_${++ids}` };
      content = [{ type: 'tool_use', id: state.loaderCall.id, name: script.loader.name, input: script.loader.input }];
      answered = 'loader_call';
    } else {
      content = [{ type: 'text', text: 'ok' }];
      answered = 'filler';
    }
    const message = { id: `msg_standin_${++ids}`, model, content, stop_reason: answered === 'tool_call' || answered === 'loader_call' ? 'tool_use' : 'end_turn' };
    if (body.stream === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const e of anthropicEvents(message)) res.write(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
      res.end();
    } else {
      json(res, 200, { ...message, type: 'message', role: 'assistant', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5 } });
    }
    return answered;
  };

  const gemini = (body: Json, url: URL, res: ServerResponse): RecordedRequest['answered'] => {
    const [, model = 'gemini-standin', method = ''] = /models\/([^/:]+):(\w+)$/.exec(url.pathname) ?? [];
    if (method === 'countTokens') {
      json(res, 200, { totalTokens: 100 });
      return 'token_count';
    }
    const parts = geminiParts(body);
    let answer: GeminiPart[];
    let answered: RecordedRequest['answered'];
    if (state.toolCall && parts.some((p) => p.functionResponse?.name === state.toolCall!.name)) {
      answer = [{ text: script.finalText }];
      answered = 'final_text';
    } else if (!state.toolCall && geminiToolNames(body).includes(script.tool)) {
      state.toolCall = { name: script.tool, id: '' };
      answer = [{ functionCall: { name: script.tool, args: script.input } }];
      answered = 'tool_call';
    } else {
      // Side requests (routing, next-speaker checks) ask for JSON; an empty object is valid JSON and makes them fall back.
      const config = body.generationConfig as { responseMimeType?: string } | undefined;
      answer = [{ text: config?.responseMimeType === 'application/json' ? '{}' : 'ok' }];
      answered = 'filler';
    }
    if (method === 'streamGenerateContent') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`data: ${JSON.stringify(geminiAnswer(answer, model))}\r\n\r\n`);
      res.end();
    } else {
      json(res, 200, geminiAnswer(answer, model));
    }
    return answered;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req);
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Not JSON: recorded as it came.
      }
      const url = new URL(req.url ?? '/', 'http://standin');
      const record: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: recordHeaders(req), body, answered: 'not_found' };
      requests.push(record);
      const obj = body !== null && typeof body === 'object' ? (body as Json) : {};
      if (req.method === 'POST' && /^\/v1\/messages(\/count_tokens)?$/.test(url.pathname)) record.answered = anthropic(obj, url, res);
      else if (req.method === 'POST' && /\/models\/[^/:]+:(generateContent|streamGenerateContent|countTokens)$/.test(url.pathname)) record.answered = gemini(obj, url, res);
      else json(res, 404, { error: { type: 'not_found_error', message: `the model stand-in does not serve ${req.method} ${url.pathname}` } });
    })().catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: { type: 'api_error', message: String(err) } });
      else res.destroy(err as Error);
    });
  });
  return { server, requests, state };
}

/** Starts the stand-in on 127.0.0.1 (a free port) or, given `socketPath`, on that Unix socket. */
export async function startModelStandin(script: StandinScript, socketPath?: string): Promise<ModelStandin> {
  const { server, requests, state } = buildModelStandin(script);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (socketPath) server.listen(socketPath, resolve);
    else server.listen(0, '127.0.0.1', resolve);
  });
  const where = server.address();
  const address = typeof where === 'string' ? where : `http://127.0.0.1:${where!.port}`;
  return {
    address,
    requests,
    get toolCall() {
      return state.toolCall;
    },
    get loaderCall() {
      return state.loaderCall;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
