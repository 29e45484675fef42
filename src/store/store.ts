/**
 * The one storage contract Warden's modules use. Two real backends implement it side by side
 * (`store/sqlite`, `store/postgres`) and one test suite runs over both.
 *
 * The surface is deliberately small: an append-only hash-chained ledger, a versioned document
 * collection with compare-and-set (approvals, kill switches, phases, pins, alerts and inventory all
 * live there), and a pub/sub channel so replicas hear about kill switches and approvals quickly.
 */

/** A ledger record as a caller hands it over. The store assigns `seq`, `prevHash` and `hash`. */
export interface LedgerEntry {
  /** Unique id (also the event id a decision refers to). */
  id: string;
  /** Wall-clock time, milliseconds since the epoch. */
  ts: number;
  /** Monotonic time of the writing process, nanoseconds as a decimal string (process.hrtime.bigint()). */
  mono: string;
  /** Event kind (`tool.call`, ...) or a control-plane record type (`approval.resolved`, `kill.engaged`, ...). */
  type: string;
  agent: string | null;
  session: string | null;
  user: string | null;
  task: string | null;
  tool: string | null;
  verdict: string | null;
  /** Everything else (arguments, result, reasons), already redacted. Must be JSON-serialisable. */
  data: unknown;
}

/** A ledger record as stored: its position and its place in the hash chain. */
export interface LedgerRecord extends LedgerEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

/** Filter for reading the ledger. All fields optional; records come in `seq` order. */
export interface LedgerQuery {
  afterSeq?: number;
  limit?: number;
  agent?: string;
  session?: string;
  type?: string;
}

/** A versioned JSON document in a named collection. */
export interface StoredDoc<T = unknown> {
  collection: string;
  id: string;
  body: T;
  /** Starts at 1 and grows by one on every successful put. */
  version: number;
  updatedAt: number;
}

/** Backend-independent storage. Every method may reject with a `StoreError`; callers deny on rejection. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';

  /** Creates or upgrades the schema. Idempotent; safe to call from several processes. */
  migrate(): Promise<void>;

  /**
   * Appends records to the ledger atomically, chaining each to the previous one (across processes too).
   * Resolves once the records are durable. Returns them as stored, in order.
   */
  appendLedger(entries: readonly LedgerEntry[]): Promise<LedgerRecord[]>;
  /** Reads records in `seq` order. */
  readLedger(query?: LedgerQuery): Promise<LedgerRecord[]>;
  /** The last record's seq and hash, or undefined for an empty ledger. */
  ledgerHead(): Promise<{ seq: number; hash: string } | undefined>;

  /** One document, or undefined. */
  getDoc<T = unknown>(collection: string, id: string): Promise<StoredDoc<T> | undefined>;
  /**
   * Writes a document. With `expectedVersion` it is a compare-and-set: `0` means "must not exist yet";
   * on a mismatch it resolves `false` and changes nothing. Without it, it overwrites.
   */

  putDoc<T = unknown>(collection: string, id: string, body: T, expectedVersion?: number): Promise<boolean>;
  /** All documents of a collection (optionally those whose id starts with `idPrefix`), ordered by id. */
  listDocs<T = unknown>(collection: string, idPrefix?: string): Promise<StoredDoc<T>[]>;
  /** Removes a document; resolves whether it existed. */
  deleteDoc(collection: string, id: string): Promise<boolean>;

  /**
   * Publishes a small JSON message to every subscriber of `channel`, in this process and in others that
   * share the store (PostgreSQL LISTEN/NOTIFY; SQLite polls a table for other processes).
   */
  publish(channel: string, message: unknown): Promise<void>;
  /** Subscribes; returns an unsubscribe function. The callback must not throw. */
  subscribe(channel: string, onMessage: (message: unknown) => void): Promise<() => Promise<void>>;

  /** Releases connections and files. Idempotent. */
  close(): Promise<void>;
}
