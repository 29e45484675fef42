import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { PoolClient, QueryResult } from 'pg';
import { StoreError, WardenError } from '../../core/errors.js';
import type { LedgerEntry, LedgerQuery, LedgerRecord, Store, StoredDoc } from '../store.js';
import { chainEntries, prepareEntries, type ChainAnchor, type PreparedEntry } from '../verify-chain.js';
import { migratePostgres, quoteIdent } from './migrations.js';
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
  type Envelope,
  type LedgerRowColumns,
  LocalSubscribers,
} from '../shared.js';

/** Re-exported where it was first published: the pub/sub size limit every backend applies. */
export { MAX_MESSAGE_BYTES } from '../shared.js';

/** Options of `openPostgresStore`. */
export interface PostgresStoreOptions {
  /** `postgres://` or `postgresql://` connection URL. */
  url: string;
  /** Schema holding Warden's tables; created if missing. Default `warden`. */
  schema?: string;
  /** Most connections the pool opens (one more is used for LISTEN while someone subscribes). Default 10. */
  poolSize?: number;
  /** How long to wait for a connection before rejecting with `STORE_UNAVAILABLE`. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Longest a single statement may run (server side, and client side as a safety net). Default 30 s. */
  statementTimeoutMs?: number;
  /** Create or upgrade the schema on open. Default true. */
  migrate?: boolean;
  /** Errors that happen in the background (dropped idle connections, a lost LISTEN connection). */
  onError?: (error: unknown) => void;
}

/** How long appends take the head lock first after finding that another writer moved the head. */
const CONTENDED_MS = 1_000;
/** Records indexed per catch-up transaction. */
const INDEX_STEP = 50_000;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

interface LedgerRow extends LedgerRowColumns {
  seq: string;
  data: unknown;
}

interface DocRow {
  id: string;
  body: unknown;
  version: number;
  updated_at: string;
}

