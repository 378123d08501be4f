// Sits between an MCP client and a stdio MCP server and writes down every message, untouched:
//   node stdio-tap.mjs <log.jsonl> <command> [args...]
// Bytes pass through as they come; each newline-delimited message is also appended to the log as
// {"from":"client"|"server","message":<the JSON-RPC message>}, in the order the tap saw them, so a
// test can read exactly what a real client sent and got (a progress notification after a result
// included). Exits with the server's exit code.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

const [log, command, ...args] = process.argv.slice(2);
if (!log || !command) {
  process.stderr.write('usage: node stdio-tap.mjs <log.jsonl> <command> [args...]\n');
  process.exit(2);
}

function lines(from) {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let end;
    while ((end = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, end).replace(/\r$/, '');
      pending = pending.slice(end + 1);
      if (line === '') continue;
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        message = { unparsed: line };
      }
      appendFileSync(log, JSON.stringify({ from, message }) + '\n');
    }
  };
}

const server = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const fromClient = lines('client');
const fromServer = lines('server');
process.stdin.on('data', (chunk) => {
  fromClient(chunk);
  server.stdin.write(chunk);
});
process.stdin.on('end', () => server.stdin.end());
server.stdin.on('error', () => undefined);
server.stdout.on('data', (chunk) => {
  fromServer(chunk);
  process.stdout.write(chunk);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.kill(signal));
server.on('error', (err) => {
  process.stderr.write(`stdio-tap: could not start ${command}: ${err.message}\n`);
  process.exit(127);
});
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
