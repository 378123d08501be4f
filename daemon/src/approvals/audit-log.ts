import { appendFile, rename, stat } from 'node:fs/promises';
import type { AuditRecord } from '@mcp-code-mode/protocol';
import type { Logger } from 'pino';
import { redactText } from '../status.js';
import { sha256 } from './preview.js';

/** How much of a run's code the audit log keeps (its sha256 is of the whole). */
export const AUDIT_CODE_CHARS = 4000;
/** Rotated files kept beside the live one: audit.jsonl.1 (newest) to .3. */
const KEEP = 3;

/** The code as the audit log keeps it: capped and with what looks like a secret masked, and its digest. */
export function auditCode(code: string): Pick<AuditRecord, 'code' | 'codeSha256' | 'codeBytes'> {
  const cut = code.length > AUDIT_CODE_CHARS ? `${code.slice(0, AUDIT_CODE_CHARS)}\n… (cut at ${AUDIT_CODE_CHARS} characters)` : code;
  return { code: redactText(cut), codeSha256: sha256(code), codeBytes: Buffer.byteLength(code, 'utf8') };
}

/**
 * `<state dir>/audit.jsonl`: one JSON line per run, appended in order (writes are chained, so lines
 * never interleave). When the file has grown past `maxBytes` it is renamed to `.1` (and older ones
 * shift up to `.3`) before the next line: a plain rename keeps every line whole.
 */
export class AuditLog {
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly path: string, private readonly maxBytes: number, private readonly log: Logger) {}

  append(record: AuditRecord): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    this.chain = this.chain.then(async () => {
      try {
        await this.rotateIfFull();
        await appendFile(this.path, line, { mode: 0o600 });
      } catch (err) {
        // The run has its answer already; a lost audit line is the operator's to know about.
        this.log.error({ err, path: this.path }, 'writing the audit log failed');
      }
    });
    return this.chain;
  }

  /** Settles once every line appended so far is written. */
  flush(): Promise<void> {
    return this.chain;
  }

  private async rotateIfFull(): Promise<void> {
    const size = await stat(this.path).then((s) => s.size, () => 0);
    if (size < this.maxBytes) return;
    for (let i = KEEP - 1; i >= 1; i--) await rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(() => undefined);
    await rename(this.path, `${this.path}.1`);
  }
}
