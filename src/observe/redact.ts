/**
 * Redaction of secrets before anything reaches the ledger or telemetry. Built-in patterns cover the
 * common credential formats; `ledger.redact` adds more. Keys that name secrets are redacted whatever
 * their value looks like.
 */

/** Placeholder that replaces a redacted value. */
export const REDACTED = '[REDACTED]';

const BUILTIN_PATTERNS: readonly string[] = [
  // Private keys in PEM.
  '-----BEGIN [A-Z ]*PRIVATE KEY-----[\\s\\S]*?-----END [A-Z ]*PRIVATE KEY-----',
  // AWS access key ids.
  '\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b',
  // GitHub tokens.
  '\\bgh[pousr]_[A-Za-z0-9]{36,255}\\b',
  '\\bgithub_pat_[A-Za-z0-9_]{22,255}\\b',
  // OpenAI / Anthropic style keys.
  '\\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}\\b',
  // Slack tokens.
  '\\bxox[abposr]-[A-Za-z0-9-]{10,}\\b',
  // Stripe keys.
  '\\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\\b',
  // Google API keys.
  '\\bAIza[0-9A-Za-z_-]{35}\\b',
  // JSON web tokens.
  '\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\b',
  // Bearer tokens in headers.
  '(?<=\\b[Bb]earer\\s)[A-Za-z0-9._~+/=-]{16,}',
  // Passwords in URLs (user:password@host).
  '(?<=://[^/\\s:@]{1,64}:)[^@\\s/]{1,256}(?=@)',
];

const BUILTIN_KEYS: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'authorization',
  'privatekey',
  'private_key',
  'clientsecret',
  'client_secret',
  'cookie',
  'sessiontoken',
];

/** Limits that keep redaction bounded on hostile input. */
const MAX_DEPTH = 32;
const MAX_STRING = 64 * 1024;
const MAX_NODES = 10_000;

/** Options for a redactor. */
export interface RedactorOptions {
  /** Extra regular expressions (source text). */
  patterns?: readonly string[];
  /** Extra key names (case-insensitive) whose values are always redacted. */
  keys?: readonly string[];
  /** Literal secret values known at run time (credentials the gateway injects). */
  literals?: readonly string[];
}

/**
 * Replaces secrets in JSON-like values. Large or deep values are truncated with a marker rather than
 * stored whole: the ledger is evidence, not a data lake, and must stay bounded.
 */
export class Redactor {
  private readonly pattern: RegExp;
  private readonly keys: Set<string>;
  private literals: string[];

  constructor(options: RedactorOptions = {}) {
    const all = [...BUILTIN_PATTERNS, ...(options.patterns ?? [])];
    for (const p of options.patterns ?? []) {
      // Validate each user pattern on its own so the error names it.
      try {
        new RegExp(p, 'g');
      } catch (cause) {
        throw new TypeError(`ledger.redact pattern ${JSON.stringify(p)} is not a valid regular expression`, {
          cause,
        });
      }
    }
    this.pattern = new RegExp(all.map((p) => `(?:${p})`).join('|'), 'g');
    this.keys = new Set([...BUILTIN_KEYS, ...(options.keys ?? [])].map((k) => k.toLowerCase()));
    this.literals = (options.literals ?? []).filter((l) => l.length >= 4);
  }

  /** Adds secret values to redact from now on (for example credentials loaded at start). */
  addLiterals(values: readonly string[]): void {
    this.literals = [...this.literals, ...values.filter((v) => v.length >= 4)];
  }

  /** Redacts one string. */
  text(value: string): string {
    let out =
      value.length > MAX_STRING
        ? value.slice(0, MAX_STRING) + `…[truncated ${value.length - MAX_STRING} chars]`
        : value;
    for (const literal of this.literals) {
      if (out.includes(literal)) out = out.split(literal).join(REDACTED);
    }
    this.pattern.lastIndex = 0;
    return this.pattern.test(out) ? out.replace(this.pattern, REDACTED) : out;
  }

  /** Redacts a JSON-like value, returning a new value. Non-JSON leaves become descriptive strings. */
  value(input: unknown): unknown {
    const budget = { nodes: 0 };
    return this.walk(input, 0, budget);
  }

  private walk(input: unknown, depth: number, budget: { nodes: number }): unknown {
    if (++budget.nodes > MAX_NODES) return '[truncated: too many values]';
    if (input === null || input === undefined) return input ?? null;
    switch (typeof input) {
      case 'string':
        return this.text(input);
      case 'number':
        return Number.isFinite(input) ? input : String(input);
      case 'boolean':
        return input;
      case 'bigint':
        return input.toString();
      case 'object': {
        if (depth >= MAX_DEPTH) return '[truncated: nested too deeply]';
        if (Array.isArray(input)) return input.map((v: unknown) => this.walk(v, depth + 1, budget));
        if (input instanceof Date) return input.toISOString();
        if (input instanceof Uint8Array) return `[${input.byteLength} bytes]`;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
          out[k] =
            this.keys.has(k.toLowerCase()) && v !== null && v !== undefined && v !== ''
              ? REDACTED
              : this.walk(v, depth + 1, budget);
        }
        return out;
      }
      default:
        return `[${typeof input}]`;
    }
  }
}
