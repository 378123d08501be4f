// The MCP SDK's client side costs about 25 MB of daemon memory once loaded. A daemon whose runs call
// no MCP server never needs it, so it is loaded on the first connection, once.
type ClientModule = typeof import('@modelcontextprotocol/sdk/client/index.js');
type TypesModule = typeof import('@modelcontextprotocol/sdk/types.js');
type StdioModule = typeof import('@modelcontextprotocol/sdk/client/stdio.js');
type HttpModule = typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js');
type SseModule = typeof import('@modelcontextprotocol/sdk/client/sse.js');

export interface Sdk {
  client: ClientModule;
  types: TypesModule;
}

let sdk: Promise<Sdk> | undefined;

export function loadSdk(): Promise<Sdk> {
  sdk ??= Promise.all([import('@modelcontextprotocol/sdk/client/index.js'), import('@modelcontextprotocol/sdk/types.js')]).then(([client, types]) => ({ client, types }));
  return sdk;
}

export const loadStdio = (): Promise<StdioModule> => import('@modelcontextprotocol/sdk/client/stdio.js');
export const loadStreamableHttp = (): Promise<HttpModule> => import('@modelcontextprotocol/sdk/client/streamableHttp.js');
export const loadSse = (): Promise<SseModule> => import('@modelcontextprotocol/sdk/client/sse.js');
