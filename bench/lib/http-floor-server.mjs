// The control API's floor on this machine: a Fastify server in a process of its own on a Unix socket,
// whose POST /v1/run answers at once, as the daemon's streamed run does (headers flushed, then one
// NDJSON result line), with a recorded answer of a real run. A run through the ControlClient against
// it costs what the client, HTTP and Fastify cost, with no run at all. Used by bench/lib/runtimes.ts.
// Usage: node http-floor-server.mjs SOCKET ANSWER_JSON_FILE   (prints "listening" when it answers)
import { readFileSync, rmSync } from 'node:fs';
import Fastify from 'fastify';

const [socket, answerFile] = process.argv.slice(2);
if (!socket || !answerFile) {
  process.stderr.write('usage: node http-floor-server.mjs SOCKET ANSWER_JSON_FILE\n');
  process.exit(2);
}
const line = JSON.stringify({ type: 'result', ...JSON.parse(readFileSync(answerFile, 'utf8')) }) + '\n';
const app = Fastify({ logger: false });
app.post('/v1/run', async (request, reply) => {
  reply.hijack();
  reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson' });
  reply.raw.flushHeaders();
  reply.raw.end(line);
  return reply;
});
rmSync(socket, { force: true });
await app.listen({ path: socket });
process.stdout.write('listening\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
