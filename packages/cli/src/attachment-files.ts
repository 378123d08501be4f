// Where `mcp-code-mode run` puts the images and files a run returned: a terminal cannot show them.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { RunAttachment } from '@mcp-code-mode/protocol';

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp', 'image/svg+xml': 'svg' };

/** A file name of the run's own choosing, kept inside `dir` whatever it holds. */
function safeName(name: string): string {
  const base = basename(name.replace(/\\/g, '/')).replace(/[^\w.+-]/g, '_');
  return base === '' || base === '.' || base === '..' ? 'file' : base;
}

/**
 * Writes each attachment into `dir` (made if missing; a new temporary directory when not given)
 * and returns the paths, in the run's order: images as image-1.png..., exports under their names.
 */
export async function writeAttachments(attachments: RunAttachment[], dir?: string): Promise<string[]> {
  if (attachments.length === 0) return [];
  const out = dir ?? (await mkdtemp(join(tmpdir(), 'mcp-code-mode-run-')));
  await mkdir(out, { recursive: true });
  const paths: string[] = [];
  const taken = new Set<string>();
  let images = 0;
  for (const attachment of attachments) {
    let name = attachment.kind === 'image' ? `image-${++images}.${EXTENSIONS[attachment.mimeType] ?? 'bin'}` : safeName(attachment.name ?? 'file');
    for (let n = 2; taken.has(name); n++) name = name.replace(/(-\d+)?(\.[^.]*)?$/, (_, _n, ext = '') => `-${n}${ext}`);
    taken.add(name);
    const path = join(out, name);
    await writeFile(path, Buffer.from(attachment.data, 'base64'));
    paths.push(path);
  }
  return paths;
}
