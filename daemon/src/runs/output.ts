export type StreamName = 'stdout' | 'stderr';

/**
 * Keeps at most `limitBytes` of each stream; the rest is only counted, so a flood of output
 * cannot grow the daemon's memory.
 */
export class OutputCollector {
  private readonly kept: Record<StreamName, string[]> = { stdout: [], stderr: [] };
  private readonly bytes: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  readonly dropped: Record<StreamName, number> = { stdout: 0, stderr: 0 };

  constructor(private readonly limitBytes: number) {}

  /** Adds text; returns the part that was kept (for live progress). */
  add(name: StreamName, text: string): string {
    const room = this.limitBytes - this.bytes[name];
    const size = Buffer.byteLength(text, 'utf8');
    if (size <= room) {
      this.kept[name].push(text);
      this.bytes[name] += size;
      return text;
    }
    const keep = room > 0 ? Buffer.from(text, 'utf8').subarray(0, room).toString('utf8').replace(/\uFFFD$/, '') : '';
    const keptBytes = Buffer.byteLength(keep, 'utf8');
    if (keep) this.kept[name].push(keep);
    this.bytes[name] += keptBytes;
    this.dropped[name] += size - keptBytes;
    return keep;
  }

  /** Bytes the agent reported it never sent (its own cap). */
  addDropped(name: StreamName, bytes: number): void {
    this.dropped[name] += bytes;
  }

  get truncated(): boolean {
    return this.dropped.stdout > 0 || this.dropped.stderr > 0;
  }

  lines(name: StreamName): string[] {
    const text = this.kept[name].join('');
    if (text === '') return this.dropped[name] > 0 ? [`[output truncated: ${this.dropped[name]} more bytes not shown]`] : [];
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    if (this.dropped[name] > 0) lines.push(`[output truncated: ${this.dropped[name]} more bytes not shown]`);
    return lines;
  }
}
