import type { TestEngine } from '../../test/support/engines.ts';
import type { DaemonHandle } from '../../test/support/daemon-process.ts';
import type { Row } from '../lib/report.ts';
import { clientsSection } from './clients.ts';
import { plotSection } from './plot.ts';
import { shimSection } from './shim.ts';
import { tokensSection } from './tokens.ts';
import { toolCallsSection } from './toolcalls.ts';
import { workflowSection } from './workflow.ts';

export interface SectionContext {
  engine: TestEngine;
  daemon: DaemonHandle;
  rows: Row[];
  results: Record<string, unknown>;
  chart: { label: string; value: number }[];
  n: number;
  log: (line: string) => void;
  root: string;
  /** The folder of the 50-file workflow, served by the daemon's `filesystem` server. */
  workflowDir: string;
}

export interface Section {
  name: string;
  run(ctx: SectionContext): Promise<void>;
}

/** Sections that run against the shared daemon, in order, after the warm-latency figures. */
export const extraSections: Section[] = [shimSection, toolCallsSection, tokensSection, clientsSection, workflowSection, plotSection];
