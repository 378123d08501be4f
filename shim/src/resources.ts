import type { ServerStub } from '@mcp-code-mode/protocol';
import type { Resource } from '@modelcontextprotocol/sdk/types.js';
import type { IndexState } from './index-text.js';
import { CAPABILITIES_URI } from './manual.js';

/** The part of ControlClient the server resources need. */
export interface StubFetcher {
  stub(alias: string, options?: { signal?: AbortSignal }): Promise<ServerStub>;
}

const STUB_PREFIX = 'resource://mcp-code-mode/servers/';
const STUB_SUFFIX = '.pyi';
export const STUB_MIME_TYPE = 'text/x-python';

/** `resource://mcp-code-mode/servers/<alias>.pyi` */
export const stubUri = (alias: string): string => `${STUB_PREFIX}${encodeURIComponent(alias)}${STUB_SUFFIX}`;

/** The alias a server resource URI names, or undefined when it is not one. */
export function stubAlias(uri: string): string | undefined {
  if (!uri.startsWith(STUB_PREFIX) || !uri.endsWith(STUB_SUFFIX)) return undefined;
  try {
    return decodeURIComponent(uri.slice(STUB_PREFIX.length, -STUB_SUFFIX.length)) || undefined;
  } catch {
    return undefined;
  }
}

export const CAPABILITIES_RESOURCE: Resource = {
  uri: CAPABILITIES_URI,
  name: 'capabilities',
  title: 'mcp-code-mode sandbox manual',
  description: 'What run_python code can use: MCP server proxies, the mcp.runtime helpers, limits.',
  mimeType: 'text/markdown',
};

const serversOf = (state: IndexState) => ('index' in state ? state.index.servers : []);

/** One resource per configured server, in the index's order (an unavailable one says why it cannot be read). */
export function serverResources(state: IndexState): Resource[] {
  return serversOf(state).map((server) => ({
    uri: stubUri(server.alias),
    name: `${server.alias}${STUB_SUFFIX}`,
    title: `${server.name}: Python stubs`,
    description:
      server.state === 'available'
        ? `The ${server.tools.length} tools of MCP server ${JSON.stringify(server.name)} (mcp_${server.alias} in run_python) as typed async Python functions with docstrings; the text query_tool_docs(${JSON.stringify(server.name)}, detail="stub") gives.`
        : `MCP server ${JSON.stringify(server.name)} is unavailable: ${server.reason ?? 'no reason given'}.`,
    mimeType: STUB_MIME_TYPE,
  }));
}

/** A string that changes exactly when the list of resources does (a server came, went, or changed state). */
export function resourcesKey(state: IndexState): string {
  return JSON.stringify(serversOf(state).map((s) => [s.name, s.alias, s.state, s.tools.length]));
}

/** The aliases of the servers there are, for an error message. */
export function knownStubs(state: IndexState): string {
  const servers = serversOf(state);
  if ('missing' in state) return `the servers are not known yet (${state.missing})`;
  if (servers.length === 0) return 'no MCP servers are configured';
  return `the server resources are ${servers.map((s) => stubUri(s.alias)).join(', ')}`;
}
