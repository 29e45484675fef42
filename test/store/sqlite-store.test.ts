import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { migrateSqlite } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore, SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { verifyStoreLedger } from '../../src/store/verify-chain.js';
import {
  appendFromProcesses,
  entries,
  expectOneChain,
  nextMessage,
  runStoreContract,
  spawnWorker,
} from './store-contract.js';

const root = mkdtempSync(join(tmpdir(), 'warden-sqlite-store-'));
let fileNo = 0;

function tempPath(): string {
  fileNo++;
  return join(root, `store-${fileNo}`, 'warden.db');
}

function pathOf(store: Store): string {
  if (!(store instanceof SqliteStore)) throw new Error('not a SqliteStore');
  return store.path;
}

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

runStoreContract('sqlite', () => openSqliteStore({ path: tempPath() }), {
  exec(store, sql) {
    const db = new Database(pathOf(store));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
    return Promise.resolve();
  },
  reopen: (store) => openSqliteStore({ path: pathOf(store) }),
});

describe('SqliteStore', () => {
  it('creates the parent directory and uses WAL', async () => {
    const path = join(root, 'deep', 'er', 'warden.db');
    const store = await openSqliteStore({ path });
    await store.appendLedger(entries(1));
    expect(existsSync(path)).toBe(true);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_version').pluck().all()).toEqual([1]);
    db.close();
    await store.close();
  });

  it('commits with synchronous=NORMAL by default and FULL when store.synchronous is full', async () => {
    const level = (store: Store) =>
      (store as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true });
    const normal = await openStore({ path: tempPath() });
    const full = await openStore({ path: tempPath(), synchronous: 'full' });
    expect(level(normal)).toBe(1);
    expect(level(full)).toBe(2);
    await normal.close();
    await full.close();
  });

  it('gives a new file 16 KiB pages, and keeps appending to an existing file with its own page size', async () => {
    const fresh = tempPath();
    const store = await openSqliteStore({ path: fresh });
    await store.appendLedger(entries(2));
    await store.close();
    const check = new Database(fresh, { readonly: true });
    expect(check.pragma('page_size', { simple: true })).toBe(16_384);
    check.close();

    // A file made before the page size was set: 4 KiB pages, which SQLite cannot change in WAL mode.
    const older = tempPath();
    mkdirSync(dirname(older), { recursive: true });
    const legacy = new Database(older);
    legacy.pragma('page_size = 4096');
    legacy.pragma('journal_mode = WAL');
    migrateSqlite(legacy);
    legacy.close();
    const reopened = await openSqliteStore({ path: older });
    for (let i = 0; i < 5; i++) await reopened.appendLedger(entries(400));
    expect(await verifyStoreLedger(reopened)).toMatchObject({ ok: true, count: 2_000 });
    await reopened.close();
    const after = new Database(older, { readonly: true });
    expect(after.pragma('page_size', { simple: true })).toBe(4_096);
    after.close();
  });

  it('works in memory', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    await store.appendLedger(entries(3));
    expect((await store.ledgerHead())?.seq).toBe(3);
    const { message } = await nextMessage(store, 'c');
    await store.publish('c', { hello: 'memory' });
    expect(await message).toEqual({ hello: 'memory' });
    await store.close();
  });

  it('is what openStore gives without a PostgreSQL URL, and openStore refuses unknown URL schemes', async () => {
    const path = tempPath();
    const store = await openStore({ path });
    expect(store.kind).toBe('sqlite');
    await store.close();
    const blank = await openStore({ url: '  ', path: tempPath() });
    expect(blank.kind).toBe('sqlite');
    await blank.close();
    await expect(openStore({ url: 'mysql://user:pw@host/db' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(openStore({ url: 'mysql://user:pw@host/db' })).rejects.not.toThrow(/pw/);
  });

  it('rejects a file that is not a database with STORE_CORRUPT', async () => {
    const contents = [Buffer.from('this is not a database, just some text\n'.repeat(200)), randomBytes(8192)];
    for (const [i, content] of contents.entries()) {
      const corrupt = join(root, `corrupt-${i}.db`);
      writeFileSync(corrupt, content);
      const error: unknown = await openSqliteStore({ path: corrupt }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('STORE_CORRUPT');
      expect((error as Error).message).toContain(corrupt);
      expect((error as Error).message).toMatch(/not a valid SQLite database/);
    }
  });

  it('rejects a path it cannot open with STORE_UNAVAILABLE', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const error: unknown = await openSqliteStore({ path: join(file, 'under-a-file.db') }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('STORE_UNAVAILABLE');
  });

  it('rejects within the busy timeout, without hanging, while another connection holds an exclusive lock', async () => {
    const path = tempPath();
    const store = await openSqliteStore({ path, busyTimeoutMs: 300 });
    await store.appendLedger(entries(1));
    const locker = new Database(path);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      const started = Date.now();
      const error: unknown = await store.appendLedger(entries(1)).catch((e: unknown) => e);
      const waited = Date.now() - started;
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('STORE_UNAVAILABLE');
      expect((error as Error).message).toMatch(/locked by another connection.*300 ms/);
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(5_000);
      await expect(store.putDoc('d', '1', {})).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      // Opening (which migrates) fails the same way rather than waiting for ever.
      await expect(openSqliteStore({ path, busyTimeoutMs: 200 })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      // Reads still work in WAL mode.
      expect((await store.readLedger()).length).toBe(1);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    await store.appendLedger(entries(1));
    expect((await store.ledgerHead())?.seq).toBe(2);
    await store.close();
  });

  it('prunes old pub/sub rows', async () => {
    const path = tempPath();
    const store = await openSqliteStore({ path, messageRetentionMs: 0 });
    await store.publish('c', 1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await store.publish('c', 2);
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(1);
    db.close();
    await store.close();
  });

  it(
    'keeps one chain when OS processes create, migrate and append to the same file at once',
    { timeout: 90_000 },
    async () => {
      // The workers find no file: they race to create it, switch it to WAL and migrate it too.
      const path = tempPath();
      const count = 1_500;
      const names = await appendFromProcesses({ backend: 'sqlite', path }, 3, count);
      const store = await openSqliteStore({ path });
      await expectOneChain(store, names, count);
      await store.close();
    },
  );

  it('delivers pub/sub messages between OS processes sharing the file', { timeout: 60_000 }, async () => {
    const path = tempPath();
    const store = await openSqliteStore({ path });
    const worker = spawnWorker('store-pubsub-worker.ts', { target: { backend: 'sqlite', path } });
    try {
      const { message } = await nextMessage(store, 'to-parent', 30_000);
      await worker.waitFor('ready', 30_000);
      await store.publish('to-child', { kill: 'global' });
      expect(await message).toEqual({ echo: { kill: 'global' } });
      expect((await worker.exit).code).toBe(0);
    } finally {
      worker.kill();
      await store.close();
    }
  });
});
