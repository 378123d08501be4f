import type { TestEngine } from '../../test/helpers/engines.ts';
import type { DaemonHandle } from '../../test/helpers/daemon-process.ts';
import type { Row } from '../lib/report.ts';
import { tokensSection } from './tokens.ts';

export interface SectionContext {
  engine: TestEngine;
  daemon: DaemonHandle;
  rows: Row[];
  results: Record<string, unknown>;
  chart: { label: string; value: number }[];
  n: number;
  log: (line: string) => void;
  root: string;
}

export interface Section {
  name: string;
  run(ctx: SectionContext): Promise<void>;
}

/** Sections that run against the shared daemon, in order, after the warm-latency figures. */
export const extraSections: Section[] = [tokensSection];
