import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/**
 * A network namespace of the test's own, joined to the host by a veth pair, with a TCP listener on
 * its address: a target that is really reachable from the host, so that a sandbox failing to reach
 * it proves the sandbox's isolation and not a dead address. Nothing else is ever targeted.
 */
export interface TestNetns {
  name: string;
  /** The listener's address, inside the namespace. */
  address: string;
  port: number;
  close(): Promise<void>;
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

/** Whether this machine lets the test create namespaces (root, iproute2). */
export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).status === 0;
}

function answers(address: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, timeout: 2000 });
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString()));
    socket.on('end', () => resolve(got));
    socket.on('timeout', () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
  });
}

export async function createTestNetns(): Promise<TestNetns> {
  const tag = randomBytes(3).toString('hex');
  const name = `mcmt-${tag}`;
  const hostEnd = `mcmh${tag}`;
  const nsEnd = `mcmn${tag}`;
  // A /30 out of 10.213.0.0/16, picked at random so that parallel runs do not collide.
  const third = 1 + (randomBytes(1)[0]! % 250);
  const hostAddress = `10.213.${third}.1`;
  const address = `10.213.${third}.2`;
  const port = 20_000 + (randomBytes(2).readUInt16BE() % 20_000);
  let listener: ChildProcess | undefined;
  const close = async (): Promise<void> => {
    if (listener && listener.exitCode === null && listener.signalCode === null) {
      listener.kill('SIGKILL');
      await new Promise((resolve) => listener!.once('exit', resolve));
    }
    spawnSync('ip', ['netns', 'del', name]);
    spawnSync('ip', ['link', 'del', hostEnd]);
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
    ip('link', 'set', nsEnd, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostEnd);
    ip('link', 'set', hostEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${address}/30`, 'dev', nsEnd);
    ip('netns', 'exec', name, 'ip', 'link', 'set', nsEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    const script = `require('node:net').createServer((s) => s.end('reached\\n')).listen(${port}, '${address}', () => console.log('ready'))`;
    listener = spawn('ip', ['netns', 'exec', name, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      listener!.stdout!.once('data', () => resolve());
      listener!.once('exit', (code) => reject(new Error(`the namespace listener exited with ${code}`)));
    });
    const reply = await answers(address, port);
    if (reply.trim() !== 'reached') throw new Error(`the namespace listener answered ${JSON.stringify(reply)}`);
  } catch (err) {
    await close();
    throw err;
  }
  return { name, address, port, close };
}
