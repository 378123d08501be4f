import { FRAME_END, FRAME_START, MAX_FRAME_BYTES } from '@mcp-code-mode/protocol';

export type DecodedItem =
  | { kind: 'frame'; value: unknown }
  | { kind: 'error'; message: string }
  | { kind: 'noise'; bytes: number };

/** Encodes one frame: 0x1E, JSON (JSON.stringify never emits a raw newline), 0x0A. */
export function encodeFrame(message: object): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const out = Buffer.allocUnsafe(json.length + 2);
  out[0] = FRAME_START;
  json.copy(out, 1);
  out[out.length - 1] = FRAME_END;
  return out;
}

/**
 * Splits a byte stream into frames. Bytes outside a frame are noise (reported, then dropped), so
 * the reader resynchronises on the next 0x1E. A frame over the size cap is an error and its bytes
 * are skipped up to the next frame start, so one huge frame cannot grow the buffer without bound.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private inFrame = false;
  private skipping = false;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): DecodedItem[] {
    const items: DecodedItem[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (!this.inFrame) {
        const start = chunk.indexOf(FRAME_START, pos);
        const noiseEnd = start === -1 ? chunk.length : start;
        if (noiseEnd > pos) items.push({ kind: 'noise', bytes: noiseEnd - pos });
        if (start === -1) return items;
        this.inFrame = true;
        this.skipping = false;
        pos = start + 1;
        continue;
      }
      const end = chunk.indexOf(FRAME_END, pos);
      const stop = end === -1 ? chunk.length : end;
      if (!this.skipping) {
        if (this.buffered + (stop - pos) > this.maxFrameBytes) {
          items.push({ kind: 'error', message: `frame larger than ${this.maxFrameBytes} bytes` });
          this.skipping = true;
          this.chunks = [];
          this.buffered = 0;
        } else {
          this.chunks.push(chunk.subarray(pos, stop));
          this.buffered += stop - pos;
        }
      }
      if (end === -1) return items;
      if (!this.skipping) items.push(this.parse(Buffer.concat(this.chunks, this.buffered)));
      this.chunks = [];
      this.buffered = 0;
      this.inFrame = false;
      pos = end + 1;
    }
    return items;
  }

  private parse(body: Buffer): DecodedItem {
    const text = body.toString('utf8');
    try {
      return { kind: 'frame', value: JSON.parse(text) };
    } catch {
      return { kind: 'error', message: `frame is not valid JSON: ${JSON.stringify(text.slice(0, 80))}` };
    }
  }
}
