import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, WardenError } from '../../core/errors.js';
import type { LedgerEntry, LedgerQuery, LedgerRecord, Store, StoredDoc } from '../store.js';
import { chainEntries, prepareEntries, type PreparedEntry } from '../verify-chain.js';
import { migrateSqlite } from './migrations.js';
import {
  APPEND,
  INDEX_PREFIX,
  JOINED_LEDGER_COLUMNS,
  LEDGER_COLUMNS,
  checkChannel,
  checkKey,
  encodeMessage,
  invalid,
  nonNegativeInteger,
  prefixUpperBound,
  toJsonText,
  toLedgerRecord,
  type LedgerRowColumns,
  LocalSubscribers,
} from '../shared.js';

/** Re-exported where it was first published: the pub/sub size limit every backend applies. */
export { MAX_MESSAGE_BYTES } from '../shared.js';

/** Options of `openSqliteStore`. */
export interface SqliteStoreOptions {
  /** Database file (its parent directory is created), or `:memory:` for a private in-memory store. */
  path: string;
  /**
   * How long a write waits for another connection's lock before rejecting with `STORE_UNAVAILABLE`.
   * better-sqlite3 is synchronous, so this wait blocks the event loop: keep it short. Default 5000 ms.
   */
  busyTimeoutMs?: number;
  /**
   * `NORMAL` (default) makes a commit survive a crash of the process; `FULL` also survives a power cut or
   * an OS crash, at the price of an fsync per commit.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** Create or upgrade the schema on open. Default true. */
  migrate?: boolean;
  /** How often other processes' pub/sub messages are polled while someone is subscribed. Default 50 ms. */
  pollIntervalMs?: number;
  /** How long published messages stay in the table for other processes to pick up. Default 60 s. */
  messageRetentionMs?: number;
  /** Errors that happen in the background (polling), which have no caller to reject. */
  onError?: (error: unknown) => void;
}

/** Rows per multi-row INSERT: 14 parameters a row stays far below SQLite's 32,766 variable limit. */
const INSERT_CHUNK = 64;
/** Records indexed per catch-up transaction: large sorted runs are cheap, and appenders get the lock between runs. */
const INDEX_STEP = 20_000;
const POLL_BATCH = 500;
const PRUNE_EVERY_MS = 1_000;
/** Page size of new database files (see openSqliteStore). */
const PAGE_SIZE = 16_384;

interface LedgerRow extends LedgerRowColumns {
  seq: number;
  data: string;
}

interface DocRow {
  id: string;
  body: string;
  version: number;
  updated_at: number;
}

interface MessageRow {
  id: number;
  channel: string;
  payload: string;
  origin: string;
}

