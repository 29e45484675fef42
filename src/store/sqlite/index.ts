/**
 * `agent-warden/sqlite`: the embedded SQLite store (better-sqlite3, WAL), Warden's default backend.
 */
export { SqliteStore, openSqliteStore, MAX_MESSAGE_BYTES } from './sqlite-store.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, migrateSqlite } from './migrations.js';
export type { SqliteMigration } from './migrations.js';
