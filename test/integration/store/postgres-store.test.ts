import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../../../src/core/errors.js';
import { openStore } from '../../../src/store/open-store.js';
import { quoteIdent } from '../../../src/store/postgres/migrations.js';
import { openPostgresStore, PostgresStore } from '../../../src/store/postgres/postgres-store.js';
import type { Store } from '../../../src/store/store.js';
import { verifyStoreLedger } from '../../../src/store/verify-chain.js';
import {
  appendFromProcesses,
  entries,
  expectOneChain,
  nextMessage,
  runStoreContract,
  spawnWorker,
} from '../../store/store-contract.js';

const url = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Every schema this run creates starts with this, so afterAll can drop them all. */
const runPrefix = `warden_test_${process.pid}_${Date.now().toString(36)}`;
let schemaNo = 0;
const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });

function freshSchema(): string {
  schemaNo++;
  return `${runPrefix}_${schemaNo}`;
}

function schemaOf(store: Store): string {
  if (!(store instanceof PostgresStore)) throw new Error('not a PostgresStore');
  return store.schema;
}

let unreachable: Error | undefined;

// Never skip when PostgreSQL is missing: the first test fails with this error and every other test fails
// on its own when it cannot open a store.
beforeAll(async () => {
  try {
    await admin.connect();
  } catch (error) {
    unreachable = new Error(`PostgreSQL is unreachable at ${url} (set WARDEN_TEST_PG_URL): ${String(error)}`);
  }
});

afterAll(async () => {
  if (unreachable !== undefined) return;
  const { rows } = await admin.query<{ nspname: string }>(
    'SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)',
    [runPrefix],
  );
  for (const { nspname } of rows) await admin.query(`DROP SCHEMA ${quoteIdent(nspname)} CASCADE`);
  await admin.end();
});

