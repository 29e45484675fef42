import type Database from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';
import { GENESIS_HASH } from '../hash.js';

/** One schema step. Versions are consecutive from 1; a step never changes once released. */
export interface SqliteMigration {
  version: number;
  description: string;
  sql: string;
}

/**
 * The SQLite schema, oldest first.
 *
 * The ledger table has no secondary index on purpose: maintaining three interleaved B-trees (agent, session,
 * type) on every append costs more than half of the write budget. `ledger_index` is a lookup table that the
 * first filtered read brings up to date in large sorted runs (see `SqliteStore.readLedger`), which is several
 * times cheaper per record and costs appenders nothing. `ledger_head` holds the chain's tip apart from the
 * records, so an append reads one row and records cut off the end of the ledger are noticed by verification.
 */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    description: 'ledger, ledger head and lookup index, documents, pub/sub messages',
    sql: `
      CREATE TABLE ledger (
        seq       INTEGER PRIMARY KEY,
        id        TEXT    NOT NULL,
        ts        REAL    NOT NULL,
        mono      TEXT    NOT NULL,
        type      TEXT    NOT NULL,
        agent     TEXT,
        session   TEXT,
        "user"    TEXT,
        task      TEXT,
        tool      TEXT,
        verdict   TEXT,
        data      TEXT    NOT NULL,
        prev_hash TEXT    NOT NULL,
        hash      TEXT    NOT NULL
      );

      CREATE TABLE ledger_head (
        one         INTEGER PRIMARY KEY CHECK (one = 1),
        seq         INTEGER NOT NULL,
        hash        TEXT    NOT NULL,
        indexed_seq INTEGER NOT NULL
      );
      INSERT INTO ledger_head (one, seq, hash, indexed_seq) VALUES (1, 0, '${GENESIS_HASH}', 0);

      -- key is 'a:<agent>', 's:<session>' or 't:<type>'.
      CREATE TABLE ledger_index (
        key TEXT    NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (key, seq)
      ) WITHOUT ROWID;

      CREATE TABLE docs (
        collection TEXT    NOT NULL,
        id         TEXT    NOT NULL,
        body       TEXT    NOT NULL,
        version    INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (collection, id)
      ) WITHOUT ROWID;

      -- AUTOINCREMENT so that ids are never reused after pruning: pollers keep a cursor on them.
      CREATE TABLE messages (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        channel    TEXT    NOT NULL,
        payload    TEXT    NOT NULL,
        origin     TEXT    NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX messages_created_at ON messages (created_at);
    `,
  },
];

/** The newest schema version this build knows. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

/**
 * Brings the database to the newest schema. Runs in one IMMEDIATE transaction, so two processes opening
 * the same new file at once serialise on SQLite's write lock and the second sees the first's work;
 * running it again is a no-op. A database written by a newer Warden is refused rather than guessed at.
 */
export function migrateSqlite(db: Database.Database): void {
  const run = db.transaction(() => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as
      { v: number | null } | undefined;
    const current = row?.v ?? 0;
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new StoreError(
        'STORE_UNAVAILABLE',
        `the SQLite store has schema version ${current}, newer than this version of agent-warden supports (${SQLITE_SCHEMA_VERSION}); upgrade agent-warden`,
      );
    }
    const record = db.prepare(
      'INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)',
    );
    for (const migration of SQLITE_MIGRATIONS) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.description, Date.now());
    }
  });
  run.immediate();
}
