import { createHash } from 'node:crypto';

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped, non-finite numbers and
 * other non-JSON values rejected. Two equal values always give the same string, so digests of tool
 * arguments and ledger records do not depend on key order.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

const MAX_DEPTH = 256;

function write(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new TypeError('value is nested too deeply to canonicalise');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('non-finite number is not JSON');
      return JSON.stringify(value);
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (Array.isArray(value))
        return '[' + value.map((v: unknown) => write(v ?? null, depth + 1)).join(',') + ']';
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function')
        .sort();
      return '{' + keys.map((k) => JSON.stringify(k) + ':' + write(obj[k], depth + 1)).join(',') + '}';
    }
    default:
      throw new TypeError(`a ${typeof value} is not JSON`);
  }
}

/** SHA-256 of a string, hex. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Digest of a value's canonical JSON. */
export function digest(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
