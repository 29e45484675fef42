import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

/** Where to keep Warden's state: a PostgreSQL URL, or a SQLite file. */
export interface OpenStoreOptions {
  /** `postgres://` or `postgresql://` URL; when absent or empty, SQLite is used. */
  url?: string | undefined;
  /** SQLite file (default `.warden/warden.db`); `:memory:` for a throwaway store. */
  path?: string | undefined;
}

/**
 * Opens the configured store. PostgreSQL is loaded lazily, so SQLite users never load `pg`.
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const url = options.url?.trim();
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore({ url });
  }
  return openSqliteStore({ path: options.path ?? '.warden/warden.db' });
}
