import { randomUUID } from 'node:crypto';
import type { AttachmentFrame, ExportInfo, ImageInfo, RunAttachment, RunResult } from '@mcp-code-mode/protocol';

/** MCP_BRIDGE_MAX_IMAGES, MCP_BRIDGE_MAX_IMAGE_BYTES and MCP_BRIDGE_MAX_EXPORT_BYTES; sent to the agent in `execute`. */
export interface AttachmentLimits {
  maxImages: number;
  maxImageBytes: number;
  maxExportBytes: number;
}

export const EXPORT_URI_PREFIX = 'mcp-code-mode://exports/';

/** What a run's result says about its attachments (never their data). */
export type AttachmentMetadata = Pick<RunResult, 'images' | 'exports' | 'attachmentsRefused'>;

/**
 * The images and exported files of one run, as their `attachment` frames arrive. The agent keeps to
 * the caps already (and tells the code when it cannot); the daemon holds it to them again, since a
 * sandbox is not trusted: what is over a cap is dropped and the result says why. The data goes to
 * `onAttachment` (the control API's answer), the metadata into the result.
 */
export class AttachmentCollector {
  private readonly images: ImageInfo[] = [];
  private readonly exports: ExportInfo[] = [];
  private readonly refused: string[] = [];
  private readonly names = new Set<string>();
  private exportBytes = 0;

  constructor(
    private readonly limits: AttachmentLimits,
    private readonly onAttachment: (attachment: RunAttachment) => void = () => {},
    /** Names this run's exports in their URIs: `mcp-code-mode://exports/<runId>/<name>`. */
    readonly runId: string = randomUUID().slice(0, 8),
  ) {}

  add(frame: AttachmentFrame): void {
    const decoded = Buffer.byteLength(frame.data, 'base64');
    if (decoded !== frame.bytes) return this.refuse(`${frame.name}: its data is ${decoded} bytes, not the ${frame.bytes} it claims`);
    if (frame.kind === 'image') this.addImage(frame);
    else this.addExport(frame);
  }

  private addImage(frame: AttachmentFrame): void {
    const { maxImages, maxImageBytes } = this.limits;
    if (!frame.mimeType.startsWith('image/')) return this.refuse(`${frame.name}: ${frame.mimeType} is not an image type`);
    if (this.images.length >= maxImages) return this.refuse(`image ${frame.name}: a run returns at most ${maxImages} images (MCP_BRIDGE_MAX_IMAGES)`);
    if (frame.bytes > maxImageBytes) {
      return this.refuse(`image ${frame.name}: ${frame.bytes} bytes is over the ${maxImageBytes}-byte limit (MCP_BRIDGE_MAX_IMAGE_BYTES)`);
    }
    this.images.push({
      mimeType: frame.mimeType,
      bytes: frame.bytes,
      ...(frame.width !== undefined ? { width: frame.width } : {}),
      ...(frame.height !== undefined ? { height: frame.height } : {}),
    });
    this.onAttachment({ kind: 'image', mimeType: frame.mimeType, data: frame.data });
  }

  private addExport(frame: AttachmentFrame): void {
    const { maxExportBytes } = this.limits;
    if (this.exportBytes + frame.bytes > maxExportBytes) {
      return this.refuse(
        `file ${frame.name}: ${frame.bytes} bytes would take this run's exports past ${maxExportBytes} bytes (MCP_BRIDGE_MAX_EXPORT_BYTES)`,
      );
    }
    if (frame.name.includes('/') || this.names.has(frame.name)) return this.refuse(`file ${frame.name}: the name is taken or holds a /`);
    this.names.add(frame.name);
    this.exportBytes += frame.bytes;
    const uri = `${EXPORT_URI_PREFIX}${this.runId}/${encodeURIComponent(frame.name)}`;
    this.exports.push({ name: frame.name, uri, mimeType: frame.mimeType, bytes: frame.bytes });
    this.onAttachment({ kind: 'file', mimeType: frame.mimeType, data: frame.data, name: frame.name, uri });
  }

  private refuse(why: string): void {
    this.refused.push(why);
  }

  metadata(): AttachmentMetadata {
    return {
      ...(this.images.length > 0 ? { images: [...this.images] } : {}),
      ...(this.exports.length > 0 ? { exports: [...this.exports] } : {}),
      ...(this.refused.length > 0 ? { attachmentsRefused: [...this.refused] } : {}),
    };
  }
}
