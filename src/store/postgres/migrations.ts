import type { ClientBase } from 'pg';
import { StoreError } from '../../core/errors.js';
import { GENESIS_HASH } from '../hash.js';

/** One schema step. Versions are consecutive from 1; a step never changes once released. */
export interface PostgresMigration {
  version: number;
  description: string;
  /** The step's SQL for a schema, given as an already quoted identifier. */
  sql: (schema: string) => string;
}

/**
 * The PostgreSQL schema, oldest first.
 *
 * `ledger_head` is the one row every append locks (`SELECT ... FOR UPDATE`), which serialises appenders
 * across processes and replicas without locking the ledger table. As on SQLite, the ledger has no secondary
 * index: keeping three B-trees (agent, session, type) current on every append took about a third of the
 * write budget, so `ledger_index` is brought up to date in sorted runs by the first filtered read after
 * appends (`ledger_index_state` records how far, and is the row catch-ups lock, never the head).
 * Document ids compare in the "C" collation so they list in code-point order, as on SQLite. `data` and `body`
 * are `json`, not `jsonb`: `json` keeps the text as written and accepts every string JSON can carry.
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'ledger, ledger head and lookup index, documents',
    sql: (s) => `
      CREATE TABLE ${s}.ledger (
        seq       bigint           PRIMARY KEY,
        id        text             NOT NULL,
        ts        double precision NOT NULL,
        mono      text             NOT NULL,
        type      text             NOT NULL,
        agent     text,
        session   text,
        "user"    text,
        task      text,
        tool      text,
        verdict   text,
        data      json             NOT NULL,
        prev_hash text             NOT NULL,
        hash      text             NOT NULL
      );

      CREATE TABLE ${s}.ledger_head (
        one  boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq  bigint  NOT NULL,
        hash text    NOT NULL
      );
      INSERT INTO ${s}.ledger_head (one, seq, hash) VALUES (true, 0, '${GENESIS_HASH}');

      -- key is 'a:<agent>', 's:<session>' or 't:<type>'.
      CREATE TABLE ${s}.ledger_index (
        key text   COLLATE "C" NOT NULL,
        seq bigint NOT NULL,
        PRIMARY KEY (key, seq)
      );
      CREATE TABLE ${s}.ledger_index_state (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        seq bigint  NOT NULL
      );
      INSERT INTO ${s}.ledger_index_state (one, seq) VALUES (true, 0);

      CREATE TABLE ${s}.docs (
        collection text COLLATE "C" NOT NULL,
        id         text COLLATE "C" NOT NULL,
        body       json             NOT NULL,
        version    integer          NOT NULL,
        updated_at bigint           NOT NULL,
        PRIMARY KEY (collection, id)
      );
    `,
  },
];

/** The newest schema version this build knows. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;

/** First key of the advisory lock that guards migrations ("WA" for Warden); the second is the schema's hash. */
const MIGRATION_LOCK_CLASS = 0x5741;

/** Quotes an identifier for PostgreSQL. */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * Creates the schema if needed and applies the missing steps, all in one transaction that first takes a
 * transaction-scoped advisory lock for this schema: replicas starting together queue on the lock, and each
 * one after the first finds nothing left to do. A schema written by a newer Warden is refused.
 */
export async function migratePostgres(client: ClientBase, schema: string): Promise<void> {
  const s = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    // Check before creating, so a role without CREATE on the database can use a schema made for it.
    const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_version (
         version integer PRIMARY KEY,
         description text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const result = await client.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${s}.schema_version`,
    );
    const current = result.rows[0]?.v ?? 0;
    if (current > POSTGRES_SCHEMA_VERSION) {
      throw new StoreError(
        'STORE_UNAVAILABLE',
        `the PostgreSQL schema ${schema} has version ${current}, newer than this version of agent-warden supports (${POSTGRES_SCHEMA_VERSION}); upgrade agent-warden`,
      );
    }
    for (const migration of POSTGRES_MIGRATIONS) {
      if (migration.version <= current) continue;
      await client.query(migration.sql(s));
      await client.query(`INSERT INTO ${s}.schema_version (version, description) VALUES ($1, $2)`, [
        migration.version,
        migration.description,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch {
      // The connection is gone; the server rolls back on its own.
    }
    throw error;
  }
}
