import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { quoteIdent } from '../../../src/store/postgres/migrations.js';
import { openPostgresStore } from '../../../src/store/postgres/postgres-store.js';
import type { Store } from '../../../src/store/store.js';

/** PostgreSQL for a test file: fresh schemas per store, dropped at the end. Fails (never skips) when unreachable. */
export function postgresForTests(name: string) {
  const url = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const prefix = `warden_${name}_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  let n = 0;
  let unreachable: Error | undefined;
  beforeAll(async () => {
    try {
      await admin.connect();
    } catch (error) {
      unreachable = new Error(
        `PostgreSQL is unreachable at ${url} (set WARDEN_TEST_PG_URL): ${String(error)}`,
      );
    }
  });
  afterAll(async () => {
    if (unreachable) return;
    const { rows } = await admin.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)',
      [prefix],
    );
    for (const { nspname } of rows) await admin.query(`DROP SCHEMA ${quoteIdent(nspname)} CASCADE`);
    await admin.end();
  });
  it('reaches PostgreSQL', () => {
    if (unreachable) throw unreachable;
    expect(unreachable).toBeUndefined();
  });
  return {
    url,
    /** A fresh store in its own schema, and a way to open it again (another replica). */
    async makeStore(): Promise<{ store: Store; reopen: () => Promise<Store>; schema: string }> {
      if (unreachable) throw unreachable;
      const schema = `${prefix}_${++n}`;
      const store = await openPostgresStore({ url, schema });
      return { store, schema, reopen: () => openPostgresStore({ url, schema }) };
    },
  };
}
