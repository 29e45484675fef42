import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreError, WardenError } from '../../src/core/errors.js';
import { GENESIS_HASH, recordHash } from '../../src/store/hash.js';
import type { LedgerEntry, LedgerRecord, Store } from '../../src/store/store.js';
import { verifyLedger, verifyStoreLedger } from '../../src/store/verify-chain.js';

/** What the contract needs from a backend beyond the Store interface. */
export interface ContractBackend {
  /** Runs raw SQL on the database behind `store`, with its tables reachable unqualified (to tamper with rows). */
  exec(store: Store, sql: string): Promise<void>;
  /** Opens another store on the same database (and schema) as `store`. */
  reopen(store: Store): Promise<Store>;
}

let counter = 0;

/** A ledger entry with sensible defaults; ids are unique within the process. */
export function entry(overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  counter++;
  return {
    id: `evt-${process.pid}-${counter}`,
    ts: 1_700_000_000_000 + counter,
    mono: String(process.hrtime.bigint()),
    type: 'tool.call',
    agent: 'agent-a',
    session: 'session-1',
    user: 'alice',
    task: 'task-1',
    tool: 'github.create_issue',
    verdict: 'allow',
    data: { args: { repo: 'acme/app', n: counter }, reasons: [] },
    ...overrides,
  };
}

/** `n` entries built by `make(i)`. */
export function entries(n: number, make: (i: number) => Partial<LedgerEntry> = () => ({})): LedgerEntry[] {
  return Array.from({ length: n }, (_, i) => entry(make(i)));
}

/** The next message on `channel`, or a rejection after `timeoutMs`. Resolves once subscribed. */
export async function nextMessage(
  store: Store,
  channel: string,
  timeoutMs = 5_000,
): Promise<{ message: Promise<unknown> }> {
  let resolve!: (value: unknown) => void;
  let reject!: (error: Error) => void;
  const message = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const unsubscribe = await store.subscribe(channel, (m) => {
    resolve(m);
  });
  const timer = setTimeout(() => {
    reject(new Error(`no message on ${channel} within ${timeoutMs} ms`));
  }, timeoutMs);
  return {
    message: message.finally(() => {
      clearTimeout(timer);
      void unsubscribe();
    }),
  };
}

/** A spawned fixture process, read line by line. */
export interface Worker {
  /** Resolves with the first stdout line starting with `prefix`. */
  waitFor(prefix: string, timeoutMs?: number): Promise<string>;
  send(line: string): void;
  /** Exit code; stderr is attached to a non-zero exit for the test's failure message. */
  exit: Promise<{ code: number | null; stderr: string }>;
  kill(): void;
}

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Spawns `test/fixtures/<script>` with `node --import tsx` (npx costs a second process and triples start-up CPU), passing `args` as one JSON argument. */
export function spawnWorker(script: string, args: unknown): Worker {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'test', 'fixtures', script), JSON.stringify(args)],
    {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    const parts = stdout.split('\n');
    stdout = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => line.startsWith(w.prefix))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('close', (code) => {
      resolve({ code, stderr });
    });
  });
  return {
    waitFor(prefix, timeoutMs = 30_000) {
      const seen = lines.find((line) => line.startsWith(prefix));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `worker ${script} printed no "${prefix}" line within ${timeoutMs} ms; stderr: ${stderr}`,
            ),
          );
        }, timeoutMs);
        waiters.push({
          prefix,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exit.then(({ code }) => {
          clearTimeout(timer);
          reject(
            new Error(`worker ${script} exited (${code}) before printing "${prefix}"; stderr: ${stderr}`),
          );
        });
      });
    },
    send(line) {
      child.stdin.write(line + '\n');
    },
    exit,
    kill() {
      child.kill();
    },
  };
}

/**
 * Starts `workers` OS processes that all open the same store, releases them at once, and waits for each
 * to append `count` records. Returns the worker names.
 */
export async function appendFromProcesses(
  target: unknown,
  workers: number,
  count: number,
): Promise<string[]> {
  const names = Array.from({ length: workers }, (_, i) => `w${i}-${process.pid}`);
  const spawned = names.map((worker) => spawnWorker('store-append-worker.ts', { target, worker, count }));
  try {
    await Promise.all(spawned.map((w) => w.waitFor('ready', 60_000)));
    for (const w of spawned) w.send('go');
    const exits = await Promise.all(spawned.map((w) => w.exit));
    for (const { code, stderr } of exits) expect(code, stderr).toBe(0);
  } finally {
    for (const w of spawned) w.kill();
  }
  return names;
}

