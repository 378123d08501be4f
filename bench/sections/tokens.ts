import { encode as countTokens } from 'gpt-tokenizer';
import { modelView, renderResult } from '../../daemon/src/runs/render.ts';
import type { Section } from './index.ts';

export const TOKENIZER = 'gpt-tokenizer (o200k_base, the GPT-4o/GPT-5 encoding)';
const tokens = (text: string): number => countTokens(text).length;

/** A table the code prints as one JSON list: 40 rows of 5 columns. */
export const TABLE_CODE = `import json
rows = [{"id": i, "name": f"user{i}", "email": f"user{i}@example.com", "active": i % 3 != 0, "score": round(i * 1.7, 1)} for i in range(40)]
print(json.dumps(rows))`;

/** Three shapes of output that models commonly ask code to print. */
const SHAPES: { name: string; code: string }[] = [
  { name: 'uniform table (40 rows × 5 columns, printed as JSON)', code: TABLE_CODE },
  {
    name: 'nested document (a service description, printed as JSON)',
    code: `import json
doc = {"service": "billing", "version": "2.4.1", "owners": ["ana", "bo"],
       "endpoints": [{"path": f"/v1/items/{i}", "methods": ["GET", "PUT"], "auth": {"scheme": "bearer", "scopes": ["read", "write"]}, "limits": {"rps": 50 + i, "burst": 100}} for i in range(8)],
       "dependencies": {"db": {"kind": "postgres", "pool": 20}, "cache": {"kind": "redis", "ttl": 300}}}
print(json.dumps(doc))`,
  },
  {
    name: 'log (60 plain text lines)',
    code: `for i in range(60):
    level = "ERROR" if i % 17 == 0 else "INFO"
    print(f"2026-11-25T10:{i:02d}:00Z {level} worker-{i % 4} processed batch {i} in {12 + i % 9} ms")`,
  },
];

export const tokensSection: Section = {
  name: 'tokens',
  async run(ctx) {
    const out: Record<string, unknown>[] = [];
    for (const shape of SHAPES) {
      const { result } = await ctx.daemon.client.run({ code: shape.code });
      if (result.status !== 'success') throw new Error(`token shape run failed: ${JSON.stringify(result)}`);
      const view = modelView(result);
      const toon = tokens(renderResult(result, 'toon'));
      const compactJson = tokens(JSON.stringify(view));
      const prettyJson = tokens(JSON.stringify(view, null, 2));
      const compactText = tokens(renderResult(result, 'compact'));
      out.push({ shape: shape.name, toon, compactJson, prettyJson, compactText });
      ctx.rows.push({
        section: `Tokens of one run_python result (${TOKENIZER})`,
        what: shape.name,
        value: `toon ${toon} · compact JSON ${compactJson} · pretty JSON ${prettyJson} · compact text ${compactText}`,
        ratio: `toon ${(100 * (1 - toon / prettyJson)).toFixed(0)}% fewer than pretty JSON`,
        target: 'toon ≤ compact JSON',
        met: toon <= compactJson,
      });
    }
    ctx.results.tokens = { tokenizer: TOKENIZER, shapes: out };
  },
};