/**
 * The shared store: PostgreSQL through a `pg` pool, for several gateway or server replicas. Appends lock one
 * head row so replicas keep a single chain; pub/sub rides on LISTEN/NOTIFY over a dedicated connection.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  /** The schema holding the tables (unquoted). */
  readonly schema: string;

  private readonly pool: pg.Pool;
  private readonly config: pg.ClientConfig;
  private readonly target: string;
  private readonly onError: ((error: unknown) => void) | undefined;
  private readonly s: string;
  private readonly sql: ReturnType<typeof statements>;
  /** NOTIFY channel of this schema: one per schema so tests and tenants in other schemas do not cross. */
  private readonly pgChannel: string;
  private readonly origin = randomUUID();
  private readonly subscribers: LocalSubscribers;
  private listenClient: pg.Client | undefined;
  private listenReady: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private closing: Promise<void> | undefined;
  /** The head as this store's last append left it: the one-statement append bets that it is still the head. */
  private knownHead: ChainAnchor | undefined;
  /** Until when (`performance.now()`, ms) appends take the lock first, after another writer moved the head. */
  private lockFirstUntil = 0;

  /** Use `openPostgresStore`. */
  constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? 'warden';
    if (!SCHEMA_NAME.test(schema) || Buffer.byteLength(schema) > 63) {
      throw new WardenError(
        'INVALID_ARGUMENT',
        `invalid PostgreSQL schema name "${schema}": use letters, digits and _ (at most 63)`,
      );
    }
    this.schema = schema;
    this.s = quoteIdent(schema);
    this.sql = statements(this.s);
    this.target = describeTarget(options.url);
    this.onError = options.onError;
    this.subscribers = new LocalSubscribers(options.onError);
    this.pgChannel = 'warden_' + createHash('sha256').update(schema).digest('hex').slice(0, 24);
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    this.config = {
      connectionString: options.url,
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
      application_name: `agent-warden:${schema}`,
      statement_timeout: statementTimeoutMs,
      // A crashed client must not hold the ledger head lock for long.
      idle_in_transaction_session_timeout: Math.max(statementTimeoutMs * 2, 10_000),
    };
    this.pool = new pg.Pool({
      ...this.config,
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
      // A server that stops answering mid-query must not hang a caller forever.
      query_timeout: statementTimeoutMs + 5_000,
      // Idle pooled connections must not keep a CLI process alive.
      allowExitOnIdle: true,
    });
    // Without a listener, an idle connection dropped by the server would crash the process.
    this.pool.on('error', (error) => {
      this.onError?.(this.toStoreError(error, 'keep an idle connection'));
    });
  }

  async migrate(): Promise<void> {
    await this.withClient('migrate', (client) => migratePostgres(client, this.schema));
  }

  /**
   * Appends under the head-row lock, so that every appender, in any process, chains onto the true head.
   *
   * Two ways to run the same protocol. Usually this store wrote the current head itself, and then one
   * statement does everything: it locks the head row, inserts the records only if the head is still the one
   * they were chained onto, moves the head and commits; one round trip instead of three. If another writer
   * got there first, that statement changes nothing, and the append runs the classic way: open a
   * transaction, lock the head row and read it, chain onto it, insert, commit. After such a miss the classic
   * way is used for a while, since the other writer is likely to keep going.
   */
  async appendLedger(entries: readonly LedgerEntry[]): Promise<LedgerRecord[]> {
    this.assertOpen(APPEND);
    if (entries.length === 0) return [];
    // Checking and serialising do not depend on the chain position, so they happen before the lock.
    const prepared = prepareEntries(entries);
    const known = this.knownHead;
    if (known !== undefined && performance.now() >= this.lockFirstUntil) {
      // One attempt per known head: appends running alongside this one take the lock instead of betting on
      // the same head.
      this.knownHead = undefined;
      const records = await this.appendIfHeadIs(prepared, known);
      if (records !== undefined) return records;
      this.lockFirstUntil = performance.now() + CONTENDED_MS;
    }
    return this.appendWithLock(prepared);
  }

  /** The one-statement append; resolves undefined (having changed nothing) when the head has moved. */
  private async appendIfHeadIs(
    prepared: readonly PreparedEntry[],
    head: ChainAnchor,
  ): Promise<LedgerRecord[] | undefined> {
    const records = chainEntries(prepared, head);
    const last = records[records.length - 1] as LedgerRecord;
    const values = ledgerArrays(records, prepared);
    values.push(head.seq, head.hash, last.seq, last.hash);
    // Autocommit: with synchronous_commit on (the default) the statement returns once its commit is flushed.
    const result = await this.query<{ seq: string }>(
      APPEND,
      this.sql.appendIfHead,
      values,
      this.sql.appendIfHeadName,
    );
    if (result.rowCount !== 1) return undefined;
    this.knownHead = { seq: last.seq, hash: last.hash };
    return records;
  }

  private appendWithLock(prepared: readonly PreparedEntry[]): Promise<LedgerRecord[]> {
    return this.withClient(APPEND, async (client) => {
      let committed = false;
      try {
        // One round trip opens the transaction and locks the head row: every other appender, in any process,
        // waits here until we commit, so each batch chains onto the true head.
        const opened = (await client.query(this.sql.beginAndLockHead)) as unknown;
        const head = Array.isArray(opened)
          ? (opened as QueryResult<{ seq: string; hash: string }>[])[1]?.rows[0]
          : undefined;
        if (head === undefined)
          throw new StoreError('STORE_CORRUPT', `the ledger head row is missing in schema ${this.schema}`);
        if (!HEX_DIGEST.test(head.hash))
          throw new StoreError(
            'STORE_CORRUPT',
            `the ledger head hash in schema ${this.schema} is not a SHA-256 digest`,
          );
        const records = chainEntries(prepared, { seq: Number(head.seq), hash: head.hash });
        const last = records[records.length - 1] as LedgerRecord;
        const values = ledgerArrays(records, prepared);
        values.push(last.seq, last.hash);
        await client.query({
          name: this.sql.insertAndMoveHeadName,
          text: this.sql.insertAndMoveHead,
          values,
        });
        // synchronous_commit (on by default) makes COMMIT return only once the WAL is flushed: durable.
        await client.query('COMMIT');
        committed = true;
        this.knownHead = { seq: last.seq, hash: last.hash };
        return records;
      } finally {
        if (!committed) await rollbackQuietly(client);
      }
    });
  }

  async readLedger(query: LedgerQuery = {}): Promise<LedgerRecord[]> {
    this.assertOpen('read the ledger');
    const afterSeq = nonNegativeInteger(query.afterSeq ?? 0, 'afterSeq');
    const limit = query.limit === undefined ? undefined : nonNegativeInteger(query.limit, 'limit');
    if (limit === 0) return [];
    // Most selective first: the first filter picks the lookup key, the others are checked on the record.
    const filters: [column: 'agent' | 'session' | 'type', value: string][] = [];
    if (query.session !== undefined) filters.push(['session', query.session]);
    if (query.agent !== undefined) filters.push(['agent', query.agent]);
    if (query.type !== undefined) filters.push(['type', query.type]);
    for (const [column, value] of filters) {
      if (typeof value !== 'string') invalid(`${column} must be a string`);
    }
    const [first, ...rest] = filters;
    let text: string;
    const values: unknown[] = [];
    if (first === undefined) {
      values.push(afterSeq);
      text = `SELECT ${LEDGER_COLUMNS} FROM ${this.s}.ledger WHERE seq > $1 ORDER BY seq`;
    } else {
      await this.catchUpIndex();
      values.push(INDEX_PREFIX[first[0]] + first[1], afterSeq);
      text =
        `SELECT ${JOINED_LEDGER_COLUMNS} FROM ${this.s}.ledger_index i JOIN ${this.s}.ledger l ON l.seq = i.seq ` +
        'WHERE i.key = $1 AND i.seq > $2';
      for (const [column, value] of rest) {
        values.push(value);
        text += ` AND l.${column} = $${values.length}`;
      }
      text += ' ORDER BY i.seq';
    }
    if (limit !== undefined) {
      values.push(limit);
      text += ` LIMIT $${values.length}`;
    }
    const result = await this.query<LedgerRow>('read the ledger', text, values);
    return result.rows.map(fromLedgerRow);
  }

  async ledgerHead(): Promise<{ seq: number; hash: string } | undefined> {
    const result = await this.query<{ seq: string; hash: string }>('read the ledger head', this.sql.head, []);
    const row = result.rows[0];
    if (row === undefined)
      throw new StoreError('STORE_CORRUPT', `the ledger head row is missing in schema ${this.schema}`);
    const seq = Number(row.seq);
    return seq === 0 ? undefined : { seq, hash: row.hash };
  }

  async getDoc<T = unknown>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    checkKey(collection, id);
    const result = await this.query<DocRow>(
      'read a document',
      `SELECT id, body, version, updated_at FROM ${this.s}.docs WHERE collection = $1 AND id = $2`,
      [collection, id],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : fromDocRow<T>(collection, row);
  }

  async putDoc(collection: string, id: string, body: unknown, expectedVersion?: number): Promise<boolean> {
    checkKey(collection, id);
    const json = toJsonText(body, 'document body');
    const now = Date.now();
    const s = this.s;
    if (expectedVersion === undefined) {
      await this.query(
        'write a document',
        `INSERT INTO ${s}.docs (collection, id, body, version, updated_at) VALUES ($1, $2, $3::json, 1, $4)
         ON CONFLICT (collection, id) DO UPDATE SET body = EXCLUDED.body, version = ${s}.docs.version + 1, updated_at = EXCLUDED.updated_at`,
        [collection, id, json, now],
      );
      return true;
    }
    const expected = nonNegativeInteger(expectedVersion, 'expectedVersion');
    // Compare-and-set in one statement: under READ COMMITTED a concurrent writer that got there first makes
    // PostgreSQL re-check `version = $5` against the new row, which then no longer matches.
    const result =
      expected === 0
        ? await this.query(
            'write a document',
            `INSERT INTO ${s}.docs (collection, id, body, version, updated_at) VALUES ($1, $2, $3::json, 1, $4)
             ON CONFLICT (collection, id) DO NOTHING`,
            [collection, id, json, now],
          )
        : await this.query(
            'write a document',
            `UPDATE ${s}.docs SET body = $3::json, version = version + 1, updated_at = $4
             WHERE collection = $1 AND id = $2 AND version = $5`,
            [collection, id, json, now, expected],
          );
    return result.rowCount === 1;
  }

  async listDocs<T = unknown>(collection: string, idPrefix?: string): Promise<StoredDoc<T>[]> {
    checkKey(collection, idPrefix ?? '');
    const base = `SELECT id, body, version, updated_at FROM ${this.s}.docs WHERE collection = $1`;
    let result: QueryResult<DocRow>;
    if (idPrefix === undefined || idPrefix === '') {
      result = await this.query<DocRow>('list documents', `${base} ORDER BY id`, [collection]);
    } else {
      // A range on the "C"-collated key uses the primary key index and treats % and _ literally.
      const upper = prefixUpperBound(idPrefix);
      result =
        upper === undefined
          ? await this.query<DocRow>('list documents', `${base} AND id >= $2 ORDER BY id`, [
              collection,
              idPrefix,
            ])
          : await this.query<DocRow>('list documents', `${base} AND id >= $2 AND id < $3 ORDER BY id`, [
              collection,
              idPrefix,
              upper,
            ]);
    }
    return result.rows.map((row) => fromDocRow<T>(collection, row));
  }

  async deleteDoc(collection: string, id: string): Promise<boolean> {
    checkKey(collection, id);
    const result = await this.query(
      'delete a document',
      `DELETE FROM ${this.s}.docs WHERE collection = $1 AND id = $2`,
      [collection, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async publish(channel: string, message: unknown): Promise<void> {
    const payload = encodeMessage(channel, message, this.origin);
    await this.query('publish a message', 'SELECT pg_notify($1, $2)', [this.pgChannel, payload]);
    // Our own LISTEN connection skips payloads with our origin, so local subscribers hear each message once.
    this.deliver(channel, payload);
  }

  async subscribe(channel: string, onMessage: (message: unknown) => void): Promise<() => Promise<void>> {
    this.assertOpen('subscribe');
    checkChannel(channel);
    const unsubscribe = this.subscribers.add(channel, onMessage, () => {
      this.stopListening();
    });
    try {
      // Resolve only once LISTEN is in place, so a publish after `subscribe` returns is heard.
      await this.ensureListening();
    } catch (error) {
      await unsubscribe();
      throw this.toStoreError(error, 'subscribe');
    }
    return unsubscribe;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopListening();
      this.subscribers.clear();
      try {
        await this.pool.end();
      } catch (error) {
        this.onError?.(error);
      }
    })();
    return this.closing;
  }

  /**
   * Brings `ledger_index` up to the ledger head in steps, each its own transaction that locks the index state
   * row (never the head, so appenders are not held up). Every record up to the head's seq is committed, since
   * the head moves in the same transaction as its records.
   */
  private async catchUpIndex(): Promise<void> {
    const state = await this.query<{ head: string; indexed: string }>(
      'index the ledger',
      this.sql.indexState,
      [],
    );
    const row = state.rows[0];
    if (row === undefined || Number(row.indexed) >= Number(row.head)) return;
    for (;;) {
      const done = await this.withClient('index the ledger', async (client) => {
        let committed = false;
        try {
          const opened = (await client.query(this.sql.beginAndLockIndex)) as unknown;
          const locked = Array.isArray(opened)
            ? (opened as QueryResult<{ seq: string }>[])[1]?.rows[0]
            : undefined;
          const head = (await client.query<{ seq: string }>(this.sql.head)).rows[0];
          if (locked === undefined || head === undefined)
            throw new StoreError('STORE_CORRUPT', `ledger state rows are missing in schema ${this.schema}`);
          const indexed = Number(locked.seq);
          const headSeq = Number(head.seq);
          const upTo = Math.min(headSeq, indexed + INDEX_STEP);
          if (upTo > indexed) {
            await client.query(this.sql.indexRange, [indexed, upTo]);
            await client.query(`UPDATE ${this.s}.ledger_index_state SET seq = $1 WHERE one`, [upTo]);
          }
          await client.query('COMMIT');
          committed = true;
          return upTo >= headSeq;
        } finally {
          if (!committed) await rollbackQuietly(client);
        }
      });
      if (done) return;
    }
  }

  // ----- connections -----

  private assertOpen(action: string): void {
    if (this.closing !== undefined)
      throw new StoreError('STORE_UNAVAILABLE', `cannot ${action}: the PostgreSQL store is closed`);
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    action: string,
    text: string,
    values: unknown[],
    /** Name under which the statement is prepared once per connection (hot statements only). */
    name?: string,
  ): Promise<QueryResult<R>> {
    this.assertOpen(action);
    try {
      return await this.pool.query<R>(name === undefined ? { text, values } : { name, text, values });
    } catch (error) {
      throw this.toStoreError(error, action);
    }
  }

  /**
   * Runs work on one pooled connection. A checked-out connection that breaks emits 'error' with no pool
   * listener attached, which would crash the process, so one is attached here. A connection that failed is
   * destroyed instead of being returned, so no half-finished transaction is ever reused.
   */
  private async withClient<T>(action: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen(action);
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.toStoreError(error, action);
    }
    const onClientError = (error: Error): void => {
      this.onError?.(this.toStoreError(error, action));
    };
    client.on('error', onClientError);
    let failure: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      throw this.toStoreError(error, action);
    } finally {
      client.off('error', onClientError);
      client.release(failure);
    }
  }

  private toStoreError(error: unknown, action: string): WardenError {
    return postgresError(error, action, this.target);
  }

  // ----- pub/sub -----

  private deliver(channel: string, payload: string): void {
    this.subscribers.deliver(channel, payload, () => this.closing !== undefined);
  }

  private onNotification(payload: string | undefined): void {
    if (payload === undefined) return;
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload) as Envelope;
    } catch (error) {
      this.onError?.(error);
      return;
    }
    if (envelope.o === this.origin || typeof envelope.c !== 'string') return;
    this.deliver(envelope.c, payload);
  }

  private ensureListening(): Promise<void> {
    if (this.listenReady === undefined) {
      const attempt = this.connectListener();
      this.listenReady = attempt;
      attempt.catch(() => {
        if (this.listenReady === attempt) this.listenReady = undefined;
      });
    }
    return this.listenReady;
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ ...this.config, application_name: `agent-warden-listen:${this.schema}` });
    this.listenClient = client;
    let established = false;
    const lost = (error: unknown): void => {
      // Failures while connecting reject `connectListener` itself; only a working connection is re-made.
      if (!established || this.listenClient !== client) return;
      this.listenClient = undefined;
      this.listenReady = undefined;
      client.end().catch(() => undefined);
      this.onError?.(this.toStoreError(error ?? new Error('LISTEN connection ended'), 'listen for messages'));
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => {
      lost(undefined);
    });
    client.on('notification', (notification) => {
      if (notification.channel === this.pgChannel) this.onNotification(notification.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.pgChannel)}`);
    } catch (error) {
      if (this.listenClient === client) this.listenClient = undefined;
      client.end().catch(() => undefined);
      throw this.toStoreError(error, 'listen for messages');
    }
    if (this.listenClient !== client) {
      // Everyone unsubscribed (or the store closed) while we were connecting.
      await client.end().catch(() => undefined);
      return;
    }
    established = true;
    this.reconnectDelay = RECONNECT_MIN_MS;
  }

  /**
   * Re-opens LISTEN after the connection dropped, with backoff, while anyone is subscribed. Notifications
   * sent while it was down are lost (NOTIFY is not queued for absent listeners): state that matters, such as
   * kill switches and approvals, lives in documents, and subscribers should re-read it when they resume.
   */
  private scheduleReconnect(): void {
    if (this.closing !== undefined || this.subscribers.size === 0 || this.reconnectTimer !== undefined)
      return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, delay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closing !== undefined || this.subscribers.size === 0) return;
      this.ensureListening().catch((error: unknown) => {
        this.onError?.(error);
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }

  private stopListening(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const client = this.listenClient;
    this.listenClient = undefined;
    this.listenReady = undefined;
    this.reconnectDelay = RECONNECT_MIN_MS;
    client?.end().catch(() => undefined);
  }
}

/**
 * Opens a PostgreSQL store and (by default) migrates its schema. Rejects with `STORE_UNAVAILABLE` within
 * the connection timeout when the server cannot be reached, never hangs and never crashes the process.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  if (typeof options.url !== 'string' || !/^postgres(ql)?:\/\//i.test(options.url)) {
    throw new WardenError('INVALID_ARGUMENT', 'a PostgreSQL store needs a postgres:// or postgresql:// URL');
  }
  const store = new PostgresStore(options);
  try {
    if (options.migrate ?? true) await store.migrate();
    else await store.ledgerHead();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** SQL text of the hot statements, built once per schema; the named ones are prepared once per connection. */
function statements(s: string) {
  // The records as rows: one array per column ($1 to $14), the data column as newline-separated JSON texts.
  const rows =
    'unnest($1::bigint[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[], ' +
    "$8::text[], $9::text[], $10::text[], $11::text[], string_to_array($12::text, E'\\n')::json[], $13::text[], $14::text[])";
  const tag = createHash('sha256').update(s).digest('hex').slice(0, 12);
  return {
    beginAndLockHead: `BEGIN; SELECT seq, hash FROM ${s}.ledger_head WHERE one FOR UPDATE`,
    insertAndMoveHead: `WITH inserted AS (INSERT INTO ${s}.ledger (${LEDGER_COLUMNS}) SELECT * FROM ${rows})
      UPDATE ${s}.ledger_head SET seq = $15, hash = $16 WHERE one`,
    insertAndMoveHeadName: `warden_ledger_insert_head_${tag}`,
    // The whole locked append as one statement. FOR UPDATE waits for any other appender and then yields the
    // head as that one committed it; the insert and the head move happen only if that is still the head the
    // records were chained onto ($15, $16), and RETURNING tells the caller whether they did.
    appendIfHead: `WITH head AS MATERIALIZED (SELECT seq, hash FROM ${s}.ledger_head WHERE one FOR UPDATE),
      inserted AS (
        INSERT INTO ${s}.ledger (${LEDGER_COLUMNS})
        SELECT u.* FROM head, ${rows} AS u WHERE head.seq = $15 AND head.hash = $16
      )
      UPDATE ${s}.ledger_head AS h SET seq = $17, hash = $18 FROM head
      WHERE h.one AND head.seq = $15 AND head.hash = $16 RETURNING h.seq`,
    appendIfHeadName: `warden_ledger_append_if_head_${tag}`,
    head: `SELECT seq, hash FROM ${s}.ledger_head WHERE one`,
    indexState: `SELECT h.seq AS head, i.seq AS indexed FROM ${s}.ledger_head h CROSS JOIN ${s}.ledger_index_state i`,
    beginAndLockIndex: `BEGIN; SELECT seq FROM ${s}.ledger_index_state WHERE one FOR UPDATE`,
    // One pass over the new records, sorted by key so each index page is written once per step.
    indexRange: `INSERT INTO ${s}.ledger_index (key, seq)
      SELECT k.key, l.seq FROM ${s}.ledger l
      CROSS JOIN LATERAL (VALUES ('a:' || l.agent), ('s:' || l.session), ('t:' || l.type)) AS k(key)
      WHERE l.seq > $1 AND l.seq <= $2 AND k.key IS NOT NULL
      ORDER BY 1, 2
      ON CONFLICT DO NOTHING`,
  };
}

/**
 * The `unnest` parameters for the records: one PostgreSQL array literal per column, built here
 * because it is several times faster than letting `pg` serialise 14 JavaScript arrays element by element.
 */
function ledgerArrays(records: readonly LedgerRecord[], prepared: readonly PreparedEntry[]): unknown[] {
  const seq: number[] = [];
  const id: string[] = [];
  const ts: number[] = [];
  const mono: string[] = [];
  const type: string[] = [];
  const agent: string[] = [];
  const session: string[] = [];
  const user: string[] = [];
  const task: string[] = [];
  const tool: string[] = [];
  const verdict: string[] = [];
  const data: string[] = [];
  const prevHash: string[] = [];
  const hash: string[] = [];
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as LedgerRecord;
    seq.push(r.seq);
    id.push(arrayElement(r.id));
    ts.push(r.ts);
    mono.push(arrayElement(r.mono));
    type.push(arrayElement(r.type));
    agent.push(arrayElement(r.agent));
    session.push(arrayElement(r.session));
    user.push(arrayElement(r.user));
    task.push(arrayElement(r.task));
    tool.push(arrayElement(r.tool));
    verdict.push(arrayElement(r.verdict));
    data.push((prepared[i] as PreparedEntry).dataJson);
    // Hex digests (the head's is checked when read): nothing to quote.
    prevHash.push(r.prevHash);
    hash.push(r.hash);
  }
  const literal = (column: unknown[]): string => '{' + column.join(',') + '}';
  return [
    literal(seq),
    literal(id),
    literal(ts),
    literal(mono),
    literal(type),
    literal(agent),
    literal(session),
    literal(user),
    literal(task),
    literal(tool),
    literal(verdict),
    // Canonical JSON never contains a raw newline (JSON escapes it inside strings), so the data travels as
    // newline-separated text split by the server: no array quoting of the largest column.
    data.join('\n'),
    literal(prevHash),
    literal(hash),
  ];
}

/** One element of a PostgreSQL array literal: NULL, or the text in double quotes with `\` and `"` escaped. */
function arrayElement(value: string | null): string {
  if (value === null) return 'NULL';
  let text = value;
  if (text.includes('\\')) text = text.replaceAll('\\', '\\\\');
  if (text.includes('"')) text = text.replaceAll('"', '\\"');
  return '"' + text + '"';
}

async function rollbackQuietly(client: PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
  } catch {
    // The connection is gone; the server rolls the transaction back by itself.
  }
}

