import { hash as oneShotHash } from 'node:crypto';
import { canonicalJson, jsonString } from '../core/canonical.js';
import { WardenError } from '../core/errors.js';
import { GENESIS_HASH, recordHash } from './hash.js';
import type { LedgerEntry, LedgerRecord, Store } from './store.js';

/** What is wrong with the first broken record of a ledger. */
export type LedgerProblem =
  /** The record's content does not hash to its stored hash: it was edited. */
  | 'hash-mismatch'
  /** The record does not point at the hash of the record before it: something before it was replaced or moved. */
  | 'prev-mismatch'
  /** The record's seq skips ahead: records before it are missing. */
  | 'seq-gap'
  /** The record's seq goes backwards or repeats: records are out of order or duplicated. */
  | 'seq-order';

/** Outcome of verifying a run of ledger records. `count` is how many records verified intact (before the first broken one). */
export type LedgerVerification =
  | { ok: true; count: number }
  | { ok: false; count: number; firstBroken: { seq: number; id: string; problem: LedgerProblem } };

/**
 * Outcome of verifying a whole store. Besides the record problems it can report `head-mismatch`: every
 * record chains correctly but the store's recorded head is somewhere else (records were cut off the end).
 * Then `seq` is the head's seq and `id` the id of the last record found (`''` when there is none).
 */
export type StoreLedgerVerification =
  | { ok: true; count: number; head: { seq: number; hash: string } | undefined }
  | {
      ok: false;
      count: number;
      firstBroken: { seq: number; id: string; problem: LedgerProblem | 'head-mismatch' };
    };

/** Where a verification starts: the record just before the first one checked. */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

const GENESIS_ANCHOR: ChainAnchor = { seq: 0, hash: GENESIS_HASH };

/**
 * Incremental chain checker: feed records in order, it stops at the first broken one. Shared by the
 * synchronous and the paging verifier so both judge a record the same way.
 */
class ChainChecker {
  count = 0;
  broken: { seq: number; id: string; problem: LedgerProblem } | undefined;
  private prevSeq: number;
  private prevHash: string;

  constructor(anchor: ChainAnchor) {
    this.prevSeq = anchor.seq;
    this.prevHash = anchor.hash;
  }

  /** Checks one record; returns false once the chain is broken. */
  feed(record: LedgerRecord): boolean {
    const problem = this.problemOf(record);
    if (problem !== undefined) {
      this.broken = { seq: record.seq, id: record.id, problem };
      return false;
    }
    this.count++;
    this.prevSeq = record.seq;
    this.prevHash = record.hash;
    return true;
  }

  get last(): ChainAnchor {
    return { seq: this.prevSeq, hash: this.prevHash };
  }

  // Order matters: position first (a missing or moved record is the more useful diagnosis), then the link to
  // the predecessor, then the record's own content.
  private problemOf(record: LedgerRecord): LedgerProblem | undefined {
    const expected = this.prevSeq + 1;
    if (!Number.isSafeInteger(record.seq) || record.seq < expected) return 'seq-order';
    if (record.seq > expected) return 'seq-gap';
    if (record.prevHash !== this.prevHash) return 'prev-mismatch';
    let actual: string;
    try {
      actual = recordHash(record, record.seq, record.prevHash);
    } catch {
      // Content that cannot even be canonicalised cannot be what was hashed.
      return 'hash-mismatch';
    }
    return actual === record.hash ? undefined : 'hash-mismatch';
  }
}

/**
 * Verifies a run of ledger records in the order given (normally `seq` order from `readLedger`). By default
 * the run must start at the beginning of the ledger; pass `from` (the seq and hash of the record before the
 * first one) to verify a later slice. Reports the first broken record and stops there.
 */
export function verifyLedger(
  records: Iterable<LedgerRecord>,
  from: ChainAnchor = GENESIS_ANCHOR,
): LedgerVerification {
  const checker = new ChainChecker(from);
  for (const record of records) {
    if (!checker.feed(record)) break;
  }
  return checker.broken === undefined
    ? { ok: true, count: checker.count }
    : { ok: false, count: checker.count, firstBroken: checker.broken };
}

/**
 * Verifies a store's whole ledger, reading it page by page so memory stays bounded, then checks that the
 * last record is the store's recorded head (which catches records cut off the end). Rejects with the
 * store's `StoreError` if the store cannot be read.
 */
export async function verifyStoreLedger(
  store: Store,
  options: { pageSize?: number } = {},
): Promise<StoreLedgerVerification> {
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? 5_000));
  // Read the head first: records appended while we page are then beyond it and do not count as a mismatch.
  const head = await store.ledgerHead();
  const checker = new ChainChecker(GENESIS_ANCHOR);
  let afterSeq = 0;
  let lastId = '';
  for (;;) {
    const page = await store.readLedger({ afterSeq, limit: pageSize });
    for (const record of page) {
      if (head !== undefined && record.seq > head.seq) break;
      if (!checker.feed(record)) {
        return {
          ok: false,
          count: checker.count,
          firstBroken: checker.broken ?? { seq: record.seq, id: record.id, problem: 'hash-mismatch' },
        };
      }
      lastId = record.id;
    }
    const lastOfPage = page.at(-1);
    if (
      page.length < pageSize ||
      lastOfPage === undefined ||
      (head !== undefined && lastOfPage.seq >= head.seq)
    )
      break;
    afterSeq = lastOfPage.seq;
  }
  const last = checker.last;
  const headSeq = head?.seq ?? 0;
  const headHash = head?.hash ?? GENESIS_HASH;
  if (last.seq !== headSeq || last.hash !== headHash) {
    return {
      ok: false,
      count: checker.count,
      firstBroken: { seq: headSeq, id: lastId, problem: 'head-mismatch' },
    };
  }
  return { ok: true, count: checker.count, head };
}

