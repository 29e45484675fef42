import { WardenError } from '../core/errors.js';
import type { Store } from './store.js';

/** Where to keep Warden's state: a PostgreSQL URL, or a SQLite file. */
export interface OpenStoreOptions {
  /** `postgres://` or `postgresql://` URL; when absent or empty, SQLite is used. */
  url?: string | undefined;
  /** SQLite file when no URL is given (default `.warden/warden.db`); `:memory:` for a throwaway store. */
  path?: string | undefined;
  /** SQLite durability (`store.synchronous`): `normal` (default) or `full` (an fsync per commit). */
  synchronous?: 'normal' | 'full' | undefined;
}

/** The SQLite file used when neither a URL nor a path is configured. */
export const DEFAULT_SQLITE_PATH = '.warden/warden.db';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * Opens and migrates the configured store: PostgreSQL for a `postgres://` or `postgresql://` URL, otherwise
 * SQLite at `path`. Each backend is imported only when chosen, so SQLite users never load `pg`. Any other URL
 * is refused rather than silently replaced by a local file (a typo must not split a fleet's state).
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const url = options.url?.trim();
  if (url !== undefined && url !== '') {
    if (!POSTGRES_URL.test(url)) {
      throw new WardenError(
        'CONFIG_INVALID',
        `unsupported store URL scheme in "${url.replace(/\/\/[^@/]*@/, '//***@')}"`,
        {
          hint: 'use a postgres:// or postgresql:// URL, or leave the URL empty and set a SQLite path',
        },
      );
    }
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore({ url });
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
  return openSqliteStore({
    path: options.path ?? DEFAULT_SQLITE_PATH,
    ...(options.synchronous === 'full' ? { synchronous: 'FULL' as const } : {}),
  });
}