it('reaches PostgreSQL', async () => {
  if (unreachable !== undefined) throw unreachable;
  expect((await admin.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
});

runStoreContract('postgres', () => openPostgresStore({ url, schema: freshSchema() }), {
  async exec(store, sql) {
    await admin.query(`SET search_path TO ${quoteIdent(schemaOf(store))}`);
    try {
      await admin.query(sql);
    } finally {
      await admin.query('RESET search_path');
    }
  },
  reopen: (store) => openPostgresStore({ url, schema: schemaOf(store) }),
});

describe('PostgresStore', () => {
  it('creates its schema, migrates once under concurrent openers, and is what openStore gives for a postgres URL', async () => {
    const schema = freshSchema();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresStore({ url, schema, poolSize: 2 })),
    );
    const versions = await admin.query(`SELECT version FROM ${quoteIdent(schema)}.schema_version`);
    expect(versions.rows).toEqual([{ version: 1 }]);
    await Promise.all(stores.map((s) => s.close()));

    const viaOpenStore = await openStore({ url: url.replace(/^postgres:/, 'postgresql:') });
    expect(viaOpenStore.kind).toBe('postgres');
    await viaOpenStore.close();
  });

  it('rejects quickly with STORE_UNAVAILABLE, without the password, when nothing listens on the port', async () => {
    const started = Date.now();
    const error: unknown = await openPostgresStore({
      url: 'postgres://warden:s3cret-pw@127.0.0.1:1/test',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('STORE_UNAVAILABLE');
    expect((error as Error).message).toContain('127.0.0.1:1/test');
    expect((error as Error).message).not.toContain('s3cret-pw');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up after the connection timeout when the server never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const error: unknown = await openPostgresStore({
        url: `postgres://postgres@127.0.0.1:${port}/test`,
        connectTimeoutMs: 300,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('STORE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('appends in one statement while it knows the head, and under the lock once another writer moved it', async () => {
    const schema = freshSchema();
    const a = await openPostgresStore({ url, schema });
    const b = await openPostgresStore({ url, schema });
    const spy = vi.spyOn(pg.Client.prototype, 'query');
    /** How many statements the stores (not the admin connection) sent while `work` ran. */
    const statements = async (work: () => Promise<unknown>): Promise<number> => {
      spy.mockClear();
      await work();
      return spy.mock.contexts.filter((client) => client !== admin).length;
    };
    try {
      // Not knowing the head yet: BEGIN and lock, insert and move the head, COMMIT.
      expect(await statements(() => a.appendLedger(entries(2)))).toBe(3);
      expect(await statements(() => a.appendLedger(entries(2)))).toBe(1);
      expect(await statements(() => a.appendLedger(entries(1)))).toBe(1);
      const theirs = await b.appendLedger(entries(3));
      // The one statement finds the head moved and changes nothing; the locked transaction follows.
      let mine: Awaited<ReturnType<Store['appendLedger']>> = [];
      expect(
        await statements(async () => {
          mine = await a.appendLedger(entries(2));
        }),
      ).toBe(4);
      expect(mine.map((r) => r.seq)).toEqual([9, 10]);
      expect(mine[0]?.prevHash).toBe(theirs.at(-1)?.hash);
      // The other writer is probably still busy: take the lock first for a while...
      expect(await statements(() => a.appendLedger(entries(1)))).toBe(3);
      // ...then bet on the known head again.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await statements(() => a.appendLedger(entries(1)))).toBe(1);
    } finally {
      spy.mockRestore();
    }
    const records = await a.readLedger();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(new Set(records.map((r) => r.id)).size).toBe(12);
    expect(await verifyStoreLedger(b)).toMatchObject({ ok: true, count: 12 });
    await a.close();
    await b.close();
  });

  it('survives its connections being killed: reports them, then works again', async () => {
    const schema = freshSchema();
    const errors: unknown[] = [];
    const store = await openPostgresStore({ url, schema, onError: (e) => errors.push(e) });
    await Promise.all([store.putDoc('d', 'a', 1), store.putDoc('d', 'b', 2), store.appendLedger(entries(3))]);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
      `agent-warden:${schema}`,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The first calls may meet a dead connection; the store must reject (not crash) and then recover.
    let recovered = false;
    for (let attempt = 0; attempt < 5 && !recovered; attempt++) {
      try {
        await store.appendLedger(entries(1));
        recovered = true;
      } catch (error) {
        expect(error).toBeInstanceOf(StoreError);
      }
    }
    expect(recovered).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e instanceof StoreError)).toBe(true);
    expect((await store.readLedger()).length).toBe(4);
    await store.close();
  });

  it('re-opens LISTEN after its connection drops', { timeout: 30_000 }, async () => {
    const schema = freshSchema();
    const listener = await openPostgresStore({ url, schema });
    const publisher = await openPostgresStore({ url, schema });
    const got: unknown[] = [];
    const unsubscribe = await listener.subscribe('kill', (m) => got.push(m));
    await publisher.publish('kill', { n: 1 });
    await expect.poll(() => got.length, { timeout: 5_000 }).toBe(1);
    const killed = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [`agent-warden-listen:${schema}`],
    );
    expect(killed.rowCount).toBe(1);
    // Messages sent while LISTEN is down are lost by design; keep publishing until one arrives.
    const deadline = Date.now() + 20_000;
    let n = 2;
    while (got.length < 2 && Date.now() < deadline) {
      await publisher.publish('kill', { n: n++ });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(got.length).toBeGreaterThanOrEqual(2);
    await unsubscribe();
    await listener.close();
    await publisher.close();
  });

  it(
    'keeps one chain when two OS processes append to the same schema at once',
    { timeout: 120_000 },
    async () => {
      const schema = freshSchema();
      const store = await openPostgresStore({ url, schema });
      const count = 600;
      const names = await appendFromProcesses({ backend: 'postgres', url, schema }, 2, count);
      await expectOneChain(store, names, count);
      await store.close();
    },
  );

  it('delivers publish/subscribe messages between OS processes', { timeout: 60_000 }, async () => {
    const schema = freshSchema();
    const store = await openPostgresStore({ url, schema });
    const worker = spawnWorker('store-pubsub-worker.ts', { target: { backend: 'postgres', url, schema } });
    try {
      const { message } = await nextMessage(store, 'to-parent', 30_000);
      await worker.waitFor('ready', 30_000);
      await store.publish('to-child', { approval: 'ap-7', state: 'approved' });
      expect(await message).toEqual({ echo: { approval: 'ap-7', state: 'approved' } });
      expect((await worker.exit).code).toBe(0);
    } finally {
      worker.kill();
      await store.close();
    }
  });

  it('does not hear messages published in another schema', async () => {
    const a = await openPostgresStore({ url, schema: freshSchema() });
    const b = await openPostgresStore({ url, schema: freshSchema() });
    const got: unknown[] = [];
    const unsubscribe = await b.subscribe('kill', (m) => got.push(m));
    await a.publish('kill', { other: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(got).toEqual([]);
    await unsubscribe();
    await a.close();
    await b.close();
  });

  it('refuses an unsafe schema name', async () => {
    await expect(openPostgresStore({ url, schema: 'x"; DROP SCHEMA public; --' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
