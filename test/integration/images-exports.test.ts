// Plots and files back to the client, end to end, on every runtime (Docker, Podman, bwrap): a real
// MCP client (the SDK's) through the shim, a real daemon with the data image (numpy, matplotlib,
// Pillow). What the client gets must be MCP image content that decodes as a PNG of the figure's size
// (a JPEG stays a JPEG), and embedded resources holding the very bytes the code wrote; the caps hold
// with messages that name their variables.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunResult } from '@mcp-code-mode/protocol';
import { availableEngines } from '../support/engines.ts';
import { BWRAP_DATA_CACHE, dataImageMissing } from '../support/data-image.ts';
import { startDaemonProcess, waitWarm, type DaemonHandle } from '../support/daemon-process.ts';
import { connectShim, type ShimClient } from '../support/shim-client.ts';

const engines = await availableEngines({ bwrap: true });

type Content =
  | { type: 'text'; text: string }
  | { type: 'image'; data: string; mimeType: string }
  | { type: 'resource'; resource: { uri: string; mimeType?: string; text?: string; blob?: string } };

/** Width and height from a PNG's IHDR chunk; throws when the bytes are not a PNG. */
function pngSize(base64: string): { width: number; height: number } {
  const png = Buffer.from(base64, 'base64');
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Width and height from a JPEG's SOF0 or SOF2 segment; throws when the bytes are not a JPEG. */
function jpegSize(base64: string): { width: number; height: number } {
  const jpeg = Buffer.from(base64, 'base64');
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'JPEG signature');
  for (let at = 2; at + 9 <= jpeg.length; at += 2 + jpeg.readUInt16BE(at + 2)) {
    assert.equal(jpeg[at], 0xff, `a JPEG marker at ${at}`);
    if (jpeg[at + 1] === 0xc0 || jpeg[at + 1] === 0xc2) return { width: jpeg.readUInt16BE(at + 7), height: jpeg.readUInt16BE(at + 5) };
  }
  throw new Error('no SOF0/SOF2 segment in the JPEG');
}

