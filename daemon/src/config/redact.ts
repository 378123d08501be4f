import type { ServerConfig } from './schema.js';

const MASK = '***';
// Values shorter than this are too likely to occur by chance ("1", "true", "dev") to be masked.
const MIN_SECRET_LENGTH = 4;
// `scheme://user:password@host`: the common way a password ends up in args or a url.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)@/gi;

/** Every value of a server's config that may be a secret: env values, header values, url credentials. */
export function secretsOf(config: ServerConfig): string[] {
  const values = config.transport === 'stdio' ? Object.values(config.env) : Object.values(config.headers);
  const secrets = new Set<string>();
  for (const value of values) {
    secrets.add(value);
    // `Authorization: Bearer abc` also leaks as `abc` alone.
    const token = /^\S+\s+(\S+)$/.exec(value)?.[1];
    if (token) secrets.add(token);
  }
  if (config.transport !== 'stdio') {
    try {
      const url = new URL(config.url);
      if (url.password) secrets.add(decodeURIComponent(url.password));
      for (const value of url.searchParams.values()) secrets.add(value);
    } catch {
      // The schema already checked the scheme; an unparsable url has no credentials to find.
    }
  }
  return [...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** `text` with every secret and every url password replaced by `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text.replace(URL_CREDENTIALS, `$1${MASK}@`);
  for (const secret of secrets) if (masked.includes(secret)) masked = masked.split(secret).join(MASK);
  return masked;
}

/** A config safe to print or return: env and header names with their values masked. */
export function publicConfig(config: ServerConfig): Record<string, unknown> {
  if (config.transport === 'stdio') {
    return {
      transport: 'stdio',
      command: maskSecrets(config.command, []),
      args: config.args.map((a) => maskSecrets(a, [])),
      env: Object.fromEntries(Object.keys(config.env).map((k) => [k, MASK])),
      ...(config.cwd !== undefined ? { cwd: config.cwd } : {}),
    };
  }
  return {
    transport: config.transport,
    url: maskSecrets(config.url, secretsOf(config)),
    headers: Object.fromEntries(Object.keys(config.headers).map((k) => [k, MASK])),
  };
}
