import { WardenError } from '../core/errors.js';
import type { LedgerRecord } from './store.js';

/**
 * What the two store backends share beyond the Store contract: the ledger's columns, the pub/sub envelope
 * and its size limit, argument checks, and the row-to-record mapping. One copy, so that a message or a
 * record that works on the embedded store works the same way on a shared one.
 */

/**
 * Largest pub/sub message envelope accepted, in UTF-8 bytes: PostgreSQL's NOTIFY limit (a payload must be
 * shorter than 8000 bytes), applied on SQLite too so a message that works embedded also works shared.
 */
export const MAX_MESSAGE_BYTES = 7_999;

/** The ledger table's columns, in insert order. */
export const LEDGER_COLUMN_NAMES = [
  'seq',
  'id',
  'ts',
  'mono',
  'type',
  'agent',
  'session',
  '"user"',
  'task',
  'tool',
  'verdict',
  'data',
  'prev_hash',
  'hash',
];
/** The columns as a select or insert list. */
export const LEDGER_COLUMNS = LEDGER_COLUMN_NAMES.join(', ');
/** The columns of the ledger joined as `l`. */
export const JOINED_LEDGER_COLUMNS = LEDGER_COLUMN_NAMES.map((column) => `l.${column}`).join(', ');
/** Lookup-key prefix per filter column in `ledger_index`. */
export const INDEX_PREFIX = { agent: 'a:', session: 's:', type: 't:' } as const;
/** The action named in append errors (and recognised by the backends' error mappers). */
export const APPEND = 'append to the ledger';

/** A ledger row as both backends read it, but for `seq` and `data`, whose types the driver decides. */
export interface LedgerRowColumns {
  id: string;
  ts: number;
  mono: string;
  type: string;
  agent: string | null;
  session: string | null;
  user: string | null;
  task: string | null;
  tool: string | null;
  verdict: string | null;
  prev_hash: string;
  hash: string;
}

/** A stored record from its row, with `seq` and `data` already decoded by the backend. */
export function toLedgerRecord(row: LedgerRowColumns, seq: number, data: unknown): LedgerRecord {
  return {
    seq,
    id: row.id,
    ts: row.ts,
    mono: row.mono,
    type: row.type,
    agent: row.agent,
    session: row.session,
    user: row.user,
    task: row.task,
    tool: row.tool,
    verdict: row.verdict,
    data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** What travels between processes: channel, sender and the message. */
export interface Envelope {
  c: string;
  o: string;
  m: unknown;
}

/** A local subscriber. */
export type Listener = (message: unknown) => void;

/** The envelope of a message as text; refuses a bad channel, a non-JSON message and one over the limit. */
export function encodeMessage(channel: string, message: unknown, origin: string): string {
  checkChannel(channel);
  toJsonText(message, 'message');
  const payload = JSON.stringify({ c: channel, o: origin, m: message } satisfies Envelope);
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    invalid(
      `message on channel "${channel}" is ${bytes} bytes with its envelope; pub/sub messages must stay under ${MAX_MESSAGE_BYTES + 1} bytes (the PostgreSQL NOTIFY limit): publish an id and keep the body in a document`,
    );
  }
  return payload;
}

/** A value's JSON text; `INVALID_ARGUMENT` naming `what` when it has none. */
export function toJsonText(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    invalid(`${what} is not JSON-serialisable (${error instanceof Error ? error.message : String(error)})`);
  }
  if (json === undefined) invalid(`${what} is not JSON-serialisable`);
  return json;
}

/** Refuses an empty collection or a non-string id. */
export function checkKey(collection: string, id: string): void {
  if (typeof collection !== 'string' || collection === '')
    invalid('a document collection must be a non-empty string');
  if (typeof id !== 'string') invalid('a document id must be a string');
}

/** Refuses an empty channel name. */
export function checkChannel(channel: string): void {
  if (typeof channel !== 'string' || channel === '') invalid('a pub/sub channel must be a non-empty string');
}

/** The value, or `INVALID_ARGUMENT` when it is not a non-negative safe integer. */
export function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) invalid(`${name} must be a non-negative integer`);
  return value;
}

/** Throws `INVALID_ARGUMENT`: a caller's mistake, never the store's. */
export function invalid(message: string): never {
  throw new WardenError('INVALID_ARGUMENT', message);
}

/**
 * The smallest string greater than every string that starts with `prefix`, in code-point order (what
 * PostgreSQL's C collation and SQLite's BINARY collation over UTF-8 compare), or undefined when there is none.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = Array.from(prefix);
  while (codePoints.length > 0) {
    const last = (codePoints.pop() as string).codePointAt(0) as number;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return codePoints.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/**
 * The subscribers of one store in this process, by channel. Both backends deliver a message to local
 * subscribers directly (their own poller or LISTEN connection skips messages with their origin), so each
 * subscriber hears each message exactly once.
 */
export class LocalSubscribers {
  private readonly byChannel = new Map<string, Set<Listener>>();
  private total = 0;
  private readonly onError: ((error: unknown) => void) | undefined;

  constructor(onError: ((error: unknown) => void) | undefined) {
    this.onError = onError;
  }

  /** How many subscriptions are active, across channels. */
  get size(): number {
    return this.total;
  }

  /**
   * Adds a subscription and returns its unsubscribe, which may be called any number of times; `onEmpty`
   * runs when the last subscription of the store goes. The same callback subscribed twice gets two
   * independent subscriptions.
   */
  add(channel: string, onMessage: Listener, onEmpty: () => void): () => Promise<void> {
    let set = this.byChannel.get(channel);
    if (set === undefined) {
      set = new Set();
      this.byChannel.set(channel, set);
    }
    const listener: Listener = (message) => {
      onMessage(message);
    };
    set.add(listener);
    this.total++;
    let active = true;
    return () => {
      if (active) {
        active = false;
        if (set.delete(listener)) this.total--;
        if (set.size === 0) this.byChannel.delete(channel);
        if (this.total === 0) onEmpty();
      }
      return Promise.resolve();
    };
  }

  /**
   * Delivers an envelope's text to the channel's subscribers, each in its own microtask with its own parsed
   * copy (none can change what another sees). Skips subscribers removed before their turn, and everyone once
   * `stopped()` says the store is closing.
   */
  deliver(channel: string, payload: string, stopped: () => boolean): void {
    const set = this.byChannel.get(channel);
    if (set === undefined) return;
    for (const listener of set) {
      queueMicrotask(() => {
        if (stopped() || !set.has(listener)) return;
        try {
          listener((JSON.parse(payload) as Envelope).m);
        } catch (error) {
          this.onError?.(error);
        }
      });
    }
  }

  /** Drops every subscription (the store is closing). */
  clear(): void {
    this.byChannel.clear();
    this.total = 0;
  }
}
