import type { z } from 'zod';

export interface IssueFormat {
  /** What to call the value itself when an issue has no path (`params`, `body`, `frame`). */
  root?: string;
  /** Only the first issue (a run's validation message names one thing to fix). */
  first?: boolean;
}

/**
 * A zod error as one line that names each field: `servers.0: Too small; timeout: ...`. The one
 * formatter of the project: every refusal of bad input reads the same way wherever it comes from.
 */
export function formatIssues(error: z.ZodError, format: IssueFormat = {}): string {
  const issues = format.first ? error.issues.slice(0, 1) : error.issues;
  return issues
    .map((issue) => {
      const field = issue.path.map(String).join('.');
      const at = field || format.root;
      const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
      return at ? `${at}: ${message}` : message;
    })
    .join('; ');
}
