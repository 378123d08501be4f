import { readFile } from 'node:fs/promises';
import type { ApprovalMode } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';
import { NO_RULES, parseApprovalsFile, type ApprovalRules } from './policy.js';

/**
 * MCP_BRIDGE_APPROVAL and the approvals file, read at start and again with the rest of the
 * configuration (POST /v1/reload). A missing file means no rules; a broken one stops the daemon at
 * start (a rule meant to refuse must not be dropped quietly) and keeps the old rules on reload.
 */
export class ApprovalSettings {
  private current: ApprovalRules = NO_RULES;

  constructor(readonly mode: ApprovalMode, readonly timeoutMs: number, readonly file: string, private readonly log: Logger) {}

  rules(): ApprovalRules {
    return this.current;
  }

  /** Reads the file; throws on a broken one (the caller decides whether that is fatal). */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${this.file}: cannot be read (${(err as Error).message})`);
      this.current = NO_RULES;
      return;
    }
    this.current = parseApprovalsFile(text, this.file);
  }

  async reload(): Promise<void> {
    try {
      await this.load();
    } catch (err) {
      this.log.warn({ err }, 'the approvals file is broken; the rules read before stay in force');
    }
  }
}