/** Checks the ledger after `appendFromProcesses`: one valid chain, every record present, writers interleaved. */
export async function expectOneChain(store: Store, names: string[], count: number): Promise<void> {
  const records = await store.readLedger();
  expect(records).toHaveLength(names.length * count);
  expect(verifyLedger(records)).toEqual({ ok: true, count: names.length * count });
  expect(await verifyStoreLedger(store)).toMatchObject({ ok: true, count: names.length * count });
  for (const name of names) {
    const mine = records.filter((r) => r.agent === name).map((r) => r.id);
    expect(mine).toEqual(Array.from({ length: count }, (_, i) => `${name}-${i}`));
  }
  // The writers really ran at the same time: authorship changes hands more than once.
  let switches = 0;
  for (let i = 1; i < records.length; i++) if (records[i]?.agent !== records[i - 1]?.agent) switches++;
  expect(switches).toBeGreaterThan(names.length);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Strips a record down to what a caller handed over, for comparisons. */
function asEntry(record: LedgerRecord): LedgerEntry {
  const { id, ts, mono, type, agent, session, user, task, tool, verdict, data } = record;
  return { id, ts, mono, type, agent, session, user, task, tool, verdict, data };
}

/**
 * The behaviour every Store backend must have. `open` gives a fresh, empty, migrated store each time; the
 * suite closes every store it opened after each test.
 */
export function runStoreContract(name: string, open: () => Promise<Store>, backend: ContractBackend): void {
  describe(`${name}: Store contract`, () => {
    const opened: Store[] = [];

    async function fresh(): Promise<Store> {
      const store = await open();
      opened.push(store);
      return store;
    }

    async function again(store: Store): Promise<Store> {
      const other = await backend.reopen(store);
      opened.push(other);
      return other;
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    describe('ledger', () => {
      it('starts empty', async () => {
        const store = await fresh();
        expect(await store.ledgerHead()).toBeUndefined();
        expect(await store.readLedger()).toEqual([]);
        expect(await store.appendLedger([])).toEqual([]);
        expect(await verifyStoreLedger(store)).toEqual({ ok: true, count: 0, head: undefined });
      });

      it('appends records in order, chained from the genesis hash, and reads them back as stored', async () => {
        const store = await fresh();
        const batches = [entries(1), entries(5), entries(0), entries(10)];
        const appended: LedgerRecord[] = [];
        for (const batch of batches) {
          const records = await store.appendLedger(batch);
          expect(records.map(asEntry)).toEqual(batch);
          appended.push(...records);
        }
        expect(appended.map((r) => r.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
        let prev = GENESIS_HASH;
        for (const record of appended) {
          expect(record.prevHash).toBe(prev);
          expect(record.hash).toBe(recordHash(record, record.seq, record.prevHash));
          prev = record.hash;
        }
        expect(await store.readLedger()).toEqual(appended);
        expect(await store.ledgerHead()).toEqual({ seq: 16, hash: prev });
        expect(verifyLedger(await store.readLedger())).toEqual({ ok: true, count: 16 });
      });

      it('pages with afterSeq and limit', async () => {
        const store = await fresh();
        await store.appendLedger(entries(25));
        const page1 = await store.readLedger({ limit: 10 });
        const page2 = await store.readLedger({ afterSeq: 10, limit: 10 });
        const page3 = await store.readLedger({ afterSeq: 20, limit: 10 });
        expect(page1.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(page2.map((r) => r.seq)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
        expect(page3.map((r) => r.seq)).toEqual([21, 22, 23, 24, 25]);
        expect(await store.readLedger({ afterSeq: 25 })).toEqual([]);
        expect(await store.readLedger({ limit: 0 })).toEqual([]);
        await expect(store.readLedger({ limit: -1 })).rejects.toBeInstanceOf(WardenError);
      });

      it('filters by agent, session and type, including records appended after an earlier filtered read', async () => {
        const store = await fresh();
        await store.appendLedger(
          entries(30, (i) => ({
            agent: i % 3 === 0 ? 'agent-x' : 'agent-y',
            session: `s-${i % 5}`,
            type: i % 2 === 0 ? 'tool.call' : 'tool.result',
          })),
        );
        const all = await store.readLedger();
        const expectSeqs = (records: LedgerRecord[], keep: (r: LedgerRecord) => boolean): void => {
          expect(records.map((r) => r.seq)).toEqual(all.filter(keep).map((r) => r.seq));
        };
        expectSeqs(await store.readLedger({ agent: 'agent-x' }), (r) => r.agent === 'agent-x');
        expectSeqs(await store.readLedger({ session: 's-2' }), (r) => r.session === 's-2');
        expectSeqs(await store.readLedger({ type: 'tool.result' }), (r) => r.type === 'tool.result');
        expectSeqs(
          await store.readLedger({ agent: 'agent-y', session: 's-1', type: 'tool.call' }),
          (r) => r.agent === 'agent-y' && r.session === 's-1' && r.type === 'tool.call',
        );
        const paged = await store.readLedger({ session: 's-0', afterSeq: 6, limit: 2 });
        expect(paged.map((r) => r.seq)).toEqual(
          all
            .filter((r) => r.session === 's-0' && r.seq > 6)
            .slice(0, 2)
            .map((r) => r.seq),
        );
        expect(await store.readLedger({ agent: 'nobody' })).toEqual([]);

        // Records appended after the lookup index caught up must still be found.
        const more = await store.appendLedger(
          entries(4, () => ({ agent: 'agent-x', session: 's-new', type: 'memory.write' })),
        );
        expect((await store.readLedger({ session: 's-new' })).map((r) => r.seq)).toEqual(
          more.map((r) => r.seq),
        );
        expect((await store.readLedger({ agent: 'agent-x' })).slice(-4)).toEqual(
          await store.readLedger({ session: 's-new' }),
        );
        // A record without agent or session is still found by type.
        const bare = await store.appendLedger([entry({ agent: null, session: null, type: 'kill.engaged' })]);
        expect(await store.readLedger({ type: 'kill.engaged' })).toEqual(bare);
      });

      it('finds filtered records across a large ledger', async () => {
        const store = await fresh();
        for (let i = 0; i < 6; i++) {
          await store.appendLedger(
            entries(5_000, (k) => ({ agent: `agent-${k % 7}`, session: `big-${i}-${k % 50}` })),
          );
        }
        const records = await store.readLedger({ session: 'big-5-13' });
        expect(records).toHaveLength(100);
        expect(records.every((r) => r.session === 'big-5-13')).toBe(true);
        expect(await store.readLedger({ agent: 'agent-3', afterSeq: 29_000 })).toHaveLength(
          (await store.readLedger({ afterSeq: 29_000 })).filter((r) => r.agent === 'agent-3').length,
        );
        expect((await verifyStoreLedger(store, { pageSize: 7_000 })).ok).toBe(true);
      });

      it('round-trips awkward data exactly enough for the hash chain to verify', async () => {
        const store = await fresh();
        const awkward: unknown[] = [
          null,
          'a plain string',
          0,
          -0,
          -12.5,
          1e21,
          5e-324,
          Number.MAX_SAFE_INTEGER,
          true,
          [],
          {},
          { z: 1, a: [1, 'two', null, { nested: { deep: ['x'] } }], 'key with "quotes"': 'back\\slash' },
          { unicode: 'héllo wörld ☃ 𝄞 日本語', control: 'tab\there\nnewline\r\u0001\u0000nul', emoji: '👩‍💻' },
          { undef: undefined, kept: 1 },
          { big: 2 ** 64, neg: -1e-7 },
        ];
        const appended = await store.appendLedger(
          awkward.map((data) => entry({ data, verdict: null, tool: null })),
        );
        const read = await store.readLedger();
        expect(verifyLedger(read)).toEqual({ ok: true, count: awkward.length });
        expect(read.map((r) => r.hash)).toEqual(appended.map((r) => r.hash));
        expect(read[11]?.data).toEqual(awkward[11]);
        expect(read[12]?.data).toEqual(awkward[12]);
        expect(read[13]?.data).toEqual({ kept: 1 });
        expect(read[0]?.data).toBeNull();
        expect(read[0]?.verdict).toBeNull();
      });

      it('treats a missing data or actor field as null', async () => {
        const store = await fresh();
        const partial = { id: 'partial-1', ts: 1, mono: '1', type: 'ingest' } as unknown as LedgerEntry;
        const [record] = await store.appendLedger([partial]);
        expect(record).toMatchObject({
          agent: null,
          session: null,
          user: null,
          task: null,
          tool: null,
          verdict: null,
          data: null,
        });
        expect(verifyLedger(await store.readLedger())).toEqual({ ok: true, count: 1 });
      });

      it('rejects an invalid batch as a whole and appends nothing', async () => {
        const store = await fresh();
        await store.appendLedger(entries(2));
        const bad: unknown[] = [
          { ...entry(), data: { x: Number.NaN } },
          { ...entry(), id: '' },
          { ...entry(), ts: Number.POSITIVE_INFINITY },
          { ...entry(), agent: 42 },
          { ...entry(), data: [Symbol('not json')] },
          null,
        ];
        for (const item of bad) {
          const error: unknown = await store
            .appendLedger([entry(), item as LedgerEntry])
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(WardenError);
          expect((error as WardenError).code).toBe('INVALID_ARGUMENT');
        }
        expect((await store.readLedger()).map((r) => r.seq)).toEqual([1, 2]);
        expect((await store.ledgerHead())?.seq).toBe(2);
      });

      it('keeps one chain when many appends race, from one store and from two', async () => {
        const store = await fresh();
        const other = await again(store);
        const batches = Array.from({ length: 24 }, (_, i) =>
          entries(1 + (i % 5), () => ({ agent: `racer-${i % 2}` })),
        );
        const results = await Promise.all(
          batches.map((batch, i) => (i % 2 === 0 ? store : other).appendLedger(batch)),
        );
        const total = batches.reduce((n, b) => n + b.length, 0);
        for (const records of results) {
          // Each batch is contiguous: appends are atomic.
          records.forEach((r, k) => {
            if (k > 0) expect(r.seq).toBe((records[k - 1] as LedgerRecord).seq + 1);
          });
        }
        const read = await store.readLedger();
        expect(read).toHaveLength(total);
        expect(new Set(read.map((r) => r.id)).size).toBe(total);
        expect(verifyLedger(read)).toEqual({ ok: true, count: total });
        expect(await other.ledgerHead()).toEqual({ seq: total, hash: read.at(-1)?.hash });
      });

      it('continues the chain after the store is closed and opened again', async () => {
        const store = await fresh();
        await store.appendLedger(entries(3));
        const other = await again(store);
        await store.close();
        await other.appendLedger(entries(2));
        const read = await other.readLedger();
        expect(read.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
        expect(verifyLedger(read).ok).toBe(true);
      });
    });

    describe('chain verification', () => {
      async function ledgerOf(n: number): Promise<Store> {
        const store = await fresh();
        await store.appendLedger(entries(n, (i) => ({ data: { i } })));
        expect(await verifyStoreLedger(store)).toMatchObject({ ok: true, count: n });
        return store;
      }

      it('names an edited record (hash-mismatch)', async () => {
        const store = await ledgerOf(10);
        const before = await store.readLedger();
        await backend.exec(store, "UPDATE ledger SET verdict = 'deny' WHERE seq = 4");
        const result = await verifyStoreLedger(store);
        expect(result).toEqual({
          ok: false,
          count: 3,
          firstBroken: { seq: 4, id: before[3]?.id, problem: 'hash-mismatch' },
        });
        expect(verifyLedger(await store.readLedger())).toMatchObject({
          ok: false,
          firstBroken: { seq: 4, problem: 'hash-mismatch' },
        });
      });

      it('names a record whose data was edited', async () => {
        const store = await ledgerOf(10);
        await backend.exec(store, `UPDATE ledger SET data = '{"i":700}' WHERE seq = 7`);
        expect(await verifyStoreLedger(store)).toMatchObject({
          ok: false,
          firstBroken: { seq: 7, problem: 'hash-mismatch' },
        });
      });

      it('names the record after a removed one (seq-gap)', async () => {
        const store = await ledgerOf(10);
        const before = await store.readLedger();
        await backend.exec(store, 'DELETE FROM ledger WHERE seq = 5');
        expect(await verifyStoreLedger(store)).toEqual({
          ok: false,
          count: 4,
          firstBroken: { seq: 6, id: before[5]?.id, problem: 'seq-gap' },
        });
      });

      it('names a removed first record', async () => {
        const store = await ledgerOf(3);
        await backend.exec(store, 'DELETE FROM ledger WHERE seq = 1');
        expect(await verifyStoreLedger(store)).toMatchObject({
          ok: false,
          firstBroken: { seq: 2, problem: 'seq-gap' },
        });
      });

      it('names the first of two swapped records (prev-mismatch)', async () => {
        const store = await ledgerOf(10);
        const before = await store.readLedger();
        await backend.exec(store, 'UPDATE ledger SET seq = -3 WHERE seq = 3');
        await backend.exec(store, 'UPDATE ledger SET seq = 3 WHERE seq = 4');
        await backend.exec(store, 'UPDATE ledger SET seq = 4 WHERE seq = -3');
        expect(await verifyStoreLedger(store)).toEqual({
          ok: false,
          count: 2,
          firstBroken: { seq: 3, id: before[3]?.id, problem: 'prev-mismatch' },
        });
      });

      it('notices records cut off the end (head-mismatch)', async () => {
        const store = await ledgerOf(10);
        const before = await store.readLedger();
        await backend.exec(store, 'DELETE FROM ledger WHERE seq > 8');
        expect(await verifyStoreLedger(store)).toEqual({
          ok: false,
          count: 8,
          firstBroken: { seq: 10, id: before[7]?.id, problem: 'head-mismatch' },
        });
      });

      it('refuses to append when the head was moved behind stored records', async () => {
        const store = await ledgerOf(5);
        await backend.exec(store, 'UPDATE ledger_head SET seq = 2');
        const error: unknown = await store.appendLedger([entry()]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe('STORE_CORRUPT');
        expect((await store.readLedger()).length).toBe(5);
      });

      it('reports records out of order (seq-order) and verifies a slice from an anchor', async () => {
        const store = await ledgerOf(6);
        const records = await store.readLedger();
        const swapped = [records[0], records[2], records[1]] as LedgerRecord[];
        expect(verifyLedger(swapped)).toMatchObject({
          ok: false,
          count: 1,
          firstBroken: { seq: 3, problem: 'seq-gap' },
        });
        const repeated = [records[0], records[1], records[1]] as LedgerRecord[];
        expect(verifyLedger(repeated)).toMatchObject({
          ok: false,
          count: 2,
          firstBroken: { seq: 2, problem: 'seq-order' },
        });
        const anchor = records[2] as LedgerRecord;
        expect(verifyLedger(records.slice(3), { seq: anchor.seq, hash: anchor.hash })).toEqual({
          ok: true,
          count: 3,
        });
        expect(verifyLedger(records.slice(3))).toMatchObject({
          ok: false,
          firstBroken: { seq: 4, problem: 'seq-gap' },
        });
      });
    });

    describe('documents', () => {
      it('gets, overwrites and versions a document', async () => {
        const store = await fresh();
        expect(await store.getDoc('approvals', 'a1')).toBeUndefined();
        const before = Date.now();
        expect(await store.putDoc('approvals', 'a1', { state: 'pending', args: { n: 1 } })).toBe(true);
        const first = await store.getDoc<{ state: string }>('approvals', 'a1');
        expect(first).toMatchObject({
          collection: 'approvals',
          id: 'a1',
          body: { state: 'pending', args: { n: 1 } },
          version: 1,
        });
        expect(first?.updatedAt).toBeGreaterThanOrEqual(before);
        expect(first?.updatedAt).toBeLessThanOrEqual(Date.now());
        expect(await store.putDoc('approvals', 'a1', { state: 'approved' })).toBe(true);
        expect(await store.getDoc('approvals', 'a1')).toMatchObject({
          body: { state: 'approved' },
          version: 2,
        });
        expect(await store.getDoc('other', 'a1')).toBeUndefined();
      });

      it('compare-and-sets: 0 creates only, a matching version updates, anything else changes nothing', async () => {
        const store = await fresh();
        expect(await store.putDoc('kill', 'global', { engaged: false }, 5)).toBe(false);
        expect(await store.getDoc('kill', 'global')).toBeUndefined();
        expect(await store.putDoc('kill', 'global', { engaged: false }, 0)).toBe(true);
        expect(await store.putDoc('kill', 'global', { engaged: true }, 0)).toBe(false);
        expect(await store.getDoc('kill', 'global')).toMatchObject({ body: { engaged: false }, version: 1 });
        expect(await store.putDoc('kill', 'global', { engaged: true }, 1)).toBe(true);
        expect(await store.putDoc('kill', 'global', { engaged: false }, 1)).toBe(false);
        expect(await store.putDoc('kill', 'global', { engaged: false }, 3)).toBe(false);
        expect(await store.getDoc('kill', 'global')).toMatchObject({ body: { engaged: true }, version: 2 });
        await expect(store.putDoc('kill', 'global', {}, -1)).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
        await expect(store.putDoc('kill', 'global', {}, 1.5)).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
      });

      it('lets exactly one of many racing compare-and-sets win, across two stores', async () => {
        const store = await fresh();
        const other = await again(store);
        await store.putDoc('phase', 'bot', { phase: 'intern' }, 0);
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (i % 2 === 0 ? store : other).putDoc('phase', 'bot', { phase: 'junior', by: i }, 1),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await other.getDoc('phase', 'bot')).toMatchObject({
          body: { phase: 'junior', by: winner },
          version: 2,
        });
        const creates = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 === 0 ? store : other).putDoc('phase', 'new-bot', { by: i }, 0),
          ),
        );
        expect(creates.filter(Boolean)).toHaveLength(1);
      });

      it('lists a collection ordered by id, optionally by id prefix', async () => {
        const store = await fresh();
        const ids = [
          'b',
          'a',
          'B',
          'app:1',
          'app:2',
          'apq',
          'app',
          'app:10',
          'é',
          'z',
          '50%_off',
          '50%x',
          'app:\u{10ffff}',
          '𝄞',
        ];
        for (const id of ids) await store.putDoc('items', id, { id });
        await store.putDoc('other', 'app:3', { id: 'app:3' });
        const all = await store.listDocs<{ id: string }>('items');
        // Code-point order on both backends.
        const codePointOrder = [...ids].sort((x, y) => {
          const a = Array.from(x).map((c) => c.codePointAt(0) as number);
          const b = Array.from(y).map((c) => c.codePointAt(0) as number);
          for (let i = 0; i < Math.min(a.length, b.length); i++)
            if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
          return a.length - b.length;
        });
        expect(all.map((d) => d.id)).toEqual(codePointOrder);
        expect(all.every((d) => d.collection === 'items' && d.body.id === d.id && d.version === 1)).toBe(
          true,
        );
        expect((await store.listDocs('items', 'app:')).map((d) => d.id)).toEqual([
          'app:1',
          'app:10',
          'app:2',
          'app:\u{10ffff}',
        ]);
        expect((await store.listDocs('items', 'app')).map((d) => d.id)).toEqual([
          'app',
          'app:1',
          'app:10',
          'app:2',
          'app:\u{10ffff}',
        ]);
        expect((await store.listDocs('items', '50%')).map((d) => d.id)).toEqual(['50%_off', '50%x']);
        expect((await store.listDocs('items', '50%_')).map((d) => d.id)).toEqual(['50%_off']);
        expect((await store.listDocs('items', '')).map((d) => d.id)).toEqual(codePointOrder);
        expect(await store.listDocs('items', 'nothing')).toEqual([]);
        expect(await store.listDocs('empty')).toEqual([]);
      });

      it('deletes a document and says whether it existed', async () => {
        const store = await fresh();
        await store.putDoc('alerts', 'x', { level: 'critical' });
        expect(await store.deleteDoc('alerts', 'x')).toBe(true);
        expect(await store.deleteDoc('alerts', 'x')).toBe(false);
        expect(await store.getDoc('alerts', 'x')).toBeUndefined();
        expect(await store.putDoc('alerts', 'x', { level: 'low' }, 0)).toBe(true);
        expect(await store.getDoc('alerts', 'x')).toMatchObject({ version: 1 });
      });

      it('round-trips document bodies and refuses what is not JSON', async () => {
        const store = await fresh();
        const body = {
          text: 'quote " backslash \\ nul \u0000 ☃ 𝄞',
          list: [1, null, { x: -0.5 }],
          flag: false,
        };
        await store.putDoc('pins', 'p', body);
        expect((await store.getDoc('pins', 'p'))?.body).toEqual(body);
        await store.putDoc('pins', 'scalar', 42);
        expect((await store.getDoc('pins', 'scalar'))?.body).toBe(42);
        await expect(store.putDoc('pins', 'bad', undefined)).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
        await expect(store.putDoc('pins', 'bad', { n: 1n })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
        await expect(store.getDoc('', 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      });
    });

    describe('pub/sub', () => {
      it('delivers to in-process subscribers of the channel, each its own copy, until they unsubscribe', async () => {
        const store = await fresh();
        const a: unknown[] = [];
        const b: unknown[] = [];
        const other: unknown[] = [];
        const unsubA = await store.subscribe('kill', (m) => {
          a.push(m);
          (m as { mutated?: boolean }).mutated = true;
        });
        const unsubB = await store.subscribe('kill', (m) => b.push(m));
        const unsubOther = await store.subscribe('approvals', (m) => other.push(m));
        await store.publish('kill', { scope: 'global', engaged: true });
        await sleep(20);
        expect(a).toEqual([{ scope: 'global', engaged: true, mutated: true }]);
        expect(b).toEqual([{ scope: 'global', engaged: true }]);
        expect(other).toEqual([]);
        await unsubA();
        await unsubA();
        await store.publish('kill', { n: 2 });
        await sleep(20);
        expect(a).toHaveLength(1);
        expect(b).toEqual([{ scope: 'global', engaged: true }, { n: 2 }]);
        await unsubB();
        await unsubOther();
      });

      it('delivers to subscribers of another store on the same database, exactly once to local ones', async () => {
        const store = await fresh();
        const other = await again(store);
        const local: unknown[] = [];
        const unsubLocal = await store.subscribe('approvals', (m) => local.push(m));
        const { message } = await nextMessage(other, 'approvals');
        await store.publish('approvals', { id: 'ap-1', state: 'approved' });
        expect(await message).toEqual({ id: 'ap-1', state: 'approved' });
        await sleep(300);
        expect(local).toEqual([{ id: 'ap-1', state: 'approved' }]);
        await unsubLocal();
      });

      it('keeps delivering when a subscriber throws', async () => {
        const store = await fresh();
        const got: unknown[] = [];
        const unsubThrow = await store.subscribe('c', () => {
          throw new Error('subscriber bug');
        });
        const unsubGood = await store.subscribe('c', (m) => got.push(m));
        await store.publish('c', 1);
        await store.publish('c', 2);
        await sleep(20);
        expect(got).toEqual([1, 2]);
        await unsubThrow();
        await unsubGood();
      });

      it('refuses messages over the 8000-byte NOTIFY limit and non-JSON messages', async () => {
        const store = await fresh();
        const error: unknown = await store
          .publish('big', { blob: 'x'.repeat(8_000) })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WardenError);
        expect((error as WardenError).code).toBe('INVALID_ARGUMENT');
        expect((error as Error).message).toMatch(/8000 bytes/);
        await store.publish('big', { blob: 'x'.repeat(7_000) });
        await expect(store.publish('big', undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        await expect(store.publish('', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      });
    });

    describe('lifecycle', () => {
      it('migrates twice without harm, and so does another store on the same database', async () => {
        const store = await fresh();
        await store.appendLedger(entries(2));
        await store.putDoc('d', '1', { ok: true });
        await store.migrate();
        await store.migrate();
        const other = await again(store);
        await other.migrate();
        expect((await other.readLedger()).length).toBe(2);
        expect(await other.getDoc('d', '1')).toMatchObject({ body: { ok: true }, version: 1 });
      });

      it('closes idempotently and then rejects every call with STORE_UNAVAILABLE', async () => {
        const store = await fresh();
        await store.close();
        await store.close();
        const calls: (() => Promise<unknown>)[] = [
          () => store.appendLedger([entry()]),
          () => store.readLedger(),
          () => store.ledgerHead(),
          () => store.getDoc('a', 'b'),
          () => store.putDoc('a', 'b', {}),
          () => store.listDocs('a'),
          () => store.deleteDoc('a', 'b'),
          () => store.publish('a', {}),
          () => store.subscribe('a', () => undefined),
          () => store.migrate(),
        ];
        for (const call of calls) {
          const error: unknown = await call().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).code).toBe('STORE_UNAVAILABLE');
        }
      });
    });
  });
}
