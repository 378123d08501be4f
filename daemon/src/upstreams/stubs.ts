// Python stub source for a server's tools: the TypeScript twin of the text part of
// packages/sandbox/src/mcp/stubs.py, whose docstring states the rules. Both are checked against
// packages/protocol/fixtures/stubs/cases.json, so the stub the daemon serves as a resource is
// the very text that `query_tool_docs(server, detail="stub")` gives inside the sandbox.
import { KEYWORDS } from './aliases.js';

/** A server as the daemon sends it in `execute` (ServerInfo), null descriptions allowed. */
export interface StubServer {
  name: string;
  alias: string;
  description?: string | null | undefined;
  tools: readonly StubTool[];
}

export interface StubTool {
  name: string;
  alias: string;
  description?: string | null | undefined;
  inputSchema?: Record<string, unknown> | null | undefined;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;

const PYTHON_KEYWORDS = new Set([...KEYWORDS, 'False', 'None', 'True']);
const TYPING_NAMES = new Set(['Any', 'Dict', 'List', 'Literal', 'Optional', 'Required', 'TypedDict', 'Union']);
const MODULE_NAMES = ['SERVER_NAME', 'TOOLS', 'TOOL_MAP'];
// Each constraint key and how the docstring writes it before the value.
const CONSTRAINTS: [string, string][] = [
  ['format', 'format='],
  ['pattern', 'pattern='],
  ['minimum', '>='],
  ['maximum', '<='],
  ['exclusiveMinimum', '>'],
  ['exclusiveMaximum', '<'],
  ['minLength', 'len>='],
  ['maxLength', 'len<='],
  ['minItems', 'items>='],
  ['maxItems', 'items<='],
];
/** Continuation lines of a tool's docstring (cleandoc takes any common indentation off again). */
export const DOC_INDENT = ' ';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LOCAL_REF = /^#\/(\$defs|definitions)\/([^/]+)$/;
// What Python's str.isprintable() refuses: categories Other and Separator, except the space.
const NOT_PRINTABLE = /[\p{C}\p{Z}]/u;
const JS_INTEGER_LIMIT = 1e21;

const isObject = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const isSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdfff;
const hex = (code: number, width: number): string => code.toString(16).padStart(width, '0');

// ---- values as Python writes them ---------------------------------------------------------

function reprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (code < 0x7f) out += ch;
    else if (ch !== ' ' && NOT_PRINTABLE.test(ch)) out += code <= 0xff ? `\\x${hex(code, 2)}` : code <= 0xffff ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's repr of a float, from JavaScript's shortest digits. */
function reprFloat(value: number): string {
  const [mantissa, exponent] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const point = Number(exponent) + 1; // the decimal point's position after the first digit's
  let text: string;
  if (point > -4 && point <= 16) {
    if (point <= 0) text = `0.${'0'.repeat(-point)}${digits}`;
    else if (point < digits.length) text = `${digits.slice(0, point)}.${digits.slice(point)}`;
    else text = `${digits}${'0'.repeat(point - digits.length)}.0`;
  } else {
    const e = point - 1;
    text = `${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return value < 0 ? `-${text}` : text;
}

/** Python's repr of a JSON value as the sandbox receives it (integral numbers below 1e21 are ints). */
export function pyrepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < JS_INTEGER_LIMIT ? String(value) : reprFloat(value);
  if (typeof value === 'string') return reprString(value);
  if (Array.isArray(value)) return `[${value.map(pyrepr).join(', ')}]`;
  if (isObject(value)) return `{${Object.entries(value).map(([k, v]) => `${reprString(k)}: ${pyrepr(v)}`).join(', ')}}`;
  return 'None';
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    isObject(item) ? Object.fromEntries(Object.keys(item).sort().map((k) => [k, item[k]])) : item,
  );
}

function literalAble(value: unknown): boolean {
  return value === null || typeof value === 'boolean' || typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < JS_INTEGER_LIMIT);
}

function oneLine(text: string): string {
  let replaced = '';
  for (const ch of text) replaced += isSurrogate(ch.codePointAt(0)!) ? '\ufffd' : ch;
  return replaced.replace(/[\x00-\x20\x7f]+/g, ' ').replace(/^ +| +$/g, '');
}

/** Tabs to spaces (a tab's width would depend on the docstring's indentation); ASCII blanks trimmed. */
export function cleanDoc(text: string): string {
  return text.replace(/\t/g, ' ').replace(/^[ \n\r\v\f]+|[ \n\r\v\f]+$/g, '');
}

function escapeDoc(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n' || ch === '\t') out += ch;
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${hex(code, 2)}`;
    else if (isSurrogate(code)) out += `\\u${hex(code, 4)}`;
    else out += ch;
  }
  return out.replace(/"""/g, '""\\"');
}

/** `text` as a docstring literal whose lines after the first are at `indent` and which closes on its last line; inspect.cleandoc gives `text` back. */
export function docstringSource(text: string, indent: string): string {
  // A closing quote of the text must not meet the closing quotes: escaped apart from the rest, so
  // that it cannot join an escaped triple quote before it either.
  const quoted = text.endsWith('"');
  const lines = (escapeDoc(quoted ? text.slice(0, -1) : text) + (quoted ? '\\"' : '')).split('\n');
  return `"""${[lines[0], ...lines.slice(1).map((line) => (line ? indent + line : ''))].join('\n')}"""`;
}

/** `entity_type` -> `EntityType`: a class name from any property name (ASCII only). */
export function camel(text: string): string {
  const name =
    text
      .split(/[^A-Za-z0-9]+/)
      .filter(Boolean)
      .map((part) => part[0]!.toUpperCase() + part.slice(1))
      .join('') || 'Object';
  return /^[0-9]/.test(name) ? `T${name}` : name;
}

const isIdentifier = (name: string): boolean => IDENTIFIER.test(name) && !PYTHON_KEYWORDS.has(name);

/** A parameter name per property: itself when it is an identifier, else a numbered alias. */
export function parameterAliases(names: readonly string[]): string[] {
  const taken = new Set(names.filter(isIdentifier));
  return names.map((name) => {
    if (isIdentifier(name)) return name;
    let base = name.replace(/[^A-Za-z0-9_]+/g, '_') || '_';
    if (/^[0-9]/.test(base)) base = `_${base}`;
    if (PYTHON_KEYWORDS.has(base)) base += '_';
    let alias = base;
    for (let n = 2; taken.has(alias); n++) alias = `${base}_${n}`;
    taken.add(alias);
    return alias;
  });
}

// ---- annotations ----------------------------------------------------------------------------

interface Annotation {
  text: string;
  nullable: boolean;
  /** Union members (the annotation itself when it is none). */
  parts?: Annotation[];
  /** Names it needs: typing names and TypedDicts. */
  uses: string[];
}

const ANY: Annotation = { text: 'Any', nullable: true, uses: ['Any'] };
const NONE: Annotation = { text: 'None', nullable: true, uses: [] };
const SCALARS: Record<string, Annotation> = {
  string: { text: 'str', nullable: false, uses: [] },
  integer: { text: 'int', nullable: false, uses: [] },
  number: { text: 'float', nullable: false, uses: [] },
  boolean: { text: 'bool', nullable: false, uses: [] },
  null: NONE,
};

const partsOf = (a: Annotation): Annotation[] => a.parts ?? [a];
const uniq = (names: string[]): string[] => [...new Set(names)];

function literal(values: readonly unknown[]): Annotation {
  const kept = new Map<string, unknown>();
  for (const value of values) {
    const key = `${value === null ? 'null' : typeof value}:${JSON.stringify(value)}`;
    if (!kept.has(key)) kept.set(key, value);
  }
  const list = [...kept.values()];
  return { text: `Literal[${list.map(pyrepr).join(', ')}]`, nullable: list.includes(null), uses: ['Literal'] };
}

export function union(members: readonly Annotation[]): Annotation {
  const parts: Annotation[] = [];
  for (const member of members) for (const part of partsOf(member)) if (parts.every((kept) => kept.text !== part.text)) parts.push(part);
  if (parts.some((part) => part.text === 'Any')) return ANY;
  const rest = parts.filter((part) => part.text !== 'None');
  const hasNone = rest.length < parts.length;
  if (rest.length === 0) return NONE;
  if (rest.length === 1 && !hasNone) return rest[0]!;
  const uses = uniq(rest.flatMap((part) => part.uses));
  if (rest.length === 1) return { text: `Optional[${rest[0]!.text}]`, nullable: true, parts: [rest[0]!, NONE], uses: uniq(['Optional', ...uses]) };
  return {
    text: `Union[${rest.map((part) => part.text).join(', ')}${hasNone ? ', None' : ''}]`,
    nullable: hasNone || rest.some((part) => part.nullable),
    parts: hasNone ? [...rest, NONE] : rest,
    uses: uniq(['Union', ...uses]),
  };
}

/** A property's description and constraints on one line, for docstrings and comments. */
export function note(schema: unknown): string {
  if (!isObject(schema)) return '';
  const parts: string[] = [];
  if (typeof schema.description === 'string' && oneLine(schema.description)) parts.push(oneLine(schema.description));
  const constraints = CONSTRAINTS.filter(([key]) => key in schema).map(([key, prefix]) => prefix + pyrepr(schema[key]));
  if (constraints.length > 0) parts.push(`(${constraints.join(', ')})`);
  return parts.join(' ');
}

interface TypedDictStub {
  name: string;
  source: string;
  needs: string[];
}

interface Context {
  toolAlias: string;
  root: Schema;
  index: number;
  stack: string[];
}

const isNull = (schema: unknown): boolean => isObject(schema) && schema.type === 'null';
const requiredOf = (schema: Schema): Set<string> => new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);

// ---- tools ------------------------------------------------------------------------------------

interface ToolStub {
  name: string;
  alias: string;
  signature: string;
  source: string;
  needs: string[];
}

class ServerStubBuilder {
  private readonly taken: Set<string>;
  private readonly byKey = new Map<string, TypedDictStub>();
  readonly typedDicts: TypedDictStub[] = [];
  readonly uses = new Set<string>();
  readonly tools: ToolStub[];

  constructor(readonly server: StubServer) {
    this.taken = new Set([...PYTHON_KEYWORDS, ...TYPING_NAMES, ...MODULE_NAMES, ...server.tools.map((t) => t.alias)]);
    this.tools = server.tools.map((tool, index) => this.tool(tool, index));
  }

  private tool(tool: StubTool, index: number): ToolStub {
    const schema = tool.inputSchema;
    const items: string[] = [];
    const aliases: string[] = [];
    const docLines: string[] = [];
    const needs = new Set<string>();
    let varKeyword: Annotation | undefined;
    if (!isObject(schema)) {
      varKeyword = ANY;
    } else {
      const context: Context = { toolAlias: tool.alias, root: schema, index, stack: [] };
      const properties = schema.properties;
      const required = requiredOf(schema);
      if (isObject(properties)) {
        const names = Object.keys(properties);
        parameterAliases(names).forEach((alias, i) => {
          const prop = names[i]!;
          const propSchema = properties[prop];
          const annotation = this.annotation(propSchema, camel(prop), context);
          const isRequired = required.has(prop);
          const fallback = isObject(propSchema) ? propSchema.default : undefined;
          const schemaDefault = !isRequired && fallback !== undefined && fallback !== null;
          // `= None` without Optional: None means "not sent" (Optional only when the schema allows null).
          items.push(`${alias}: ${annotation.text}${isRequired ? '' : ` = ${schemaDefault ? pyrepr(fallback) : 'None'}`}`);
          aliases.push(alias);
          this.noteUses(annotation, needs);
          let text = note(propSchema);
          if (alias !== prop) text = `(sent as ${pyrepr(prop)}) ${text}`.replace(/ +$/, '');
          if (text) docLines.push(`${alias}: ${text}`);
        });
      }
      const extra = schema.additionalProperties;
      if (!isObject(properties) || extra === true) varKeyword = ANY;
      else if (isObject(extra)) varKeyword = this.annotation(extra, `${camel(tool.alias)}Value`, context);
    }
    if (varKeyword) {
      let name = 'kwargs';
      while (aliases.includes(name)) name += '_';
      items.push(`**${name}: ${varKeyword.text}`);
      this.noteUses(varKeyword, needs);
    }
    if (aliases.length > 0) items.unshift('*');
    const signature = `(${items.join(', ')})`;
    let doc = cleanDoc(tool.description ?? '');
    if (docLines.length > 0) doc = (doc ? `${doc}\n\n` : '') + docLines.join('\n');
    doc ||= `MCP tool ${pyrepr(tool.name)} of server ${pyrepr(this.server.name)}.`;
    return {
      name: tool.name,
      alias: tool.alias,
      signature,
      source: `async def ${tool.alias}${signature}: ${docstringSource(doc, DOC_INDENT)}`,
      needs: this.typedDicts.map((t) => t.name).filter((name) => needs.has(name)),
    };
  }

  private noteUses(annotation: Annotation, needs: Set<string>): void {
    for (const name of annotation.uses) {
      if (TYPING_NAMES.has(name)) {
        this.uses.add(name);
      } else {
        needs.add(name);
        for (const inner of this.typedDict(name).needs) needs.add(inner);
      }
    }
  }

  private typedDict(name: string): TypedDictStub {
    return this.typedDicts.find((t) => t.name === name)!;
  }

  private annotation(schema: unknown, hint: string, context: Context): Annotation {
    if (!isObject(schema)) return ANY;
    if (typeof schema.$ref === 'string') return this.ref(schema.$ref, context);
    if ('const' in schema && literalAble(schema.const)) return literal([schema.const]);
    const values = schema.enum;
    if (Array.isArray(values) && values.length > 0 && values.every(literalAble)) return literal(values);
    for (const key of ['anyOf', 'oneOf'] as const) {
      const members = schema[key];
      if (Array.isArray(members) && members.length > 0) {
        const several = members.filter((m) => !isNull(m)).length > 1;
        return union(members.map((m, i) => this.annotation(m, several ? `${hint}Option${i + 1}` : hint, context)));
      }
    }
    const kind = schema.type;
    if (Array.isArray(kind)) return kind.length > 0 ? union(kind.map((k) => this.typed(schema, k, hint, context))) : ANY;
    if (typeof kind === 'string') return this.typed(schema, kind, hint, context);
    if (isObject(schema.properties)) return this.typed(schema, 'object', hint, context);
    if ('items' in schema) return this.typed(schema, 'array', hint, context);
    if (Array.isArray(schema.allOf) && schema.allOf.length === 1) return this.annotation(schema.allOf[0], hint, context);
    return ANY;
  }

  private typed(schema: Schema, kind: unknown, hint: string, context: Context): Annotation {
    if (typeof kind !== 'string') return ANY;
    if (Object.hasOwn(SCALARS, kind)) return SCALARS[kind]!;
    if (kind === 'array') {
      const item = isObject(schema.items) ? this.annotation(schema.items, `${hint}Item`, context) : ANY;
      return { text: `List[${item.text}]`, nullable: false, uses: uniq(['List', ...item.uses]) };
    }
    if (kind === 'object') {
      const properties = schema.properties;
      if (isObject(properties) && Object.keys(properties).length > 0) return this.object(schema, properties, hint, context);
      const value = isObject(schema.additionalProperties) ? this.annotation(schema.additionalProperties, `${hint}Value`, context) : ANY;
      return { text: `Dict[str, ${value.text}]`, nullable: false, uses: uniq(['Dict', ...value.uses]) };
    }
    return ANY;
  }

  private ref(ref: string, context: Context): Annotation {
    const match = LOCAL_REF.exec(ref);
    if (!match || context.stack.includes(ref)) return ANY;
    const definitions = context.root[match[1]!];
    const key = match[2]!.replace(/~1/g, '/').replace(/~0/g, '~');
    const target = isObject(definitions) && Object.hasOwn(definitions, key) ? definitions[key] : undefined;
    if (!isObject(target)) return ANY;
    context.stack.push(ref);
    try {
      return this.annotation(target, camel(key), context);
    } finally {
      context.stack.pop();
    }
  }

  private object(schema: Schema, properties: Schema, hint: string, context: Context): Annotation {
    // Equal schemas under one name share a TypedDict; refs resolve against their own tool's definitions.
    let key = `${hint}:${canonical(schema)}`;
    if (key.includes('"$ref":')) key = `${context.index}:${key}`;
    let known = this.byKey.get(key);
    if (!known) {
      known = this.define(schema, properties, hint, context);
      this.byKey.set(key, known);
    }
    return { text: known.name, nullable: false, uses: [known.name] };
  }

  private define(schema: Schema, properties: Schema, hint: string, context: Context): TypedDictStub {
    const required = requiredOf(schema);
    const fields = Object.entries(properties).map(([prop, value]) => ({ prop, annotation: this.annotation(value, camel(prop), context), required: required.has(prop), comment: note(value) }));
    const total = fields.every((f) => f.required);
    const name = this.name(hint, context.toolAlias);
    const needs = new Set<string>();
    const classForm = fields.every((f) => isIdentifier(f.prop));
    const lines = fields.map(({ prop, annotation, required: isRequired, comment }) => {
      for (const used of annotation.uses) {
        if (TYPING_NAMES.has(used)) {
          this.uses.add(used);
        } else {
          for (const inner of this.typedDict(used).needs) needs.add(inner);
          needs.add(used);
        }
      }
      let text = annotation.text;
      if (!total && isRequired) {
        this.uses.add('Required');
        text = `Required[${text}]`;
      }
      const tail = comment ? `  # ${comment}` : '';
      return classForm ? `    ${prop}: ${text}${tail}` : `    ${reprString(prop)}: ${text},${tail}`;
    });
    this.uses.add('TypedDict');
    const source = classForm
      ? `class ${name}(TypedDict${total ? '' : ', total=False'}):\n${lines.join('\n')}`
      : `${name} = TypedDict(${reprString(name)}, {\n${lines.join('\n')}\n}${total ? '' : ', total=False'})`;
    const stub = { name, source, needs: [...needs] };
    this.typedDicts.push(stub);
    return stub;
  }

  private name(hint: string, toolAlias: string): string {
    const base = this.taken.has(hint) ? camel(toolAlias) + hint : hint;
    let name = base;
    for (let n = 2; this.taken.has(name); n++) name = `${base}${n}`;
    this.taken.add(name);
    return name;
  }
}

/**
 * The whole server as a Python stub module (`resource://mcp-code-mode/servers/<alias>.pyi`):
 * a docstring naming the proxy, the typing imports, the TypedDicts, one `async def` per tool.
 */
export function serverStub(server: StubServer): string {
  const built = new ServerStubBuilder(server);
  const description = cleanDoc(server.description ?? '');
  const head = `MCP server ${pyrepr(server.name)}: await mcp_${server.alias}.<tool>(...)`;
  const blocks = [
    docstringSource(head + (description ? `\n\n${description}` : ''), ''),
    ...(built.uses.size > 0 ? [`from typing import ${[...built.uses].sort().join(', ')}`] : []),
    ...built.typedDicts.map((t) => t.source),
    ...built.tools.map((t) => t.source),
  ];
  return `${blocks.join('\n\n')}\n`;
}

/** Each tool's signature as the stub writes it after `async def <alias>`, by tool name. */
export function toolSignatures(server: StubServer): Map<string, string> {
  return new Map(new ServerStubBuilder(server).tools.map((t) => [t.name, t.signature]));
}
