import type { Tool } from '@modelcontextprotocol/sdk/types.js';

export type DocDetail = 'name' | 'summary' | 'full';

/** Where a tool lives, with the aliases the sandbox knows it by. */
export interface ToolRef {
  server: string;
  serverAlias: string;
  tool: Tool;
  toolAlias: string;
}

const SUMMARY_CHARS = 240;

/** The first paragraph of a description, cut at a sentence end near the limit. */
export function summarize(description: string | undefined): string {
  const text = (description ?? '').trim().split(/\n\s*\n/)[0]!.replace(/\s+/g, ' ');
  if (text.length <= SUMMARY_CHARS) return text;
  const cut = text.slice(0, SUMMARY_CHARS);
  const sentence = cut.lastIndexOf('. ');
  return sentence > SUMMARY_CHARS / 2 ? cut.slice(0, sentence + 1) : `${cut.trimEnd()}...`;
}

function typeOf(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return 'any';
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join('|');
  if (Array.isArray(s.type)) return s.type.join('|');
  if (typeof s.type === 'string') return s.type === 'array' ? `${typeOf(s.items)}[]` : s.type;
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[key])) return (s[key] as unknown[]).map(typeOf).join('|');
  }
  return 'any';
}

/** `mcp_everything.get_sum(a: number, b: number)`: how sandbox code calls the tool; `?` marks optional arguments. */
export function callSignature(ref: ToolRef): string {
  const schema = ref.tool.inputSchema as { properties?: Record<string, unknown>; required?: string[] };
  const required = new Set(schema.required ?? []);
  const params = Object.entries(schema.properties ?? {})
    .sort(([a], [b]) => Number(required.has(b)) - Number(required.has(a)))
    .map(([name, prop]) => `${name}${required.has(name) ? '' : '?'}: ${typeOf(prop)}`);
  return `mcp_${ref.serverAlias}.${ref.toolAlias}(${params.join(', ')})`;
}

/** One tool's docs at the requested detail: names only, a summary with the call, or everything. */
export function toolDoc(ref: ToolRef, detail: DocDetail): Record<string, unknown> {
  const names = { server: ref.server, serverAlias: ref.serverAlias, tool: ref.tool.name, toolAlias: ref.toolAlias };
  if (detail === 'name') return names;
  if (detail === 'summary') return { ...names, description: summarize(ref.tool.description), call: `await ${callSignature(ref)}` };
  return {
    ...names,
    ...(ref.tool.title ? { title: ref.tool.title } : {}),
    description: ref.tool.description ?? '',
    call: `await ${callSignature(ref)}`,
    inputSchema: ref.tool.inputSchema,
    ...(ref.tool.outputSchema ? { outputSchema: ref.tool.outputSchema } : {}),
    ...(ref.tool.annotations ? { annotations: ref.tool.annotations } : {}),
  };
}
