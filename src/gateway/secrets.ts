/**
 * Credentials for upstream servers. They come from the gateway's own environment or from the store, never
 * from the client's messages; once read they are added to the ledger redactor and stripped from every
 * message the gateway passes to the client, so neither the ledger nor the model ever holds them.
 */
import type { SecretValue } from '../config/sections/gateway.js';
import { WardenError } from '../core/errors.js';
import { REDACTED } from '../observe/redact.js';
import type { Store } from '../store/store.js';

/** Store collection the `fromStore` references read (body `{ value: string }`). */
export const SECRET_COLLECTION = 'secrets';

/** Shortest value treated as a secret literal (shorter ones would redact ordinary text). */
const MIN_SECRET_LENGTH = 4;

/** A resolved value and whether it is a secret. */
export interface ResolvedValue {
  value: string;
  secret: boolean;
}

/** Resolves one configured value. Throws a `WardenError` naming the missing variable or document. */
export async function resolveValue(
  ref: SecretValue,
  where: string,
  env: NodeJS.ProcessEnv,
  store: Store | undefined,
): Promise<ResolvedValue> {
  if (typeof ref === 'string') return { value: ref, secret: false };
  const prefix = ref.prefix ?? '';
  if ('fromEnv' in ref) {
    const v = env[ref.fromEnv];
    if (v === undefined || v === '') {
      throw new WardenError(
        'CONFIG_INVALID',
        `${where} takes its value from the environment variable ${ref.fromEnv}, which is not set`,
        {
          hint: `export ${ref.fromEnv} in the environment that starts the gateway (the MCP client's config for a stdio gateway)`,
        },
      );
    }
    return { value: prefix + v, secret: true };
  }
  if (!store) throw new WardenError('CONFIG_INVALID', `${where} reads the store, and no store is open`);
  const doc = await store.getDoc<{ value?: unknown }>(SECRET_COLLECTION, ref.fromStore);
  const v = doc?.body?.value;
  if (typeof v !== 'string' || v === '') {
    throw new WardenError(
      'CONFIG_INVALID',
      `${where} takes its value from store document ${SECRET_COLLECTION}/${ref.fromStore}, which is missing or has no string \`value\``,
    );
  }
  return { value: prefix + v, secret: true };
}

/** Resolves a map of values (environment or headers), collecting the secret ones. */
export async function resolveValues(
  refs: Readonly<Record<string, SecretValue>>,
  where: string,
  env: NodeJS.ProcessEnv,
  store: Store | undefined,
  secrets: Set<string>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, ref] of Object.entries(refs)) {
    const r = await resolveValue(ref, `${where}.${key}`, env, store);
    out[key] = r.value;
    if (r.secret) {
      if (r.value.length >= MIN_SECRET_LENGTH) secrets.add(r.value);
      // A prefixed value (`Bearer x`) leaks the raw secret too: strip that as well.
      const raw =
        typeof ref === 'string' ? undefined : ref.prefix ? r.value.slice(ref.prefix.length) : undefined;
      if (raw !== undefined && raw.length >= MIN_SECRET_LENGTH) secrets.add(raw);
    }
  }
  return out;
}

/**
 * Replaces known secret values in strings of a JSON-like value. Returns the same object when nothing
 * matched (no copy on the hot path), a copy otherwise.
 */
export class SecretStripper {
  private literals: string[];

  constructor(literals: Iterable<string> = []) {
    this.literals = [...new Set(literals)]
      .filter((l) => l.length >= MIN_SECRET_LENGTH)
      .sort((a, b) => b.length - a.length);
  }

  /** Whether there is anything to strip. */
  get active(): boolean {
    return this.literals.length > 0;
  }

  /** Adds values to strip from now on. */
  add(values: Iterable<string>): void {
    const all = new Set<string>(this.literals);
    for (const v of values) if (v.length >= MIN_SECRET_LENGTH) all.add(v);
    this.literals = [...all].sort((a, b) => b.length - a.length);
  }

  /** Strips secrets from a string. */
  text(s: string): string {
    let out = s;
    for (const l of this.literals) if (out.includes(l)) out = out.split(l).join(REDACTED);
    return out;
  }

  /** Strips secrets from a JSON-like value. */
  value<T>(input: T): T {
    if (this.literals.length === 0) return input;
    return this.walk(input, 0) as T;
  }

  private walk(v: unknown, depth: number): unknown {
    if (typeof v === 'string') return this.text(v);
    if (typeof v !== 'object' || v === null) return v;
    if (depth > 64) {
      // Too deep to walk cheaply: if a secret is anywhere inside, the whole branch goes.
      let text: string;
      try {
        text = JSON.stringify(v);
      } catch {
        return REDACTED;
      }
      return this.literals.some((l) => text.includes(l)) ? REDACTED : v;
    }
    if (Array.isArray(v)) {
      const list = v as unknown[];
      let changed = false;
      const next = list.map((x) => {
        const n = this.walk(x, depth + 1);
        if (n !== x) changed = true;
        return n;
      });
      return changed ? next : v;
    }
    let changed = false;
    const entries = Object.entries(v as Record<string, unknown>).map(([k, x]): [string, unknown] => {
      const n = this.walk(x, depth + 1);
      const nk = this.text(k);
      if (n !== x || nk !== k) changed = true;
      return [nk, n];
    });
    return changed ? Object.fromEntries(entries) : v;
  }
}
