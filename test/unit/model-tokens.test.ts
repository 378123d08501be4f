import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode as tokens } from 'gpt-tokenizer';
import type { IndexServer, RunResult } from '@mcp-code-mode/protocol';
import { renderResult } from '../../daemon/src/runs/render.ts';
import { runPythonTool, serverInstructions, TOOL_MANUAL } from '../../shim/src/manual.ts';

/**
 * What the model pays for in every conversation, measured with a real tokenizer (gpt-tokenizer,
 * o200k): the tool definition and the instructions with 0, 3 and 10 servers, and a run's result.
 * The bounds are the measured figures with a little room, so that growth is a decision.
 */
const tool = (name: string, required: string[] = [], optional = 0) => ({ name, required, optional });
const REAL: IndexServer[] = [
  {
    name: 'everything',
    alias: 'everything',
    description: 'MCP server that exercises all the features of the MCP protocol.',
    state: 'available',
    tools: [
      tool('echo', ['message']), tool('get_sum', ['a', 'b']), tool('get_env'), tool('get_tiny_image'), tool('get_annotated_message', ['messageType'], 1),
      tool('get_resource_links', [], 1), tool('get_resource_reference', ['resourceType', 'resourceId']), tool('get_structured_content', ['location']),
      tool('gzip_file_as_resource', [], 3), tool('toggle_simulated_logging'), tool('toggle_subscriber_updates'), tool('trigger_long_running_operation', [], 2),
      tool('trigger_sampling_request', ['prompt'], 1), tool('trigger_elicitation_request'), tool('get_roots_list'),
    ],
  },
  {
    name: 'filesystem',
    alias: 'filesystem',
    description: 'Secure file operations within allowed directories.',
    state: 'available',
    tools: ['read_file', 'read_text_file', 'read_media_file', 'read_multiple_files', 'write_file', 'edit_file', 'create_directory', 'list_directory', 'list_directory_with_sizes', 'directory_tree', 'move_file', 'search_files', 'get_file_info', 'list_allowed_directories'].map((n) => tool(n, ['path'], 1)),
  },
  {
    name: 'memory',
    alias: 'memory',
    description: 'A knowledge graph memory.',
    state: 'available',
    tools: ['create_entities', 'create_relations', 'add_observations', 'delete_entities', 'delete_observations', 'delete_relations', 'read_graph', 'search_nodes', 'open_nodes'].map((n) => tool(n, ['query'])),
  },
];
const servers = (n: number): IndexServer[] =>
  n <= 3
    ? REAL.slice(0, n)
    : [...REAL, ...Array.from({ length: n - 3 }, (_, i): IndexServer => ({ ...REAL[1]!, name: `files-${i}`, alias: `files_${i}`, tools: REAL[1]!.tools.slice(0, 12) }))];
const limits = { timeoutSec: 30, maxTimeoutSec: 120 };

test('definition and instructions tokens with 0, 3 and 10 servers', () => {
  const rows: string[] = [];
  for (const n of [0, 3, 10]) {
    const state = { index: { servers: servers(n), problems: [] } };
    const definition = runPythonTool({ state, limits, structured: false });
    const description = definition.description;
    const instructions = serverInstructions(state);
    const row = { n, chars: description.length, description: tokens(description).length, definition: tokens(JSON.stringify(definition)).length, instructions: tokens(instructions).length };
    rows.push(`| ${n} | ${row.chars} | ${row.description} | ${row.definition} | ${row.instructions} | ${row.definition + row.instructions} |`);
    assert.ok(row.chars < 2048);
    assert.ok(row.definition <= 900, `${n} servers: definition ${row.definition} tokens`);
    assert.ok(row.instructions <= 600, `${n} servers: instructions ${row.instructions} tokens`);
  }
  const manual = tokens(TOOL_MANUAL).length;
  console.log(`# short manual: ${TOOL_MANUAL.length} chars, ${manual} tokens\n# | servers | description chars | description tokens | definition tokens | instructions tokens | both |\n${rows.map((r) => `# ${r}`).join('\n')}`);
  assert.ok(manual <= 230, `manual ${manual} tokens`);
});

test('result tokens: print(6*7) and twenty printed rows', () => {
  const base: RunResult = { status: 'success', summary: 'Success in 12 ms', exitCode: 0, stdout: ['42'], stderr: [], servers: [], durationMs: 12, toolCalls: 0 };
  const rows = Array.from({ length: 20 }, (_, i) => ({ id: i, city: `city ${i}`, temp: i * 1.5 }));
  const cases: [string, RunResult][] = [
    ['print(6*7)', base],
    ['20 rows as a JSON list', { ...base, stdout: [JSON.stringify(rows)] }],
    ['20 rows as JSON lines', { ...base, stdout: rows.map((r) => JSON.stringify(r)) }],
  ];
  for (const [name, result] of cases) {
    const text = tokens(renderResult(result, 'toon')).length;
    const structured = tokens(JSON.stringify(result)).length;
    console.log(`# ${name}: text ${text} tokens; the structuredContent Claude Code would have passed instead: ${structured}`);
    assert.ok(text <= structured);
  }
});