for (const engine of engines) {
  describe(`images and exports through the shim on ${engine.name} (data image)`, { skip: (await dataImageMissing(engine)) ?? false }, () => {
    let daemon: DaemonHandle;
    let shim: ShimClient;
    let client: Client;
    before(async () => {
      daemon = await startDaemonProcess(engine, {
        MCP_BRIDGE_IMAGE_PROFILE: 'data',
        MCP_BRIDGE_POOL_SIZE: '1',
        MCP_BRIDGE_MAX_IMAGES: '3',
        MCP_BRIDGE_MAX_EXPORT_BYTES: '200k',
        ...(engine.name === 'bwrap' ? { MCP_BRIDGE_BWRAP_CACHE: BWRAP_DATA_CACHE } : {}),
      });
      await waitWarm(daemon.client, 1, 120_000);
      const env = Object.fromEntries(Object.entries({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0' }).filter((e): e is [string, string] => e[1] !== undefined));
      shim = await connectShim(env);
      client = shim.client;
    });
    after(async () => {
      await shim?.[Symbol.asyncDispose]();
      await daemon?.[Symbol.asyncDispose]();
    });

    async function run(args: Record<string, unknown>): Promise<{ content: Content[]; result: RunResult; isError: boolean }> {
      const r = await client.callTool({ name: 'run_python', arguments: { timeout: 60, ...args } }, undefined, { timeout: 120_000 });
      return { content: r.content as Content[], result: r.structuredContent as unknown as RunResult, isError: r.isError === true };
    }

    test('a warm sandbox of the data image has numpy, pandas and pyplot loaded before the code runs (MCP_BRIDGE_PRELOAD), pyplot on our backend', async () => {
      const { result } = await run({ code: 'import sys\nprint(sorted(m for m in ("numpy", "pandas", "matplotlib.pyplot") if m in sys.modules))\nimport matplotlib\nprint(matplotlib.get_backend())' });
      assert.equal(result.status, 'success', JSON.stringify(result));
      assert.deepEqual(result.stdout, ["['matplotlib.pyplot', 'numpy', 'pandas']", 'module://mcp_agent.mpl_backend']);
    });

    test('plt.plot(); plt.show() gives one PNG image of the figure size, after the text that says it follows', async () => {
      const { content, result } = await run({ code: 'import matplotlib.pyplot as plt\nplt.figure(figsize=(4, 3), dpi=100)\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.show()\nprint("drawn")' });
      assert.equal(result.status, 'success', JSON.stringify(result));
      assert.deepEqual(content.map((c) => c.type), ['text', 'image']);
      assert.match((content[0] as { text: string }).text, /1 image follows/);
      const image = content[1] as { data: string; mimeType: string };
      assert.equal(image.mimeType, 'image/png');
      assert.deepEqual(pngSize(image.data), { width: 400, height: 300 });
      assert.deepEqual(result.images, [{ mimeType: 'image/png', bytes: Buffer.from(image.data, 'base64').length, width: 400, height: 300 }]);
      assert.ok(!JSON.stringify(result).includes(image.data.slice(0, 40)), 'no image data in the result');
      assert.deepEqual(result.stdout, ['drawn']);
    });

    test('two figures give two images; show_image takes PIL images and bytes; past MCP_BRIDGE_MAX_IMAGES a ValueError', async () => {
      const code = `
import io
import matplotlib.pyplot as plt
from PIL import Image
from mcp import runtime
plt.figure(figsize=(2, 2), dpi=50); plt.plot([0, 1])
plt.figure(figsize=(3, 1), dpi=50); plt.bar([1, 2], [2, 1])
plt.show()
runtime.show_image(Image.new("RGB", (17, 9), "red"))
try:
    runtime.show_image(Image.new("RGB", (5, 5)))
except ValueError as e:
    print(e)
`;
      const { content, result } = await run({ code });
      assert.equal(result.status, 'success', JSON.stringify(result));
      const sizes = content.filter((c) => c.type === 'image').map((c) => pngSize((c as { data: string }).data));
      assert.deepEqual(sizes, [{ width: 100, height: 100 }, { width: 150, height: 50 }, { width: 17, height: 9 }]);
      assert.deepEqual(result.stdout, ['show_image: this run has returned 3 images, the most MCP_BRIDGE_MAX_IMAGES (3) allows']);
    });

    test('a figure over MCP_BRIDGE_MAX_IMAGE_BYTES is drawn smaller, never sent whole', async () => {
      const code = `
import numpy as np, matplotlib.pyplot as plt
rng = np.random.default_rng(1)
plt.figure(figsize=(16, 16), dpi=200)
plt.scatter(rng.random(200000), rng.random(200000), s=1, c=rng.random(200000))
plt.show()
`;
      const { content, result } = await run({ code });
      assert.equal(result.status, 'success', JSON.stringify(result));
      const [image] = result.images!;
      assert.ok(image!.bytes <= 1024 * 1024, `${image!.bytes} bytes`);
      const { width } = pngSize((content[1] as { data: string }).data);
      assert.ok(width < 3200 && width === image!.width, `drawn at ${width} px wide`);
    });

    test('export_file: a CSV comes back as a text resource, a binary file as a blob of the same bytes; outside /tmp and /workspace, or past the cap, a ValueError', async () => {
      const code = `
import pandas as pd
from mcp import runtime
pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_csv("/workspace/out.csv", index=False)
runtime.export_file("/workspace/out.csv")
open("/tmp/blob.bin", "wb").write(bytes(range(256)) * 4)
runtime.export_file("/tmp/blob.bin")
for path in ["/etc/passwd", "/workspace/../etc/hostname"]:
    try:
        runtime.export_file(path)
    except ValueError as e:
        print(e)
open("/tmp/big.bin", "wb").write(b"z" * 300000)
try:
    runtime.export_file("/tmp/big.bin")
except ValueError as e:
    print(e)
print([(e.name, e.bytes) for e in runtime.list_exports()])
`;
      const { content, result } = await run({ code });
      assert.equal(result.status, 'success', JSON.stringify(result));
      const resources = content.filter((c) => c.type === 'resource').map((c) => (c as { resource: { uri: string; mimeType?: string; text?: string; blob?: string } }).resource);
      assert.equal(resources.length, 2);
      assert.match(resources[0]!.uri, /^mcp-code-mode:\/\/exports\/[^/]+\/out\.csv$/);
      assert.equal(resources[0]!.mimeType, 'text/csv');
      assert.equal(resources[0]!.text, 'a,b\n1,x\n2,y\n');
      assert.deepEqual(Buffer.from(resources[1]!.blob!, 'base64'), Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256)));
      assert.deepEqual(result.exports?.map((e) => [e.name, e.bytes, e.uri]), [['out.csv', 12, resources[0]!.uri], ['blob.bin', 1024, resources[1]!.uri]]);
      assert.deepEqual(result.stdout, [
        'export_file: /etc/passwd is not under /tmp or /workspace; write the file there first',
        'export_file: /etc/hostname is not under /tmp or /workspace; write the file there first',
        'export_file: /tmp/big.bin is 300000 bytes; this run may export 203764 more of its 204800 (MCP_BRIDGE_MAX_EXPORT_BYTES)',
        "[('out.csv', 12), ('blob.bin', 1024)]",
      ]);
    });

    test('JPEG bytes and a JPEG file come back as image/jpeg, the same bytes; one over MCP_BRIDGE_MAX_IMAGE_BYTES is saved again as a smaller JPEG', async () => {
      const code = `
import io, random
from PIL import Image
from mcp import runtime
photo = Image.new("RGB", (64, 48), "orange")
buf = io.BytesIO(); photo.save(buf, format="JPEG", quality=90)
open("/tmp/photo.jpg", "wb").write(buf.getvalue())
runtime.show_image(buf.getvalue())
runtime.show_image("/tmp/photo.jpg")
random.seed(3)
noise = Image.frombytes("RGB", (900, 900), random.randbytes(900 * 900 * 3))
big = io.BytesIO(); noise.save(big, format="JPEG", quality=98)
print(len(big.getvalue()) > 1024 * 1024, runtime.show_image(big.getvalue()).mimeType)
`;
      const { content, result } = await run({ code });
      assert.equal(result.status, 'success', JSON.stringify(result));
      assert.deepEqual(result.stdout, ['True image/jpeg']);
      const images = content.filter((c) => c.type === 'image') as { data: string; mimeType: string }[];
      assert.deepEqual(images.map((i) => i.mimeType), ['image/jpeg', 'image/jpeg', 'image/jpeg']);
      assert.equal(images[0]!.data, images[1]!.data, 'the file and the bytes travel as they are');
      assert.deepEqual(jpegSize(images[0]!.data), { width: 64, height: 48 });
      assert.deepEqual(result.images?.map((i) => [i.mimeType, i.width, i.height]), [['image/jpeg', 64, 48], ['image/jpeg', 64, 48], ['image/jpeg', result.images![2]!.width, result.images![2]!.height]]);
      const small = Buffer.from(images[2]!.data, 'base64').length;
      assert.ok(small <= 1024 * 1024, `${small} bytes`);
      assert.deepEqual(jpegSize(images[2]!.data), { width: result.images![2]!.width, height: result.images![2]!.height });
    });

    test('a figure left open at the end of the run is sent as plt.show() would; one closed is not, one shown is not sent twice', async () => {
      const code = `
import matplotlib.pyplot as plt
plt.figure(figsize=(1, 1), dpi=40); plt.plot([1, 2]); plt.show()
plt.figure(figsize=(3, 1), dpi=40); plt.plot([2, 1]); plt.close()
plt.figure(figsize=(2, 1), dpi=40); plt.bar([1, 2], [1, 2])
print("left open")
`;
      const { content, result } = await run({ code });
      assert.equal(result.status, 'success', JSON.stringify(result));
      assert.deepEqual(result.stdout, ['left open']);
      assert.match((content[0] as { text: string }).text, /2 images follow/);
      const sizes = content.filter((c) => c.type === 'image').map((c) => pngSize((c as { data: string }).data));
      assert.deepEqual(sizes, [{ width: 40, height: 40 }, { width: 80, height: 40 }]);
    });

    test('images made before a timeout come back with the partial output', async () => {
      // Importing pyplot alone takes about 3 s on a busy 2-core machine: 10 s leave room for it before the sleep.
      const code = 'import time, matplotlib.pyplot as plt\nplt.figure(figsize=(1, 1), dpi=32)\nplt.plot([1])\nplt.show()\nprint("before")\ntime.sleep(60)';
      const { content, result, isError } = await run({ code, timeout: 10 });
      assert.equal(isError, true);
      assert.equal(result.status, 'timeout');
      assert.deepEqual(result.stdout, ['before'], JSON.stringify(result));
      assert.deepEqual(content.map((c) => c.type), ['text', 'image']);
      assert.deepEqual(pngSize((content[1] as { data: string }).data), { width: 32, height: 32 });
    });
  });
}
