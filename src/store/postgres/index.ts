/**
 * `agent-warden/postgres`: the PostgreSQL store (`pg`), for several replicas sharing approvals, kill switches,
 * inventory and one ledger. Kept behind its own entry so SQLite users never load `pg`.
 */
export { PostgresStore, openPostgresStore, MAX_MESSAGE_BYTES } from './postgres-store.js';
export type { PostgresStoreOptions } from './postgres-store.js';
export { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION, migratePostgres } from './migrations.js';
export type { PostgresMigration } from './migrations.js';
