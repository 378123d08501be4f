// The TypeScript twin of packages/sandbox/src/mcp/aliases.py; both are checked against
// packages/sandbox/tests/alias_cases.json. The daemon computes the aliases it sends in `execute`
// frames, so the two must agree exactly.

// Frozen rather than taken from a Python version: only the lower-case keywords survive rule 2.
// `__peg_parser__` is a keyword of Python 3.9 only, which a sandbox image may still run.
export const KEYWORDS: ReadonlySet<string> = new Set(
  'and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield __peg_parser__'.split(
    ' ',
  ),
);

const NON_IDENTIFIER = /[^0-9A-Za-z_]+/g;

/** Rules 1 to 4: runs of non-identifier characters to `_`, ASCII lower case, `_` before a leading digit, `_` after a keyword. */
export function toIdentifier(name: string): string {
  let alias = name.replace(NON_IDENTIFIER, '_').toLowerCase();
  if (alias === '') return '_';
  if (/^[0-9]/.test(alias)) alias = `_${alias}`;
  if (KEYWORDS.has(alias)) alias += '_';
  return alias;
}

/** All five rules: one alias per name, in order; a repeated alias takes the first free `_2`, `_3`... */
export function makeAliases(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((name) => {
    const base = toIdentifier(name);
    let alias = base;
    for (let n = 2; taken.has(alias); n++) alias = `${base}_${n}`;
    taken.add(alias);
    return alias;
  });
}
