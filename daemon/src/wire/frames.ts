import { FRAME_END, FRAME_START, MAX_FRAME_BYTES } from '@mcp-code-mode/protocol';

/** Why a frame could not be read; the Python twin (mcp_agent/framing.py) reports the same reasons. */
export type FrameErrorReason = 'cut_short' | 'too_large' | 'not_json';

export type DecodedItem =
  | { kind: 'frame'; value: unknown }
  | { kind: 'error'; reason: FrameErrorReason; message: string }
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

// Strict as the Python twin's bytes.decode('utf-8'): invalid bytes are an error, not U+FFFD, and a
// byte order mark stays in the text (where JSON.parse refuses it, as json.loads does).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Splits a byte stream into frames. Bytes outside a frame are noise (reported, then dropped), so
 * the reader resynchronises on the next 0x1E. A 0x1E inside a frame (JSON never holds a raw one)
 * means the frame was cut short: that is an error, and a new frame starts there. A frame over the
 * size cap (counted over the whole frame, both markers included, as docs/PROTOCOL.md says) is an
 * error, reported once as soon as it passes the cap, and its bytes are skipped up to its end, so one
 * huge frame cannot grow the buffer without bound. The Python twin (packages/sandbox/src/mcp_agent/framing.py)
 * follows the same rules; packages/protocol/fixtures/wire/framing.json holds both to them.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  /** Bytes of the current frame so far, its 0x1E included. */
  private frameBytes = 0;
  private inFrame = false;
  private skipping = false;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): DecodedItem[] {
    const items: DecodedItem[] = [];
    const markers = new MarkerScan(chunk);
    let pos = 0;
    while (pos < chunk.length) {
      if (!this.inFrame) {
        const start = markers.next(FRAME_START, pos);
        const noiseEnd = start === -1 ? chunk.length : start;
        if (noiseEnd > pos) items.push({ kind: 'noise', bytes: noiseEnd - pos });
        if (start === -1) return items;
        this.startFrame();
        pos = start + 1;
        continue;
      }
      const start = markers.next(FRAME_START, pos);
      const end = markers.next(FRAME_END, pos);
      const stop = end === -1 ? start : start === -1 ? end : Math.min(start, end);
      this.append(chunk.subarray(pos, stop === -1 ? chunk.length : stop), items);
      if (stop === -1) return items;
      if (stop === start) {
        // An oversized frame was reported when it passed the cap: one error per frame.
        if (!this.skipping) items.push({ kind: 'error', reason: 'cut_short', message: 'frame cut short by the start of another frame' });
        this.startFrame();
      } else {
        if (!this.skipping) items.push(this.parse(Buffer.concat(this.chunks)));
        this.chunks = [];
        this.inFrame = false;
      }
      pos = stop + 1;
    }
    return items;
  }

  private startFrame(): void {
    this.chunks = [];
    this.frameBytes = 1;
    this.inFrame = true;
    this.skipping = false;
  }

  private append(body: Buffer, items: DecodedItem[]): void {
    this.frameBytes += body.length;
    if (this.skipping) return;
    // The closing 0x0A still has to come, so a body that leaves no room for it is already too large.
    if (this.frameBytes + 1 > this.maxFrameBytes) this.tooLarge(items);
    else if (body.length > 0) this.chunks.push(body);
  }

  private tooLarge(items: DecodedItem[]): void {
    items.push({ kind: 'error', reason: 'too_large', message: `frame larger than ${this.maxFrameBytes} bytes` });
    this.skipping = true;
    this.chunks = [];
  }

  private parse(body: Buffer): DecodedItem {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return { kind: 'error', reason: 'not_json', message: 'frame is not valid UTF-8' };
    }
    try {
      return { kind: 'frame', value: JSON.parse(text) };
    } catch {
      return { kind: 'error', reason: 'not_json', message: `frame is not valid JSON: ${JSON.stringify(text.slice(0, 80))}` };
    }
  }
}

/**
 * Finds the markers of one chunk, remembering the last position found for each: a chunk with many
 * 0x1E before one 0x0A would otherwise be rescanned from each 0x1E (quadratic in the chunk's size).
 */
class MarkerScan {
  private readonly found = new Map<number, number>();

  constructor(private readonly chunk: Buffer) {}

  next(marker: number, from: number): number {
    const known = this.found.get(marker);
    if (known !== undefined && (known === -1 || known >= from)) return known;
    const at = this.chunk.indexOf(marker, from);
    this.found.set(marker, at);
    return at;
  }
}