// ---------------------------------------------------------------------------------------------------------
// Building the chain. Both backends append through these two functions so they chain identically; the
// expensive, position-independent work happens in `prepareEntries`, before a backend takes its write lock.

/** An entry checked, normalised (`undefined` fields become `null`) and serialised, ready to be chained. */
export interface PreparedEntry {
  /**
   * The record to be: a snapshot of the entry (missing fields as `null`), whose `seq`, `prevHash` and `hash`
   * `chainEntries` fills in.
   */
  readonly record: LedgerRecord;
  /** Canonical JSON of `record.data`: what the backends store, and exactly what the hash covers. */
  readonly dataJson: string;
  /** The record's canonical JSON up to the value of `seq`, and from just after it. */
  readonly prefix: string;
  readonly suffix: string;
}

/**
 * Checks and serialises entries for appending. Rejects (with `INVALID_ARGUMENT`, naming the entry) a
 * missing id, type or mono, a non-finite ts, a non-string actor field or data that is not JSON.
 */
export function prepareEntries(entries: readonly LedgerEntry[]): PreparedEntry[] {
  const prepared = new Array<PreparedEntry>(entries.length);
  for (let i = 0; i < entries.length; i++) prepared[i] = prepareEntry(entries[i] as LedgerEntry, i);
  return prepared;
}

function prepareEntry(raw: LedgerEntry, index: number): PreparedEntry {
  if (raw === null || typeof raw !== 'object') invalid(`ledger entry #${index} is not an object`);
  const { id, ts, mono, type } = raw;
  if (typeof id !== 'string' || id === '') invalid(`ledger entry #${index} needs a non-empty string id`);
  if (typeof ts !== 'number' || !Number.isFinite(ts)) invalid(`ledger entry ${id} needs a finite number ts`);
  if (typeof mono !== 'string') invalid(`ledger entry ${id} needs mono as a decimal string`);
  if (typeof type !== 'string' || type === '') invalid(`ledger entry ${id} needs a non-empty type`);
  const record: LedgerRecord = {
    seq: 0,
    id,
    ts,
    mono,
    type,
    agent: nullable(raw.agent, 'agent', id),
    session: nullable(raw.session, 'session', id),
    user: nullable(raw.user, 'user', id),
    task: nullable(raw.task, 'task', id),
    tool: nullable(raw.tool, 'tool', id),
    verdict: nullable(raw.verdict, 'verdict', id),
    data: raw.data === undefined ? null : raw.data,
    prevHash: '',
    hash: '',
  };
  let dataJson: string;
  try {
    dataJson = canonicalJson(record.data);
  } catch (error) {
    invalid(
      `ledger entry ${id}: data is not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  // The same text canonicalJson gives for the record (keys sorted: agent, data, id, mono, seq, session, task,
  // tool, ts, type, user, verdict; every field present), split around seq, which only the lock holder knows.
  // The contract tests check every appended record against `recordHash`, so a drift cannot go unnoticed.
  const prefix =
    '{"agent":' +
    str(record.agent) +
    ',"data":' +
    dataJson +
    ',"id":' +
    jsonString(id) +
    ',"mono":' +
    jsonString(mono) +
    ',"seq":';
  const suffix =
    ',"session":' +
    str(record.session) +
    ',"task":' +
    str(record.task) +
    ',"tool":' +
    str(record.tool) +
    ',"ts":' +
    // ts is finite (checked above), and then String gives what JSON.stringify gives.
    String(ts) +
    ',"type":' +
    jsonString(type) +
    ',"user":' +
    str(record.user) +
    ',"verdict":' +
    str(record.verdict) +
    '}';
  return { record, dataJson, prefix, suffix };
}

function nullable(value: string | null | undefined, field: string, id: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') invalid(`ledger entry ${id}: ${field} must be a string or null`);
  return value;
}

function str(value: string | null): string {
  return value === null ? 'null' : jsonString(value);
}

/**
 * Chains prepared entries after `anchor` (the current head: seq 0 and GENESIS_HASH for an empty ledger):
 * fills in each prepared record's seq, prevHash and the hash `recordHash` would give it (computed without
 * re-serialising the entry), and returns those records in order.
 */
export function chainEntries(prepared: readonly PreparedEntry[], anchor: ChainAnchor): LedgerRecord[] {
  const records = new Array<LedgerRecord>(prepared.length);
  let seq = anchor.seq;
  let prevHash = anchor.hash;
  for (let i = 0; i < prepared.length; i++) {
    const p = prepared[i] as PreparedEntry;
    seq++;
    const record = p.record;
    record.seq = seq;
    record.prevHash = prevHash;
    record.hash = oneShotHash('sha256', prevHash + '\n' + p.prefix + String(seq) + p.suffix, 'hex');
    prevHash = record.hash;
    records[i] = record;
  }
  return records;
}

function invalid(message: string): never {
  throw new WardenError('INVALID_ARGUMENT', message);
}
