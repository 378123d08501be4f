// What a plot costs the model: one run_python result with the figure as MCP image content, against
// the same figure printed as base64 text (what users of other sandboxes got). Needs the data image;
// without it the row says how to make it. Text tokens are the bench's tokenizer's; an image is
// charged by the client by its pixels, not its bytes (Anthropic's rule of thumb: width x height / 750).
import { encode as countTokens } from 'gpt-tokenizer';
import { startDaemonProcess, waitWarm } from '../../test/support/daemon-process.ts';
import { dataImageMissing } from '../../test/support/data-image.ts';
import { connectShim } from '../../test/support/shim-client.ts';
import { pair } from '../lib/report.ts';
import { sleep, summarize, timed } from '../lib/stats.ts';
import type { Section } from './index.ts';

const SECTION = 'A plot in a run_python result (data image)';

const FIGURE = `
import numpy as np, matplotlib.pyplot as plt
x = np.linspace(0, 10, 200)
plt.figure(figsize=(6.4, 4.8), dpi=100)
plt.plot(x, np.sin(x), label="sin"); plt.plot(x, np.cos(x), label="cos"); plt.legend(); plt.title("two waves")
`;

type Content = { type: string; text?: string; data?: string };

export const plotSection: Section = {
  name: 'plot',
  async run(ctx) {
    const missing = await dataImageMissing(ctx.engine);
    if (missing) {
      ctx.rows.push({ section: SECTION, what: 'not measured', value: missing });
      return;
    }
    ctx.log('plot: a daemon with the data image');
    await using daemon = await startDaemonProcess(ctx.engine, { MCP_BRIDGE_IMAGE_PROFILE: 'data', MCP_BRIDGE_POOL_SIZE: '1', MCP_BRIDGE_MAX_OUTPUT_BYTES: '2m', MCP_BRIDGE_LOG_LEVEL: 'warn' });
    await waitWarm(daemon.client, 1, 300_000);
    const env = Object.fromEntries(Object.entries({ ...daemon.env, MCP_BRIDGE_AUTOSTART: '0' }).filter((e): e is [string, string] => e[1] !== undefined));
    await using shim = await connectShim(env);
    const call = async (code: string): Promise<Content[]> => {
      const r = await shim.client.callTool({ name: 'run_python', arguments: { code, timeout: 60 } }, undefined, { timeout: 120_000 });
      if (r.isError) throw new Error(`the plot run failed: ${JSON.stringify(r.content)}`);
      return r.content as Content[];
    };
    const asImage = await call(`${FIGURE}plt.show()`);
    // Closed after printing: a figure left open would come back as an image too.
    const asText = await call(`${FIGURE}import base64, io\nb = io.BytesIO(); plt.savefig(b, format="png")\nprint(base64.b64encode(b.getvalue()).decode())\nplt.close()`);
    const image = asImage.find((c) => c.type === 'image');
    if (!image?.data) throw new Error(`no image content in the plot result: ${JSON.stringify(asImage.map((c) => c.type))}`);
    const png = Buffer.from(image.data, 'base64');
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    const imageText = countTokens(asImage.filter((c) => c.type === 'text').map((c) => c.text ?? '').join('')).length;
    const imageTokens = Math.round((width * height) / 750);
    const base64Text = countTokens(asText.filter((c) => c.type === 'text').map((c) => c.text ?? '').join('')).length;
    const imageBytes = Buffer.byteLength(JSON.stringify(asImage));
    const textBytes = Buffer.byteLength(JSON.stringify(asText));
    ctx.results.plot = { width, height, png: png.length, imageResult: { textTokens: imageText, imageTokens, bytes: imageBytes }, base64Result: { textTokens: base64Text, bytes: textBytes } };
    ctx.rows.push({
      section: SECTION,
      what: `one ${width}x${height} figure: plt.show() (image content) against the PNG printed as base64`,
      value: `${imageText} text tokens + ~${imageTokens} image tokens · ${imageBytes} bytes (PNG ${png.length})`,
      baseline: `${base64Text} text tokens · ${textBytes} bytes`,
      ratio: `${((1 - (imageText + imageTokens) / base64Text) * 100).toFixed(0)}% fewer tokens`,
    });

    // What MCP_BRIDGE_PRELOAD saves a plot run: the same figure on a warm sandbox with numpy, pandas
    // and pyplot loaded (the default) against one that imports them in the run. Paced, so that each
    // run gets a warm sandbox; in turns, so that both see the same machine.
    ctx.log('plot: preload against none');
    await using bare = await startDaemonProcess(ctx.engine, { MCP_BRIDGE_IMAGE_PROFILE: 'data', MCP_BRIDGE_POOL_SIZE: '1', MCP_BRIDGE_PRELOAD: 'none', MCP_BRIDGE_LOG_LEVEL: 'warn' });
    await waitWarm(bare.client, 1, 300_000);
    const samples: Record<'preload' | 'none', number[]> = { preload: [], none: [] };
    for (let i = 0; i < 10; i++) {
      for (const [side, d] of [['preload', daemon], ['none', bare]] as const) {
        await waitWarm(d.client, 1, 300_000);
        const [t, r] = await timed(() => d.client.run({ code: `${FIGURE}plt.show()` }));
        if (r.result.status !== 'success') throw new Error(`a plot run failed: ${JSON.stringify(r.result)}`);
        samples[side].push(t);
      }
      await sleep(200);
    }
    const withPreload = summarize(samples.preload);
    const without = summarize(samples.none);
    ctx.results.plotPreload = { preload: withPreload, none: without };
    ctx.rows.push({
      section: SECTION,
      what: 'a plot run (numpy + pyplot, plt.show()) on a warm sandbox, with MCP_BRIDGE_PRELOAD (default)',
      value: pair(withPreload),
      baseline: `MCP_BRIDGE_PRELOAD=none: ${pair(without)}`,
      ratio: `${(without.median / withPreload.median).toFixed(1)}× faster`,
    });
  },
};
