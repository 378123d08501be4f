import { request } from 'node:http';
import { connect } from 'node:net';
import { availableEngines } from './helpers/engines.ts';
import { startDaemonProcess, waitWarm } from './helpers/daemon-process.ts';
const engine = (await availableEngines()).find((e) => e.name === 'docker')!;
const d = await startDaemonProcess(engine, { HOME: '/tmp/mcmtest' });
await waitWarm(d.client, 2);
const raw = (method: string, path: string, body: string | Buffer | undefined, headers: Record<string, string> = {}) => new Promise<string>((resolve) => {
  const req = request({ socketPath: d.socket, method, path, headers: { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => { let s = ''; res.on('data', (c) => (s += c)); res.on('end', () => resolve(`${res.statusCode} ${s.slice(0, 400)}`)); });
  req.on('error', (e) => resolve(`ERR ${e.message}`));
  if (body !== undefined) req.write(body);
  req.end();
});
const J = { 'content-type': 'application/json' };
console.log(await raw('POST', '/v1/run', '{not json', J));
console.log(await raw('POST', '/v1/run', '[1,2]', J));
console.log(await raw('POST', '/v1/run', '"str"', J));
console.log(await raw('POST', '/v1/run', 'null', J));
console.log(await raw('POST', '/v1/run', 'code=print(1)', { 'content-type': 'text/plain' }));
console.log(await raw('POST', '/v1/run', '', J));
console.log(await raw('POST', '/v1/run', JSON.stringify({ code: 'print(1)', outputMode: 'xml' }), J));
console.log(await raw('POST', '/v1/run', JSON.stringify({ code: 'x'.repeat(6 * 1024 * 1024) }), J));
console.log(await raw('POST', '/v1/run', JSON.stringify({ code: '#' + 'x'.repeat(1100 * 1024) }), J));
console.log(await raw('POST', '/v1/run', JSON.stringify({ code: 'print(1)\x00' }), J));
console.log(await raw('POST', '/v1/run', JSON.stringify({ code: 'print("\\ud800")' }), J));
console.log(await raw('POST', '/v1/run', '{"code": "print(1)", "code": 5}', J));
console.log(await raw('POST', '/v1/run', '{"code": "print(1)", "__proto__": {"timeout": 1}}', J));
console.log(await raw('POST', '/v1/run', '{"code": "print(1)", "constructor": {"prototype": {"x": 1}}}', J));
console.log(await raw('GET', '/v1/run', undefined));
console.log(await raw('DELETE', '/v1/status', undefined));
console.log(await raw('GET', '/../../etc/passwd', undefined));
console.log(await raw('POST', '/v1/run', '{"code":"print(1)"}', { ...J, 'x-big': 'y'.repeat(20000) }));
console.log(await raw('POST', '/v1/run', JSON.stringify({ code: 'print(1)', timeout: 10 ** 9 }), J));
console.log(await raw('POST', '/v1/run', JSON.stringify({ code: 'print(1)', servers: 'abc' }), J));
console.log(await raw('POST', '/v1/run', JSON.stringify({ code: 'print(1)', servers: Array.from({ length: 100 }, (_, i) => `s${i}`) }), J));
console.log(await raw('POST', '/v1/run', JSON.stringify({ code: 'print(1)', timeout: -3 }), J));
// garbage on the socket
for (const junk of [Buffer.from([0, 1, 2, 255, 254, 10, 13, 10]), Buffer.from('GET / HTTP/9.9\r\n\r\n'), Buffer.from('POST /v1/run HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n{')]) {
  const s = connect(d.socket); let got = ''; s.on('data', (c) => (got += c)); s.on('error', () => {}); s.write(junk);
  await new Promise((r) => setTimeout(r, 500)); s.destroy(); console.log('junk ->', JSON.stringify(got.slice(0, 200)));
}
const idle = Array.from({ length: 200 }, () => connect(d.socket).on('error', () => {}));
await new Promise((r) => setTimeout(r, 500));
const r = await d.client.run({ code: 'print(1)' }); console.log('with 200 idle', r.result.status);
idle.forEach((s) => s.destroy());
console.log('alive', await d.client.alive());
await d[Symbol.asyncDispose]();
