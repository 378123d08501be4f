// The model stand-in of the client-CLI test (test/support/model-standin.ts), on its own: the script's
// turns, the SSE event order of the Messages API, the Gemini shapes, and what it records.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { anthropicEvents, startModelStandin, type ModelStandin } from '../support/model-standin.ts';

const TOOL = 'mcp__srv__run_python';
const INPUT = { code: 'print(1)' };

async function post(standin: ModelStandin, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${standin.address}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** The SSE stream as (event, data) pairs. */
async function events(res: Response): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const event = /^event: (.*)$/m.exec(chunk)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(chunk)![1]!) as Record<string, unknown>;
      return { event, data };
    });
}

describe('the model stand-in, Anthropic Messages API', () => {
  let standin: ModelStandin;
  before(async () => {
    standin = await startModelStandin({ tool: TOOL, input: INPUT, finalText: 'done', loader: { name: 'ToolSearch', input: { query: `select:${TOOL}` } } });
  });
  after(() => standin.close());

  test('loader first when the tool is deferred, then the tool, then the final text; filler and token counts on the side', async () => {
    const tools = [{ name: 'ToolSearch' }, { name: 'Read' }];
    const first = await events(await post(standin, '/v1/messages?beta=true', { model: 'm', stream: true, tools, messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': 'secret' }));
    assert.deepEqual(
      first.map((e) => e.event),
      ['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    assert.deepEqual(first[1]!.data.content_block, { type: 'tool_use', id: standin.loaderCall!.id, name: 'ToolSearch', input: {} });
    assert.deepEqual(JSON.parse((first[2]!.data.delta as { partial_json: string }).partial_json), { query: `select:${TOOL}` });
    assert.equal((first[4]!.data.delta as { stop_reason: string }).stop_reason, 'tool_use');

    // A side request (no tools) in between gets a plain text, not the script's next step.
    const side = (await (await post(standin, '/v1/messages', { model: 'small', max_tokens: 1, messages: [{ role: 'user', content: 'title?' }] })).json()) as { content: { type: string; text: string }[] };
    assert.deepEqual(side.content, [{ type: 'text', text: 'ok' }]);

    const loaded = [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: standin.loaderCall!.id, content: 'loaded' }] }];
    const second = await events(await post(standin, '/v1/messages', { model: 'm', stream: true, tools, messages: loaded }));
    assert.deepEqual(second[1]!.data.content_block, { type: 'tool_use', id: standin.toolCall!.id, name: TOOL, input: {} });
    assert.deepEqual(JSON.parse((second[2]!.data.delta as { partial_json: string }).partial_json), INPUT);

    const ran = [...loaded, { role: 'user', content: [{ type: 'tool_result', tool_use_id: standin.toolCall!.id, content: [{ type: 'text', text: '1' }] }] }];
    const third = await events(await post(standin, '/v1/messages', { model: 'm', stream: true, tools: [...tools, { name: TOOL }], messages: ran }));
    assert.deepEqual(third[2]!.data.delta, { type: 'text_delta', text: 'done' });
    assert.equal((third[4]!.data.delta as { stop_reason: string }).stop_reason, 'end_turn');

    const count = (await (await post(standin, '/v1/messages/count_tokens', { messages: [] })).json()) as { input_tokens: number };
    assert.equal(typeof count.input_tokens, 'number');
    assert.deepEqual(
      standin.requests.map((r) => r.answered),
      ['loader_call', 'filler', 'tool_call', 'final_text', 'token_count'],
    );
    assert.equal(standin.requests[0]!.headers['x-api-key'], '<redacted>');
    assert.equal(standin.requests[0]!.url, '/v1/messages?beta=true');
  });

  test('any other path is a 404 that names it, and is recorded', async () => {
    const res = await fetch(`${standin.address}/api/hello`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /GET \/api\/hello/);
    assert.equal(standin.requests.at(-1)!.answered, 'not_found');
  });

  test('the events of a message put each block between its start and stop, at its index', () => {
    const list = anthropicEvents({ id: 'm1', model: 'x', stop_reason: 'tool_use', content: [{ type: 'text', text: 'a' }, { type: 'tool_use', id: 't', name: 'n', input: { k: 1 } }] });
    assert.deepEqual(
      list.map((e) => `${e.event}${'index' in e.data ? `:${e.data.index as number}` : ''}`),
      ['message_start', 'content_block_start:0', 'content_block_delta:0', 'content_block_stop:0', 'content_block_start:1', 'content_block_delta:1', 'content_block_stop:1', 'message_delta', 'message_stop'],
    );
  });
});

describe('the model stand-in, Gemini API', () => {
  let standin: ModelStandin;
  before(async () => {
    standin = await startModelStandin({ tool: 'mcp_srv_run_python', input: INPUT, finalText: 'done' });
  });
  after(() => standin.close());

  test('a functionCall when the tool is declared, the final text after its functionResponse, JSON for side requests', async () => {
    const tools = [{ functionDeclarations: [{ name: 'mcp_srv_run_python' }] }];
    const call = await post(standin, '/v1beta/models/g-pro:streamGenerateContent?alt=sse', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], tools }, { 'x-goog-api-key': 'secret' });
    const sse = await call.text();
    const chunk = JSON.parse(/^data: (.*)$/m.exec(sse)![1]!) as { candidates: { content: { parts: unknown[] } }[]; modelVersion: string };
    assert.deepEqual(chunk.candidates[0]!.content.parts, [{ functionCall: { name: 'mcp_srv_run_python', args: INPUT } }]);
    assert.equal(chunk.modelVersion, 'g-pro');

    const side = (await (await post(standin, '/v1beta/models/g-lite:generateContent', { contents: [], generationConfig: { responseMimeType: 'application/json' } })).json()) as { candidates: { content: { parts: { text: string }[] } }[] };
    assert.equal(side.candidates[0]!.content.parts[0]!.text, '{}');

    const answered = { contents: [{ role: 'user', parts: [{ functionResponse: { name: 'mcp_srv_run_python', response: { output: '1' } } }] }], tools };
    const final = (await (await post(standin, '/v1beta/models/g-pro:generateContent', answered)).json()) as { candidates: { content: { parts: { text: string }[] } }[] };
    assert.equal(final.candidates[0]!.content.parts[0]!.text, 'done');
    assert.deepEqual(
      standin.requests.map((r) => r.answered),
      ['tool_call', 'filler', 'final_text'],
    );
    assert.equal(standin.requests[0]!.headers['x-goog-api-key'], '<redacted>');
  });
});
