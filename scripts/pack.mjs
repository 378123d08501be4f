// `npm run pack`: a clean build, then one tarball per workspace package in dist-pack/, the form the
// product is published in. `npm install ./dist-pack/*.tgz` in an empty folder gives the two bins.
// Each tarball is checked: no sources, tests or build state, and every entry point it names is in it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const destination = join(root, 'dist-pack');
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
/** Files the daemon and the agent read at run time that no entry point names. */
const REQUIRED = {
  '@mcp-code-mode/daemon': ['assets/docker/build-local-image.sh', 'assets/docker/packages.txt'],
  '@mcp-code-mode/sandbox': ['bootstrap.py', 'src/mcp_agent/main.py', 'src/mcp/__init__.py'],
};
const FORBIDDEN = [
  { test: (p) => p.endsWith('.ts') && !p.endsWith('.d.ts'), why: 'TypeScript source' },
  { test: (p) => /(^|\/)(tests?|__pycache__)\//.test(p) || /\.test\.[jt]s$/.test(p), why: 'test or cache file' },
  { test: (p) => /\.(tsbuildinfo|pyc)$/.test(p) || /(^|\/)tsconfig[^/]*\.json$/.test(p), why: 'build state' },
];

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
  if (result.status !== 0) {
    console.error(`pack: ${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(1);
  }
  return result.stdout;
}

// A clean build: files left in dist/ by a source that was moved or deleted must not ship.
for (const dir of workspaces) {
  rmSync(join(root, dir, 'dist'), { recursive: true, force: true });
  rmSync(join(root, dir, 'tsconfig.tsbuildinfo'), { force: true });
}
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], { stdio: 'inherit' });

rmSync(destination, { recursive: true, force: true });
mkdirSync(destination);
// The daemon's postpack removes its copy of docker/; a pack that fails half-way must not leave one
// behind, which would shadow the checkout's docker/ (image.ts looks in assets/ first).
process.on('exit', () => rmSync(join(root, 'daemon', 'assets'), { recursive: true, force: true }));
const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', destination, ...workspaces.flatMap((w) => ['--workspace', w])]));

function entryPoints(manifest) {
  const targets = [];
  const walk = (value) => {
    if (typeof value === 'string') targets.push(value);
    else if (value && typeof value === 'object') for (const [condition, inner] of Object.entries(value)) if (condition !== 'source') walk(inner);
  };
  walk(manifest.exports);
  walk(manifest.bin);
  if (manifest.main) targets.push(manifest.main);
  return targets.map((t) => t.replace(/^\.\//, ''));
}

const problems = [];
for (const tarball of packed) {
  const manifest = JSON.parse(readFileSync(join(root, workspaces.find((w) => JSON.parse(readFileSync(join(root, w, 'package.json'), 'utf8')).name === tarball.name), 'package.json'), 'utf8'));
  const files = new Set(tarball.files.map((f) => f.path));
  for (const path of files) for (const rule of FORBIDDEN) if (rule.test(path)) problems.push(`${tarball.name}: ${path} is a ${rule.why}; narrow "files" in its package.json`);
  for (const path of [...entryPoints(manifest), ...(REQUIRED[tarball.name] ?? [])]) {
    if (!files.has(path)) problems.push(`${tarball.name}: ${path} is missing; widen "files" in its package.json`);
  }
}
if (problems.length > 0) {
  console.error(`pack: the tarballs are not fit to publish:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
for (const t of packed) console.log(`${t.filename.padEnd(36)} ${kb(t.size).padStart(9)} packed ${kb(t.unpackedSize).padStart(9)} unpacked ${String(t.entryCount).padStart(4)} files`);
console.log(`${packed.length} tarballs in ${destination}, ${kb(packed.reduce((sum, t) => sum + t.size, 0))} in all`);
