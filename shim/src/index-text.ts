import type { IndexServer, IndexTool, ServerIndex } from '@mcp-code-mode/protocol';

/** What the shim knows of the servers: the daemon's index, or why it has none yet. */
export type IndexState = { index: ServerIndex } | { missing: string };

const DESCRIPTION_CHARS = 80;
const SEARCH_HINT = 'Lists cut short (…): `await runtime.search_tool_docs("words")` finds the rest.';

function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '';
  return `${text.slice(0, max - 1).trimEnd()}…`;
}

/** The first sentence (or the first DESCRIPTION_CHARS characters) of a description. */
function oneLine(description: string | undefined): string {
  const text = (description ?? '').replace(/\s+/g, ' ').trim();
  const sentence = /^(.+?[.!?])(\s|$)/.exec(text)?.[1] ?? text;
  return cut(sentence, DESCRIPTION_CHARS);
}

/** `get_sum(a, b)`: the call with its required arguments; `…` stands for optional ones. */
function signature(tool: IndexTool): string {
  return `${tool.name}(${[...tool.required, ...(tool.optional > 0 ? ['…'] : [])].join(', ')})`;
}

/**
 * One server's line within `max` characters. Tools first (the model needs them to write the call):
 * with their arguments when all fit so, else by name, else as many names as fit and a count
 * (`…+12`); then as much of the description as is left.
 */
function serverLine(server: IndexServer, max: number): { line: string; cutShort: boolean } {
  const head = server.alias === server.name ? `- ${server.name}` : `- ${server.name} (mcp_${server.alias})`;
  if (server.state === 'unavailable') {
    return { line: cut(`${head}: unavailable: ${server.reason ?? 'unknown reason'}`, Math.max(max, head.length + 14)), cutShort: false };
  }
  const tools = server.tools;
  const list = (names: string[], n: number): string =>
    tools.length === 0 ? ' (no tools)' : `: ${names.slice(0, n).join(', ')}${n < names.length ? `${n > 0 ? ', ' : ''}…+${names.length - n}` : ''}`;
  const signatures = tools.map(signature);
  const names = tools.map((t) => t.name);
  let part = list(signatures, signatures.length);
  let shown = tools.length;
  if (head.length + part.length > max) {
    while (shown > 0 && head.length + list(names, shown).length > max) shown--;
    part = list(names, shown);
  }
  // Its closing full stop would stand before the colon of the tool list.
  const description = oneLine(server.description).replace(/\.$/, '');
  const room = max - head.length - part.length - 3;
  // A description cut to a few words says nothing: it is shown whole, or to 24 characters at least, or not at all.
  const line = description && room >= Math.min(description.length, 24) && shown === tools.length ? `${head} — ${cut(description, room)}${part}` : head + part;
  return { line, cutShort: shown < tools.length };
}

/**
 * The server index the model reads before its first run (tool description and server
 * instructions), within `budget` characters: every server's name, its proxy when that is not
 * `mcp_<name>`, one line, its tool functions, or why it is unavailable. Lines share the budget
 * evenly, and what one line does not use goes to the lines that were cut.
 */
export function indexText(state: IndexState, budget: number): string {
  if ('missing' in state) return cut(`Servers: not known yet (${state.missing}); \`runtime.discovered_servers()\` lists them.`, budget);
  const { servers, problems } = state.index;
  const notes = problems.length > 0 ? [`${problems.length} config problem${problems.length === 1 ? '' : 's'}: \`mcp-code-mode servers\`.`] : [];
  if (servers.length === 0) return cut(['No MCP servers are configured.', ...notes].join('\n'), budget);
  const header = 'MCP servers (name — about: tools):';
  let room = budget - header.length - 1 - notes.reduce((n, note) => n + note.length + 1, 0);
  // Each server needs at least its head; past that, the rest are counted.
  const minimal = servers.map((s) => serverLine(s, 0).line.length);
  let count = servers.length;
  const more = (k: number): string => `- …+${k} more: \`runtime.discovered_servers()\``;
  const hintRoom = SEARCH_HINT.length + 1;
  while (count > 0 && minimal.slice(0, count).reduce((a, b) => a + b + 1, 0) + (count < servers.length ? more(servers.length - count).length + 1 : 0) + hintRoom > room) count--;
  if (count < servers.length) room -= more(servers.length - count).length + 1;
  room -= hintRoom;
  const shown = servers.slice(0, count);
  // Even shares first; then the characters short lines left go to the lines that were cut, a few rounds.
  const limits = shown.map(() => Math.floor(room / Math.max(count, 1)) - 1);
  let lines = shown.map((s, i) => serverLine(s, limits[i]!));
  for (let round = 0; round < 4; round++) {
    const used = lines.reduce((n, l) => n + l.line.length + 1, 0);
    const slack = room - used;
    const cutLines = lines.map((l, i) => (l.cutShort ? i : -1)).filter((i) => i >= 0);
    if (slack <= cutLines.length || cutLines.length === 0) break;
    // From each line's length, not its limit: a line may have stopped well short of its limit.
    for (const i of cutLines) limits[i] = lines[i]!.line.length + Math.floor(slack / cutLines.length);
    lines = shown.map((s, i) => serverLine(s, limits[i]!));
  }
  const out = [header, ...lines.map((l) => l.line)];
  if (count < servers.length) out.push(more(servers.length - count));
  if (lines.some((l) => l.cutShort) || count < servers.length) out.push(SEARCH_HINT);
  out.push(...notes);
  return out.join('\n');
}
