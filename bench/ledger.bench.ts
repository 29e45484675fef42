import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { quoteIdent } from '../src/store/postgres/migrations.js';
import { openPostgresStore } from '../src/store/postgres/postgres-store.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { LedgerEntry, Store } from '../src/store/store.js';
import { percentile, round } from './measure.js';
import type { BenchResult } from './types.js';

const BATCH = 500;
const RECORDS = 100_000;
const ROUNDS = 3;
const SINGLE_SAMPLES = 2_000;
const SINGLE_WARMUP = 200;
const PG_URL =
  process.env.WARDEN_BENCH_PG_URL ??
  process.env.WARDEN_TEST_PG_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

const WORKLOAD =
  'records like a gateway writes them (8 agents, 64 interleaved sessions, ~250 B of data each), hash chain included';

/**
 * Ledger append throughput into SQLite (temp file, WAL) and PostgreSQL (a fresh schema, dropped after), in
 * durable batches of 500, plus the latency of a single durable append. Entries are built beforehand; the
 * timed part is `appendLedger`: checking, canonical JSON, SHA-256 chaining, the insert and the commit.
 */
export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-ledger-'));
  try {
    results.push(
      ...(await measureBackend('sqlite', () => openSqliteStore({ path: join(dir, 'ledger.db') }))),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const schema = `warden_bench_${process.pid}_${Date.now().toString(36)}`;
  try {
    results.push(...(await measureBackend('postgres', () => openPostgresStore({ url: PG_URL, schema }))));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    results.push({
      name: 'ledger.append postgres',
      unit: 'ops/s',
      opsPerSec: 0,
      samples: 0,
      notes: `not measured: ${reason}`,
    });
  } finally {
    await dropSchema(schema);
  }
  return results;
}

async function measureBackend(
  kind: 'sqlite' | 'postgres',
  open: () => Promise<Store>,
): Promise<BenchResult[]> {
  const store = await open();
  try {
    // Entries are made just before each append, outside the timed part, so the harness does not hold
    // hundreds of thousands of objects that the garbage collector would keep walking.
    let made = 0;
    const take = (n: number): LedgerEntry[] => {
      const batch = makeEntries(made, n);
      made += n;
      return batch;
    };
    // Warm up statements, pool and JIT.
    for (let i = 0; i < 4; i++) await store.appendLedger(take(BATCH));

    const rounds: { opsPerSec: number; batchUs: number[]; cpuUs: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const batchUs: number[] = [];
      let cpuUs = 0;
      for (let done = 0; done < RECORDS; done += BATCH) {
        const batch = take(BATCH);
        const cpu0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await store.appendLedger(batch);
        batchUs.push(Number(process.hrtime.bigint() - t0) / 1000);
        const cpu = process.cpuUsage(cpu0);
        cpuUs += cpu.user + cpu.system;
      }
      const seconds = batchUs.reduce((sum, us) => sum + us, 0) / 1e6;
      rounds.push({ opsPerSec: RECORDS / seconds, batchUs, cpuUs });
    }
    rounds.sort((a, b) => a.opsPerSec - b.opsPerSec);
    const median = rounds[Math.floor(rounds.length / 2)] ?? { opsPerSec: 0, batchUs: [], cpuUs: 0 };
    // CPU time of this process per record: what the number would be on an otherwise idle core (for
    // PostgreSQL the server's own work comes on top).
    const cpuPerRecord = (median.cpuUs / RECORDS).toFixed(1);
    const sortedBatch = [...median.batchUs].sort((a, b) => a - b);
    const spread = rounds.map((r) => Math.round(r.opsPerSec).toLocaleString('en-US')).join(' / ');

    for (let i = 0; i < SINGLE_WARMUP; i++) await store.appendLedger(take(1));
    const single: number[] = [];
    for (let i = 0; i < SINGLE_SAMPLES; i++) {
      const one = take(1);
      const t0 = process.hrtime.bigint();
      await store.appendLedger(one);
      single.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    const singleSeconds = single.reduce((sum, us) => sum + us, 0) / 1e6;
    single.sort((a, b) => a - b);

    const head = await store.ledgerHead();
    if (head?.seq !== made) throw new Error(`${kind} ledger has ${head?.seq ?? 0} records, expected ${made}`);
    return [
      {
        name: `ledger.append ${kind} (batches of ${BATCH})`,
        unit: 'ops/s',
        opsPerSec: Math.round(median.opsPerSec),
        p50Us: round(percentile(sortedBatch, 50)),
        p99Us: round(percentile(sortedBatch, 99)),
        samples: RECORDS,
        notes: `records/s, median of ${ROUNDS} rounds of ${RECORDS.toLocaleString('en-US')} (${spread}); p50/p99 per batch; ${cpuPerRecord} µs CPU per record in this process; ${WORKLOAD}`,
      },
      {
        name: `ledger.append ${kind} (single durable record)`,
        unit: 'ops/s',
        opsPerSec: Math.round(SINGLE_SAMPLES / singleSeconds),
        p50Us: round(percentile(single, 50)),
        p99Us: round(percentile(single, 99)),
        samples: SINGLE_SAMPLES,
        notes:
          kind === 'sqlite'
            ? 'one IMMEDIATE transaction per record, WAL + synchronous=NORMAL (survives a process crash)'
            : 'one statement per record (lock the head row, insert, move the head), returning once its commit is flushed to the WAL',
      },
    ];
  } finally {
    await store.close();
  }
}

/** `n` entries numbered from `from`. */
function makeEntries(from: number, n: number): LedgerEntry[] {
  const tools = ['github.create_issue', 'fs.read_file', 'slack.post_message', 'db.query'];
  const verdicts = ['allow', 'allow', 'allow', 'deny', 'approve'];
  const out = new Array<LedgerEntry>(n);
  for (let k = 0; k < n; k++) {
    const i = from + k;
    const session = i % 64;
    out[k] = {
      id: `evt-${process.pid}-${i.toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
      ts: Date.now() + i,
      mono: String(process.hrtime.bigint()),
      type: i % 3 === 0 ? 'tool.result' : 'tool.call',
      agent: `agent-${session % 8}`,
      session: `session-${session}`,
      user: `user-${session % 5}`,
      task: `task-${session}`,
      tool: tools[i % tools.length] ?? null,
      verdict: verdicts[i % verdicts.length] ?? null,
      data: {
        args: {
          repo: 'acme/payments-api',
          title: `Flaky test in checkout #${i}`,
          labels: ['bug', 'ci'],
          dryRun: false,
        },
        provenance: { repo: 'user', title: 'tool:github.list_issues' },
        reasons:
          i % 5 === 3
            ? [{ control: 'verification', domain: 3, risk: 'ASI02', message: 'identifier not traced' }]
            : [],
        durationUs: 12.5 + (i % 100),
      },
    };
  }
  return out;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  } catch {
    // Nothing was created if PostgreSQL is unreachable.
  } finally {
    await client.end().catch(() => undefined);
  }
}
