// Runs a command in a network namespace that has only loopback, with one way out: 127.0.0.1:PORT
// inside is forwarded to a Unix socket outside (where a test's model stand-in listens). Started as
//   unshare --net -- node loopback-only.mjs <unix-socket> <port> <command> [args...]
// so that anything the command tries to reach beyond loopback fails, and the test sees only the
// requests that reached its stand-in. Exits with the command's exit code.
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';

const [socketPath, portText, command, ...args] = process.argv.slice(2);
const port = Number(portText);
if (!socketPath || !Number.isInteger(port) || port <= 0 || port > 65535 || !command) {
  process.stderr.write('usage: node loopback-only.mjs <unix-socket> <port 1-65535> <command> [args...]\n');
  process.exit(2);
}

const up = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
if (up.status !== 0) {
  process.stderr.write(`loopback-only: ip link set lo up failed: ${up.stderr || up.error?.message}\n`);
  process.exit(2);
}
// Proof that this is a namespace of its own: loopback is its only interface.
const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.trim().split('\n');
const names = links.map((l) => /^\d+:\s*([^:@]+)/.exec(l)?.[1]);
if (names.length !== 1 || names[0] !== 'lo') {
  process.stderr.write(`loopback-only: the namespace has other interfaces than lo: ${names.join(', ')}\n`);
  process.exit(2);
}

const forwarder = createServer((inside) => {
  const outside = connect(socketPath);
  inside.pipe(outside).pipe(inside);
  inside.on('error', () => outside.destroy());
  outside.on('error', () => inside.destroy());
});
forwarder.listen(port, '127.0.0.1', () => {
  const child = spawn(command, args, { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`loopback-only: could not start ${command}: ${err.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    forwarder.close();
    process.exit(code ?? (signal ? 128 : 1));
  });
});
