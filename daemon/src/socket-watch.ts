import type { Server as HttpServer } from 'node:http';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

export interface SocketWatchOptions {
  /** The control socket's path. */
  path: string;
  /** The HTTP server that answers on it; connections to a recreated socket are handed to it. */
  server: HttpServer;
  log: Logger;
  intervalMs?: number;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Keeps the control socket's path answering. A socket file deleted under a running daemon (a
 * cleanup of the state directory, a mistaken `rm`) leaves the daemon listening on an fd that no
 * path leads to: its runs go on, but no client can reach it, and the instance lock keeps another
 * daemon from starting. Every `intervalMs` the path is checked; when it is gone, a new listener is
 * bound there and hands its connections to the same HTTP server.
 */
export class SocketWatch {
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Server[] = [];
  private checking = false;

  constructor(private readonly options: SocketWatchOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** Recreates the socket if its file is missing; true when it did. */
  async check(): Promise<boolean> {
    if (this.checking || !this.timer) return false;
    this.checking = true;
    try {
      const missing = await stat(this.options.path).then(
        () => false,
        (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
      );
      if (!missing) return false;
      await mkdir(dirname(this.options.path), { recursive: true, mode: 0o700 });
      const listener = createServer((socket) => this.options.server.emit('connection', socket));
      await listen(listener, this.options.path);
      await chmod(this.options.path, 0o600);
      this.listeners.push(listener);
      this.options.log.warn({ socket: this.options.path }, 'the control socket file was deleted; recreated it');
      return true;
    } catch (err) {
      this.options.log.warn({ err, socket: this.options.path }, 'recreating the deleted control socket failed; retrying');
      return false;
    } finally {
      this.checking = false;
    }
  }

  /** Stops watching and closes the recreated listeners (the daemon removes the path itself). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.listeners.splice(0).map((listener) => new Promise<void>((resolve) => listener.close(() => resolve()))));
  }
}
