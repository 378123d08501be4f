import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { tokenize, ToolSearch } from '../../daemon/src/upstreams/docs-search.ts';
import { callSignature, summarize, toolDoc } from '../../daemon/src/upstreams/tool-docs.ts';

const t = (name: string, description: string, properties: Record<string, object> = {}, required: string[] = []): Tool => ({
  name,
  description,
  inputSchema: { type: 'object', properties, required },
});

const FS = [
  t('read_text_file', 'Read the complete contents of a file from the file system as text.', { path: { type: 'string' } }, ['path']),
  t('write_file', 'Create a new file or completely overwrite an existing file with new content.', { path: { type: 'string' }, content: { type: 'string' } }, ['path', 'content']),
  t('list_directory', 'Get a detailed listing of all files and directories in a specified path.', { path: { type: 'string' } }, ['path']),
  t('search_files', 'Recursively search for files and directories matching a pattern.', { pattern: { type: 'string', description: 'glob pattern' } }),
];
const EVERYTHING = [
  t('echo', 'Echoes back the input string', { message: { type: 'string', description: 'Message to echo' } }, ['message']),
  t('get-sum', 'Returns the sum of two numbers', { a: { type: 'number' }, b: { type: 'number' } }, ['a', 'b']),
  t('getTinyImage', 'Returns a tiny image'),
];
const MEMORY = [
  t('create_entities', 'Create multiple new entities in the knowledge graph'),
  t('read_graph', 'Read the entire knowledge graph'),
  t('search_nodes', 'Search for nodes in the knowledge graph based on a query'),
];
const ALL = [
  { server: 'filesystem', tools: FS },
  { server: 'everything', tools: EVERYTHING },
  { server: 'memory', tools: MEMORY },
];

test('tokens split every naming convention', () => {
  assert.deepEqual(tokenize('getTinyImage get-sum read_text_file HTTPServer'), ['get', 'Tiny', 'Image', 'get', 'sum', 'read', 'text', 'file', 'HTTP', 'Server']);
});

test('the best match ranks first across servers', () => {
  const search = new ToolSearch();
  const top = (query: string) => search.search(query, ALL, 3).map((h) => `${h.server}.${h.tool.name}`);
  assert.equal(top('read file')[0], 'filesystem.read_text_file');
  assert.equal(top('add two numbers sum')[0], 'everything.get-sum');
  assert.equal(top('knowledge graph entities')[0], 'memory.create_entities');
  assert.equal(top('tiny image')[0], 'everything.getTinyImage');
  assert.equal(top('directory listing')[0], 'filesystem.list_directory');
  // Plurals and prefixes still find the tool.
  assert.equal(top('echoes')[0], 'everything.echo');
  assert.equal(top('writ')[0], 'filesystem.write_file');
});

test('scores decrease, the limit holds, and only the given servers are searched', () => {
  const hits = new ToolSearch().search('file', ALL, 2);
  assert.equal(hits.length, 2);
  assert.ok(hits[0]!.score >= hits[1]!.score);
  const onlyMemory = new ToolSearch().search('file graph', [ALL[2]!], 10);
  assert.ok(onlyMemory.every((h) => h.server === 'memory'));
  assert.deepEqual(new ToolSearch().search('zzzqqq', ALL, 5), []);
});

test('the index is rebuilt when a tool list changes, not before', () => {
  const search = new ToolSearch();
  assert.equal(search.search('rename', ALL, 1).length, 0);
  const changed = [{ server: 'filesystem', tools: [...FS, t('move_file', 'Move or rename files and directories.')] }, ...ALL.slice(1)];
  assert.equal(search.search('rename', changed, 1)[0]!.tool.name, 'move_file');
});

test('docs come at three levels of detail with the call sandbox code writes', () => {
  const ref = { server: 'everything', serverAlias: 'everything', tool: EVERYTHING[1]!, toolAlias: 'get_sum' };
  assert.deepEqual(toolDoc(ref, 'name'), { server: 'everything', serverAlias: 'everything', tool: 'get-sum', toolAlias: 'get_sum' });
  assert.equal(toolDoc(ref, 'summary').call, 'await mcp_everything.get_sum(a: number, b: number)');
  assert.deepEqual(toolDoc(ref, 'full').inputSchema, EVERYTHING[1]!.inputSchema);
  const optional = { ...ref, tool: t('list', 'x', { limit: { type: 'integer' }, kind: { enum: ['a', 'b'] }, q: { type: 'string' } }, ['q']), toolAlias: 'list' };
  assert.equal(callSignature(optional), 'mcp_everything.list(q: string, limit?: integer, kind?: "a"|"b")');
  assert.equal(summarize('First paragraph.\n\nSecond paragraph.'), 'First paragraph.');
  assert.ok(summarize('word '.repeat(200)).length <= 243);
});

test('the words a model guesses find the tool: separators, run-together names, plurals, partial words', () => {
  const memory = [
    t('create_entities', 'Create multiple new entities in the knowledge graph'),
    t('delete_relations', 'Delete multiple relations from the knowledge graph'),
    t('open_nodes', 'Open specific nodes in the knowledge graph by their names'),
  ];
  const lists = [...ALL.slice(0, 2), { server: 'memory', tools: memory }];
  const search = new ToolSearch();
  const top = (query: string) => search.search(query, lists, 3).map((h) => `${h.server}.${h.tool.name}`)[0];
  for (const query of ['get_sum', 'get-sum', 'getSum', 'getsum', 'sum'])
    assert.equal(top(query), 'everything.get-sum', query);
  assert.equal(top('create entity'), 'memory.create_entities'); // singular for plural
  assert.equal(top('deleting a relation'), 'memory.delete_relations');
  assert.equal(top('list directories'), 'filesystem.list_directory');
  assert.equal(top('list dirs'), 'filesystem.list_directory'); // partial word
  assert.equal(top('opening node'), 'memory.open_nodes');
  assert.equal(top('read_text'), 'filesystem.read_text_file');
  assert.deepEqual(search.search('qqxv zzkk', lists, 3), [], 'nothing matched: the sandbox says so');
});