/**
 * The embedded store: one SQLite file in WAL mode, shared safely by several processes on the same machine.
 * better-sqlite3 is synchronous; every method does its work at once and returns a settled promise.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  /** The database file as given (`:memory:` for an in-memory store). */
  readonly path: string;

  private readonly db: Database.Database;
  private readonly busyTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly messageRetentionMs: number;
  private readonly onError: ((error: unknown) => void) | undefined;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly appendTx: Database.Transaction<(rows: readonly PreparedEntry[]) => LedgerRecord[]>;
  private readonly indexTx: Database.Transaction<() => boolean>;
  /** Tells this instance's own pub/sub rows apart from other processes' (and other instances'). */
  private readonly origin = randomUUID();
  private readonly subscribers: LocalSubscribers;
  private pollTimer: NodeJS.Timeout | undefined;
  private cursor = 0;
  private lastPrune = 0;
  private closed = false;

  /** Use `openSqliteStore`; the constructor expects an open, configured connection. */
  constructor(db: Database.Database, options: SqliteStoreOptions) {
    this.db = db;
    this.path = options.path;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.messageRetentionMs = options.messageRetentionMs ?? 60_000;
    this.onError = options.onError;
    this.subscribers = new LocalSubscribers(options.onError);
    this.appendTx = db.transaction((rows: readonly PreparedEntry[]) => this.appendLocked(rows));
    this.indexTx = db.transaction(() => this.indexStep());
  }

  migrate(): Promise<void> {
    return this.run('migrate', () => {
      migrateSqlite(this.db);
      // Statements prepared against an older schema must not be reused.
      this.statements.clear();
    });
  }

  appendLedger(entries: readonly LedgerEntry[]): Promise<LedgerRecord[]> {
    if (entries.length === 0) return this.run(APPEND, () => []);
    let rows: PreparedEntry[];
    try {
      // Checking and serialising do not depend on the chain position, so they happen before the write lock.
      rows = prepareEntries(entries);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // IMMEDIATE takes the write lock before the head is read, so two processes never chain to the same head.
    // Durability: in WAL mode with synchronous=NORMAL a committed transaction is in the WAL file before
    // COMMIT returns, so it survives a crash of this process (our contract: durable before the caller acts).
    // Only a power cut or OS crash can lose the last commits; `synchronous: 'FULL'` closes that gap too.
    return this.run(APPEND, () => this.appendTx.immediate(rows));
  }

  async readLedger(query: LedgerQuery = {}): Promise<LedgerRecord[]> {
    const filters: [column: 'agent' | 'session' | 'type', value: string][] = [];
    // Most selective first: the first filter picks the lookup key, the others are checked on the record.
    if (query.session !== undefined) filters.push(['session', query.session]);
    if (query.agent !== undefined) filters.push(['agent', query.agent]);
    if (query.type !== undefined) filters.push(['type', query.type]);
    if (filters.length > 0) await this.catchUpIndex();
    return this.run('read the ledger', () => {
      const afterSeq = nonNegativeInteger(query.afterSeq ?? 0, 'afterSeq');
      const limit = query.limit === undefined ? -1 : nonNegativeInteger(query.limit, 'limit');
      if (limit === 0) return [];
      const [first, ...rest] = filters;
      let rows: LedgerRow[];
      if (first === undefined) {
        rows = this.statement(`SELECT ${LEDGER_COLUMNS} FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?`).all(
          afterSeq,
          limit,
        ) as LedgerRow[];
      } else {
        for (const [column, value] of filters) {
          if (typeof value !== 'string') invalid(`${column} must be a string`);
        }
        const sql =
          `SELECT ${JOINED_LEDGER_COLUMNS} FROM ledger_index i JOIN ledger l ON l.seq = i.seq WHERE i.key = ? AND i.seq > ?` +
          rest.map(([column]) => ` AND l.${column} = ?`).join('') +
          ' ORDER BY i.seq LIMIT ?';
        rows = this.statement(sql).all(
          INDEX_PREFIX[first[0]] + first[1],
          afterSeq,
          ...rest.map(([, value]) => value),
          limit,
        ) as LedgerRow[];
      }
      return rows.map(fromLedgerRow);
    });
  }

  ledgerHead(): Promise<{ seq: number; hash: string } | undefined> {
    return this.run('read the ledger head', () => {
      const head = this.statement('SELECT seq, hash FROM ledger_head WHERE one = 1').get() as
        { seq: number; hash: string } | undefined;
      return head === undefined || head.seq === 0 ? undefined : { seq: head.seq, hash: head.hash };
    });
  }

  getDoc<T = unknown>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    return this.run('read a document', () => {
      checkKey(collection, id);
      const row = this.statement(
        'SELECT id, body, version, updated_at FROM docs WHERE collection = ? AND id = ?',
      ).get(collection, id) as DocRow | undefined;
      return row === undefined ? undefined : fromDocRow<T>(collection, row);
    });
  }

  putDoc(collection: string, id: string, body: unknown, expectedVersion?: number): Promise<boolean> {
    return this.run('write a document', () => {
      checkKey(collection, id);
      const json = toJsonText(body, 'document body');
      const now = Date.now();
      if (expectedVersion === undefined) {
        this.statement(
          `INSERT INTO docs (collection, id, body, version, updated_at) VALUES (?, ?, ?, 1, ?)
           ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body, version = docs.version + 1, updated_at = excluded.updated_at`,
        ).run(collection, id, json, now);
        return true;
      }
      const expected = nonNegativeInteger(expectedVersion, 'expectedVersion');
      const result =
        expected === 0
          ? this.statement(
              'INSERT INTO docs (collection, id, body, version, updated_at) VALUES (?, ?, ?, 1, ?) ON CONFLICT (collection, id) DO NOTHING',
            ).run(collection, id, json, now)
          : this.statement(
              'UPDATE docs SET body = ?, version = version + 1, updated_at = ? WHERE collection = ? AND id = ? AND version = ?',
            ).run(json, now, collection, id, expected);
      return result.changes === 1;
    });
  }

  listDocs<T = unknown>(collection: string, idPrefix?: string): Promise<StoredDoc<T>[]> {
    return this.run('list documents', () => {
      checkKey(collection, idPrefix ?? '');
      const columns = 'SELECT id, body, version, updated_at FROM docs WHERE collection = ?';
      let rows: DocRow[];
      if (idPrefix === undefined || idPrefix === '') {
        rows = this.statement(`${columns} ORDER BY id`).all(collection) as DocRow[];
      } else {
        const upper = prefixUpperBound(idPrefix);
        rows = (
          upper === undefined
            ? this.statement(`${columns} AND id >= ? ORDER BY id`).all(collection, idPrefix)
            : this.statement(`${columns} AND id >= ? AND id < ? ORDER BY id`).all(collection, idPrefix, upper)
        ) as DocRow[];
      }
      return rows.map((row) => fromDocRow<T>(collection, row));
    });
  }

  deleteDoc(collection: string, id: string): Promise<boolean> {
    return this.run('delete a document', () => {
      checkKey(collection, id);
      return (
        this.statement('DELETE FROM docs WHERE collection = ? AND id = ?').run(collection, id).changes > 0
      );
    });
  }

  publish(channel: string, message: unknown): Promise<void> {
    return this.run('publish a message', () => {
      const payload = encodeMessage(channel, message, this.origin);
      if (!this.db.memory) {
        const now = Date.now();
        this.statement('INSERT INTO messages (channel, payload, origin, created_at) VALUES (?, ?, ?, ?)').run(
          channel,
          payload,
          this.origin,
          now,
        );
        if (now - this.lastPrune >= PRUNE_EVERY_MS) {
          this.lastPrune = now;
          this.statement('DELETE FROM messages WHERE created_at < ?').run(now - this.messageRetentionMs);
        }
      }
      // Our own poller skips rows with our origin, so in-process subscribers hear each message exactly once.
      this.deliver(channel, payload);
    });
  }

  subscribe(channel: string, onMessage: (message: unknown) => void): Promise<() => Promise<void>> {
    return this.run('subscribe', () => {
      checkChannel(channel);
      const unsubscribe = this.subscribers.add(channel, onMessage, () => {
        this.stopPolling();
      });
      if (this.subscribers.size === 1) this.startPolling();
      return unsubscribe;
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.stopPolling();
    this.subscribers.clear();
    this.statements.clear();
    try {
      this.db.close();
    } catch (error) {
      return Promise.reject(this.toStoreError(error, 'close the store'));
    }
    return Promise.resolve();
  }

  /** Runs inside the IMMEDIATE transaction: reads the head, chains, inserts in chunks, moves the head. */
  private appendLocked(rows: readonly PreparedEntry[]): LedgerRecord[] {
    const head = this.statement('SELECT seq, hash FROM ledger_head WHERE one = 1').get() as
      { seq: number; hash: string } | undefined;
    if (head === undefined)
      throw new StoreError('STORE_CORRUPT', `the ledger head row is missing in ${this.path}`);
    const records = chainEntries(rows, head);
    const params: unknown[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as LedgerRecord;
      params.push(
        r.seq,
        r.id,
        r.ts,
        r.mono,
        r.type,
        r.agent,
        r.session,
        r.user,
        r.task,
        r.tool,
        r.verdict,
        (rows[i] as PreparedEntry).dataJson,
        r.prevHash,
        r.hash,
      );
      if (params.length === INSERT_CHUNK * 14) {
        // Spread, not an array: better-sqlite3 reads arguments directly but array elements through generic
        // property lookups, and binding is a large share of the insert (measured ~0.4 µs per record).
        this.insertStatement(INSERT_CHUNK).run(...params);
        params.length = 0;
      }
    }
    if (params.length > 0) this.insertStatement(params.length / 14).run(...params);
    const last = records.at(-1) as LedgerRecord;
    this.statement('UPDATE ledger_head SET seq = ?, hash = ? WHERE one = 1').run(last.seq, last.hash);
    return records;
  }

  /**
   * Brings `ledger_index` up to the ledger head, one IMMEDIATE transaction per step, yielding to the event
   * loop between steps. The check before each step is a plain read, so a caught-up index costs no lock.
   */
  private async catchUpIndex(): Promise<void> {
    for (;;) {
      const done = await this.run('index the ledger', () => {
        const state = this.statement('SELECT seq, indexed_seq FROM ledger_head WHERE one = 1').get() as
          { seq: number; indexed_seq: number } | undefined;
        return state === undefined || state.indexed_seq >= state.seq || this.indexTx.immediate();
      });
      if (done) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** One catch-up step inside the write lock; returns whether the index has reached the head. */
  private indexStep(): boolean {
    const state = this.statement('SELECT seq, indexed_seq FROM ledger_head WHERE one = 1').get() as
      { seq: number; indexed_seq: number } | undefined;
    if (state === undefined || state.indexed_seq >= state.seq) return true;
    const upTo = Math.min(state.seq, state.indexed_seq + INDEX_STEP);
    // Sorted by key, so each index page is written once per step rather than once per record.
    this.statement(
      `INSERT OR IGNORE INTO ledger_index (key, seq)
       SELECT key, seq FROM (
         SELECT 'a:' || agent AS key, seq FROM ledger WHERE seq > @from AND seq <= @to AND agent IS NOT NULL
         UNION ALL SELECT 's:' || session, seq FROM ledger WHERE seq > @from AND seq <= @to AND session IS NOT NULL
         UNION ALL SELECT 't:' || type, seq FROM ledger WHERE seq > @from AND seq <= @to
       ) ORDER BY key, seq`,
    ).run({ from: state.indexed_seq, to: upTo });
    this.statement('UPDATE ledger_head SET indexed_seq = ? WHERE one = 1').run(upTo);
    return upTo >= state.seq;
  }

  private insertStatement(rows: number): Database.Statement {
    const values = '(?,?,?,?,?,?,?,?,?,?,?,?,?,?)';
    return this.statement(
      `INSERT INTO ledger (${LEDGER_COLUMNS}) VALUES ${Array(rows).fill(values).join(',')}`,
    );
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private deliver(channel: string, payload: string): void {
    this.subscribers.deliver(channel, payload, () => this.closed);
  }

  private startPolling(): void {
    if (this.db.memory || this.pollTimer !== undefined) return;
    const row = this.statement('SELECT MAX(id) AS id FROM messages').get() as
      { id: number | null } | undefined;
    this.cursor = row?.id ?? 0;
    this.pollTimer = setInterval(() => {
      this.poll();
    }, this.pollIntervalMs);
    // Polling must not keep a process alive on its own.
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private poll(): void {
    if (this.closed) return;
    try {
      for (;;) {
        const rows = this.statement(
          'SELECT id, channel, payload, origin FROM messages WHERE id > ? ORDER BY id LIMIT ?',
        ).all(this.cursor, POLL_BATCH) as MessageRow[];
        for (const row of rows) {
          this.cursor = row.id;
          if (row.origin !== this.origin) this.deliver(row.channel, row.payload);
        }
        if (rows.length < POLL_BATCH) break;
      }
    } catch (error) {
      this.onError?.(this.toStoreError(error, 'poll for messages'));
    }
  }

  private run<T>(action: string, work: () => T): Promise<T> {
    if (this.closed)
      return Promise.reject(
        new StoreError('STORE_UNAVAILABLE', `cannot ${action}: the SQLite store is closed`),
      );
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(this.toStoreError(error, action));
    }
  }

  private toStoreError(error: unknown, action: string): WardenError {
    return sqliteError(error, action, this.path, this.busyTimeoutMs);
  }
}

/**
 * Opens (and by default migrates) a SQLite store. Rejects with `STORE_CORRUPT` when the file is not a usable
 * database and `STORE_UNAVAILABLE` when it cannot be opened or stays locked past the busy timeout.
 */
export function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const path = options.path;
  const busyTimeoutMs = nonNegativeInteger(options.busyTimeoutMs ?? 5_000, 'busyTimeoutMs');
  const memory = path === ':memory:';
  let db: Database.Database;
  try {
    if (typeof path !== 'string' || path === '')
      throw new WardenError('INVALID_ARGUMENT', 'a SQLite store needs a file path');
    // The ledger and approvals are nobody else's business: a directory we create is private to this user.
    if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true, mode: 0o700 });
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (error) {
    return Promise.reject(sqliteError(error, 'open the store', path, busyTimeoutMs));
  }
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Only takes effect on a file that has no tables yet (an existing database keeps its page size). The ledger
    // appends rows of ~0.5 KiB in batches; 16 KiB pages write a batch to the WAL, and later to the database,
    // in a quarter of the system calls that 4 KiB pages need, which measured 15-25% less CPU per record.
    if (!memory) db.pragma(`page_size = ${PAGE_SIZE}`);
    // Reading the journal mode is the first read of the file header: a file that is not a database fails here.
    const mode = memory ? 'memory' : String(db.pragma('journal_mode = WAL', { simple: true }));
    // Without WAL (some network file systems refuse it), NORMAL would not keep commits across a crash.
    const synchronous = mode === 'wal' ? (options.synchronous ?? 'NORMAL') : 'FULL';
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('temp_store = MEMORY');
    if (options.migrate ?? true) migrateSqlite(db);
    return Promise.resolve(new SqliteStore(db, { ...options, busyTimeoutMs }));
  } catch (error) {
    try {
      db.close();
    } catch {
      // The connection is unusable either way; the original error is the one worth reporting.
    }
    return Promise.reject(sqliteError(error, 'open the store', path, busyTimeoutMs));
  }
}

function fromLedgerRow(row: LedgerRow): LedgerRecord {
  let data: unknown;
  try {
    data = JSON.parse(row.data);
  } catch {
    // Keep the raw text: verification then reports this record as edited instead of failing the whole read.
    data = row.data;
  }
  return toLedgerRecord(row, row.seq, data);
}

function fromDocRow<T>(collection: string, row: DocRow): StoredDoc<T> {
  let body: T;
  try {
    body = JSON.parse(row.body) as T;
  } catch (error) {
    throw new StoreError('STORE_CORRUPT', `document ${collection}/${row.id} does not hold valid JSON`, error);
  }
  return { collection, id: row.id, body, version: row.version, updatedAt: row.updated_at };
}

/** Maps a better-sqlite3 failure to a StoreError whose message says what happened and what to do. */
function sqliteError(error: unknown, action: string, path: string, busyTimeoutMs: number): WardenError {
  if (error instanceof WardenError) return error;
  const code =
    typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  const detail = error instanceof Error ? error.message : String(error);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      'STORE_UNAVAILABLE',
      `cannot ${action}: the SQLite database ${path} is locked by another connection and stayed locked for the whole busy timeout (${busyTimeoutMs} ms)`,
      error,
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(
      'STORE_CORRUPT',
      `cannot ${action}: ${path} is not a valid SQLite database (${detail}); move it aside and let Warden create a new one, or restore it from a backup`,
      error,
    );
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    // The only constraint an append can break is the seq key: the head row is behind stored records.
    return action === APPEND
      ? new StoreError(
          'STORE_CORRUPT',
          `cannot ${action}: the ledger head in ${path} is behind its records (${detail}); run \`warden ledger verify\``,
          error,
        )
      : new StoreError('STORE_CONFLICT', `cannot ${action}: ${detail}`, error);
  }
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_PERM') ||
    code.startsWith('SQLITE_READONLY')
  ) {
    return new StoreError(
      'STORE_UNAVAILABLE',
      `cannot ${action}: cannot open ${path} for writing (${detail})`,
      error,
    );
  }
  if (code === 'SQLITE_FULL') {
    return new StoreError('STORE_UNAVAILABLE', `cannot ${action}: the disk holding ${path} is full`, error);
  }
  return new StoreError('STORE_UNAVAILABLE', `cannot ${action} (SQLite store ${path}): ${detail}`, error);
}