function fromLedgerRow(row: LedgerRow): LedgerRecord {
  return toLedgerRecord(row, Number(row.seq), row.data);
}

function fromDocRow<T>(collection: string, row: DocRow): StoredDoc<T> {
  return {
    collection,
    id: row.id,
    body: row.body as T,
    version: row.version,
    updatedAt: Number(row.updated_at),
  };
}

/** `host:port/database` of a URL, never its credentials, for error messages. */
function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default database)';
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}/${database}`;
  } catch {
    return '(unparsable URL)';
  }
}

const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** Maps a `pg` failure to a StoreError whose message says what happened, where, and never the password. */
function postgresError(error: unknown, action: string, target: string): WardenError {
  if (error instanceof WardenError) return error;
  const code =
    typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  const detail = error instanceof Error ? error.message : String(error);
  const at = `PostgreSQL at ${target}`;
  if (code === '23505') {
    // The only unique key an append can break is seq: the head row is behind stored records.
    return action === APPEND
      ? new StoreError(
          'STORE_CORRUPT',
          `cannot ${action}: the ledger head at ${target} is behind its records (${detail}); run \`warden ledger verify\``,
          error,
        )
      : new StoreError('STORE_CONFLICT', `cannot ${action}: ${detail}`, error);
  }
  if (code === 'XX001' || code === 'XX002')
    return new StoreError('STORE_CORRUPT', `cannot ${action}: ${at} reports corrupt data (${detail})`, error);
  if (
    UNAVAILABLE_NODE_CODES.has(code) ||
    code.startsWith('08') ||
    /timeout|terminated|Connection/i.test(detail)
  ) {
    return new StoreError('STORE_UNAVAILABLE', `cannot ${action}: ${at} is unreachable (${detail})`, error);
  }
  if (code === '57014')
    return new StoreError('STORE_UNAVAILABLE', `cannot ${action}: ${at} timed out (${detail})`, error);
  if (code.startsWith('57P') || code.startsWith('53')) {
    return new StoreError(
      'STORE_UNAVAILABLE',
      `cannot ${action}: ${at} is shutting down or out of resources (${detail})`,
      error,
    );
  }
  if (code.startsWith('28') || code === '3D000' || code === '42501') {
    return new StoreError('STORE_UNAVAILABLE', `cannot ${action}: ${at} refused access (${detail})`, error);
  }
  return new StoreError('STORE_UNAVAILABLE', `cannot ${action} (${at}): ${detail}`, error);
}
