import type { Summary } from './stats.ts';

/** One line of the results table: a figure, optionally against a baseline and a target. */
export interface Row {
  section: string;
  what: string;
  value: string;
  baseline?: string;
  ratio?: string;
  target?: string;
  met?: boolean;
  note?: string;
}

export const ms = (x: number): string => (x < 10 ? `${x.toFixed(2)} ms` : x < 1000 ? `${x.toFixed(1)} ms` : `${(x / 1000).toFixed(2)} s`);
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const pair = (s: Summary): string => `p50 ${ms(s.median)} · p99 ${ms(s.p99)} (n=${s.n})`;

export function markdown(rows: Row[], header: { date: string; machine: string; engine: string; image: string; command: string }): string {
  const lines = [
    '# Benchmarks',
    '',
    `Measured by \`${header.command}\` on ${header.date}. Machine: ${header.machine}. Engine: ${header.engine}. Image: ${header.image}.`,
    'Each comparison is measured in the same run, alternating the two sides. Figures are medians (p50) and p99.',
    '',
  ];
  let section = '';
  for (const row of rows) {
    if (row.section !== section) {
      if (section) lines.push('');
      section = row.section;
      lines.push(`## ${section}`, '', '| what | value | baseline | ratio | target | met |', '|---|---|---|---|---|---|');
    }
    const met = row.met === undefined ? '' : row.met ? 'yes' : '**no**';
    lines.push(`| ${row.what} | ${row.value} | ${row.baseline ?? ''} | ${row.ratio ?? ''} | ${row.target ?? ''} | ${met} |`);
    if (row.note) lines.push(`| ↳ ${row.note} | | | | | |`);
  }
  return lines.join('\n') + '\n';
}

/** A horizontal bar chart (log scale) of latency medians, as a small standalone SVG. */
export function latencyChart(bars: { label: string; value: number }[], title: string): string {
  const width = 760;
  const rowH = 34;
  const left = 300;
  const height = 60 + bars.length * rowH;
  const max = Math.max(...bars.map((b) => b.value));
  const min = Math.min(...bars.map((b) => b.value), 0.1);
  const scale = (v: number): number => ((Math.log10(v) - Math.log10(min / 2)) / (Math.log10(max * 1.2) - Math.log10(min / 2))) * (width - left - 90);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = bars
    .map((b, i) => {
      const y = 45 + i * rowH;
      const w = Math.max(2, scale(b.value));
      return `<text x="${left - 10}" y="${y + 17}" text-anchor="end">${esc(b.label)}</text><rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="24" fill="${i % 2 ? '#8aa1c1' : '#2f5d8a'}"/><text x="${left + w + 6}" y="${y + 17}">${esc(ms(b.value))}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="12" y="24" font-size="15" font-weight="bold">${esc(title)}</text>
${rows}
</svg>
`;
}
