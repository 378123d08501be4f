import { SkillStoreError, type SkillStore } from '../skills/skill-store.js';
import { RpcFailure } from './rpc-failure.js';

/** RPC methods of saved tools, answered by the daemon itself rather than by an MCP server. */
export const SKILL_METHODS: ReadonlySet<string> = new Set(['save_tool', 'delete_saved_tool']);

/** One saved-tool RPC; failures become RpcFailure, which the sandbox sees as MCPError. */
export async function handleSkillRpc(store: SkillStore, method: string, params: Record<string, unknown>): Promise<unknown> {
  try {
    if (method === 'save_tool') return await store.save(params);
    if (method === 'delete_saved_tool') return await store.delete(params);
  } catch (err) {
    if (err instanceof SkillStoreError) throw new RpcFailure(err.code, err.message);
    throw new RpcFailure('internal', `the saved tools directory could not be written: ${(err as Error).message}`);
  }
  throw new RpcFailure('unknown_method', `${method} is not a saved-tool method`);
}
