// The daemon package's prepack and postpack: docker/ (the offline image builder, its package list, the
// Dockerfile) has one home, the repo root, and travels in the tarball as daemon/assets/docker/. The copy
// lives only while npm packs, so a checkout never runs a stale one (image.ts looks in assets/ first).
// The builder's files are copied byte for byte: their sha256 is the image's inputs label.
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../docker/', import.meta.url));
const assets = fileURLToPath(new URL('../daemon/assets/', import.meta.url));
const action = process.argv[2];

if (action === 'copy') {
  rmSync(assets, { recursive: true, force: true });
  cpSync(source, `${assets}docker/`, { recursive: true });
} else if (action === 'remove') {
  rmSync(assets, { recursive: true, force: true });
} else {
  console.error(`daemon-assets: the action must be copy or remove, got ${action ?? 'none'}`);
  process.exit(2);
}
