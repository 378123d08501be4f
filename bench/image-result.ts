// What a plot costs the model: one run_python result with the figure as MCP image content, against
// the same figure printed as base64 text (what users of other sandboxes got). Prints; asserts nothing.
// Usage: node --import tsx bench/image-result.ts   (Docker, the data image: mcp-code-mode image build --profile data)
// Tokens of text are gpt-tokenizer's (cl100k-like BPE); an image is charged by the client by its pixels,
// not its bytes: Anthropic's rule of thumb is width x height / 750 tokens, given here beside it.
import { encode as countTokens } from 'gpt-tokenizer';
import { availableEngines } from '../test/support/engines.ts';
import { startDaemonProcess, waitWarm } from '../test/support/daemon-process.ts';
import { connectShim } from '../test/support/shim-client.ts';

const FIGURE = `
import numpy as np, matplotlib.pyplot as plt
x = np.linspace(0, 10, 200)
plt.figure(figsize=(6.4, 4.8), dpi=100)
plt.plot(x, np.sin(x), label="sin"); plt.plot(x, np.cos(x), label="cos"); plt.legend(); plt.title("two waves")
`;

async function main(): Promise<void> {
  const engine = (await availableEngines()).find((e) => e.name === 'docker');
  if (!engine) throw new Error('Docker does not answer');
  await using daemon = await startDaemonProcess(engine, { MCP_BRIDGE_IMAGE_PROFILE: 'data', MCP_BRIDGE_POOL_SIZE: '1', MCP_BRIDGE_MAX_OUTPUT_BYTES: '2m' });
  await waitWarm(daemon.client, 1, 120_000);
  const env = Object.fromEntries(Object.entries({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0' }).filter((e): e is [string, string] => e[1] !== undefined));
  await using shim = await connectShim(env);
  const call = async (code: string) => {
    const r = await shim.client.callTool({ name: 'run_python', arguments: { code, timeout: 60 } }, undefined, { timeout: 120_000 });
    return r.content as { type: string; text?: string; data?: string }[];
  };
  const asImage = await call(FIGURE + 'plt.show()');
  // Closed: a figure left open would come back as an image too.
  const asText = await call(FIGURE + 'import base64, io\nb = io.BytesIO(); plt.savefig(b, format="png")\nprint(base64.b64encode(b.getvalue()).decode())\nplt.close()');
  const image = asImage.find((c) => c.type === 'image')!;
  const png = Buffer.from(image.data!, 'base64');
  const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
  const imageText = asImage.filter((c) => c.type === 'text').map((c) => c.text!).join('');
  const base64Text = asText.filter((c) => c.type === 'text').map((c) => c.text!).join('');
  const rows = [
    ['image content', `${countTokens(imageText).length} text tokens + ~${Math.round((width * height) / 750)} image tokens (${width}x${height})`, `${Buffer.byteLength(JSON.stringify(asImage))} bytes (PNG ${png.length})`],
    ['base64 printed', `${countTokens(base64Text).length} text tokens`, `${Buffer.byteLength(JSON.stringify(asText))} bytes`],
  ];
  for (const row of rows) console.log(row.join('  |  '));
}

await main();
