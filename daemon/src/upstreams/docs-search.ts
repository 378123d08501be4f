import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import MiniSearch from 'minisearch';
import { stemmer } from 'stemmer';

/** The tools of one server, as its connection caches them. */
export interface ServerTools {
  server: string;
  tools: readonly Tool[];
}

export interface SearchHit {
  server: string;
  tool: Tool;
  score: number;
}

interface IndexedTool {
  id: number;
  name: string;
  title: string;
  description: string;
  params: string;
  server: string;
}

/** `getSum`, `get-sum`, `get_sum` all give `get sum`: tool names use every convention. */
export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** A tool name is also indexed whole (`getsum`), for models that write it without separators. */
function tokenizeField(text: string, field?: string): string[] {
  const words = tokenize(text);
  return field === 'name' && words.length > 1 ? [...words, words.join('')] : words;
}

// Words that say nothing about what a tool does; left in, they count as matches everywhere.
const STOP_WORDS = new Set('a an and are as at be by for from in into is it of on or that the this to with'.split(' '));

// Porter stemming (the `stemmer` package) on both sides: "entities" finds "entity", "listing" finds "list".
function processTerm(term: string): string | null {
  const t = term.toLowerCase();
  return STOP_WORDS.has(t) ? null : stemmer(t);
}

function paramsText(tool: Tool): string {
  const properties = (tool.inputSchema as { properties?: Record<string, { description?: unknown }> }).properties ?? {};
  return Object.entries(properties)
    .map(([name, prop]) => `${name} ${typeof prop?.description === 'string' ? prop.description : ''}`)
    .join(' ');
}

/**
 * Ranks tool docs against a query with BM25 (MiniSearch's BM25+), weighting the tool name over
 * its title, description and argument docs, with stemming, prefix and light fuzzy matching. One index covers
 * every server being searched so that scores compare across servers; it is rebuilt only when
 * the set of tool lists changes (the lists are cached objects, so identity tells).
 */
export class ToolSearch {
  private last: { lists: readonly ServerTools[]; index: MiniSearch<IndexedTool>; refs: { server: string; tool: Tool }[] } | undefined;

  private indexFor(lists: readonly ServerTools[]) {
    const last = this.last;
    if (last && last.lists.length === lists.length && last.lists.every((l, i) => l.server === lists[i]!.server && l.tools === lists[i]!.tools)) return last;
    const index = new MiniSearch<IndexedTool>({
      fields: ['name', 'title', 'description', 'params', 'server'],
      tokenize: tokenizeField,
      processTerm,
    });
    const refs: { server: string; tool: Tool }[] = [];
    for (const { server, tools } of lists) {
      for (const tool of tools) {
        index.add({ id: refs.length, name: tool.name, title: tool.title ?? '', description: tool.description ?? '', params: paramsText(tool), server });
        refs.push({ server, tool });
      }
    }
    this.last = { lists, index, refs };
    return this.last;
  }

  search(query: string, lists: readonly ServerTools[], limit: number): SearchHit[] {
    const { index, refs } = this.indexFor(lists);
    const results = index.search(query, {
      boost: { name: 2.5, title: 1.5, params: 1, description: 1, server: 0.5 },
      prefix: (term) => term.length >= 3,
      fuzzy: (term) => (term.length >= 5 ? 0.2 : false),
      combineWith: 'OR',
    });
    return results.slice(0, limit).map((r) => ({ ...refs[r.id as number]!, score: Math.round(r.score * 1000) / 1000 }));
  }
}
