import { createHash } from 'node:crypto';

/**
 * Rows whose sha256(text) starts with a byte below this go to the tuning split (77/256 ≈ 30%).
 * Fixed here so every run of the harness, and every engineer, sees the same split.
 */
export const TUNING_BYTE_LIMIT = 77;

/** The split a row belongs to: `tuning` may be looked at and tuned on; `reported` is only ever measured. */
export type Split = 'tuning' | 'reported';

/** True when the row with this text belongs to the tuning split. Deterministic: sha256 of the UTF-8 text. */
export function isTuning(text: string): boolean {
  const first = createHash('sha256').update(text, 'utf8').digest()[0] ?? 0;
  return first < TUNING_BYTE_LIMIT;
}

/** The split name for a row's text. */
export function splitOf(text: string): Split {
  return isTuning(text) ? 'tuning' : 'reported';
}
