import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Logger } from 'pino';
import { RpcFailure } from '../rpc/rpc-failure.js';

// ajv-formats is CommonJS: under NodeNext its default import is the module object's default.
const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2019 | Ajv2020) => unknown;

/** The part of an MCP tool the check needs. */
export interface CheckedTool {
  name: string;
  inputSchema?: Record<string, unknown>;
}

const MAX_REPORTED = 3;

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** `/items/0/name` -> `items[0].name`, the way Python code would write the path. */
function fieldOf(error: ErrorObject): string {
  return error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function valueAt(args: unknown, error: ErrorObject): unknown {
  let value = args;
  for (const part of error.instancePath.split('/').slice(1)) value = (value as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return value;
}

/** One ajv error as a sentence that names the argument and what was expected. */
function explain(error: ErrorObject, args: unknown): string {
  const field = fieldOf(error);
  const prefix = field ? `argument ${JSON.stringify(field)}` : 'arguments';
  const value = valueAt(args, error);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `missing required argument ${JSON.stringify(field ? `${field}.${String(params.missingProperty)}` : String(params.missingProperty))}`;
    case 'additionalProperties':
      return `unknown argument ${JSON.stringify(field ? `${field}.${String(params.additionalProperty)}` : String(params.additionalProperty))}`;
    case 'type':
      return `${prefix}: expected ${String(params.type)}, got ${typeName(value)} ${shown(value)}`;
    case 'enum':
      return `${prefix}: expected one of ${(params.allowedValues as unknown[]).map(shown).join(', ')}, got ${shown(value)}`;
    case 'const':
      return `${prefix}: expected ${shown(params.allowedValue)}, got ${shown(value)}`;
    default:
      return `${prefix} ${error.message ?? 'is invalid'}${value !== undefined && typeof value !== 'object' ? `, got ${shown(value)}` : ''}`;
  }
}

/**
 * Checks tool arguments against the tool's input schema before the call leaves the daemon, so
 * that sandbox code gets an error naming the argument rather than whatever the server says (or
 * worse, a server that guesses). A schema ajv cannot compile is not enforced: the server still
 * checks its own input, and refusing every call to it would be worse.
 */
export class ArgumentValidator {
  private readonly draft7 = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  private readonly draft2019 = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
  private readonly draft2020 = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  // Keyed by the schema object of the cached tool list: a refreshed list compiles afresh.
  private readonly compiled = new WeakMap<object, ValidateFunction | null>();

  constructor(private readonly log?: Logger) {
    for (const ajv of [this.draft7, this.draft2019, this.draft2020]) addFormats(ajv);
  }

  private compile(schema: Record<string, unknown>, where: string): ValidateFunction | null {
    const known = this.compiled.get(schema);
    if (known !== undefined) return known;
    const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
    const ajv = dialect.includes('2020-12') ? this.draft2020 : dialect.includes('2019-09') ? this.draft2019 : this.draft7;
    let validate: ValidateFunction | null;
    try {
      // $id would register the schema globally in ajv; two servers may reuse one id.
      const { $id: _id, ...anonymous } = schema;
      validate = ajv.compile(anonymous);
    } catch (err) {
      this.log?.warn({ tool: where, err: (err as Error).message }, 'input schema not usable for checking; arguments go to the server unchecked');
      validate = null;
    }
    this.compiled.set(schema, validate);
    return validate;
  }

  /** Throws RpcFailure('invalid_arguments') naming the argument(s) and what was expected. */
  check(server: string, tool: CheckedTool, args: Record<string, unknown>): void {
    const schema = tool.inputSchema;
    if (!schema || typeof schema !== 'object') return;
    const validate = this.compile(schema, `${server}.${tool.name}`);
    if (!validate || validate(args)) return;
    const errors = (validate.errors ?? []).filter((e) => !['if', 'then', 'else'].includes(e.keyword));
    // Unknown top-level arguments become one reason that lists what the tool does take.
    const unknown = errors.filter((e) => e.keyword === 'additionalProperties' && e.instancePath === '').map((e) => JSON.stringify(String(e.params.additionalProperty)));
    const reasons = [...new Set(errors.filter((e) => !(e.keyword === 'additionalProperties' && e.instancePath === '')).map((e) => explain(e, args)))];
    if (unknown.length > 0) {
      const properties = schema.properties && typeof schema.properties === 'object' ? Object.keys(schema.properties) : undefined;
      const takes = properties ? ` (it takes: ${properties.join(', ') || 'no arguments'})` : '';
      reasons.push(`unknown argument${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}${takes}`);
    }
    const listed = reasons.slice(0, MAX_REPORTED).join('; ');
    const more = reasons.length > MAX_REPORTED ? ` (and ${reasons.length - MAX_REPORTED} more)` : '';
    throw new RpcFailure('invalid_arguments', `invalid arguments for ${server}.${tool.name}: ${listed}${more}`);
  }
}
