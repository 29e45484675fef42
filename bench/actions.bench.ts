import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Approvals } from '../src/actions/approvals/approvals.js';
import { extension as actionsExtension } from '../src/actions/extension.js';
import { CedarEngine } from '../src/actions/grants/cedar.js';
import { GrantMatcher } from '../src/actions/grants/matcher.js';
import { parseConfig } from '../src/config/load.js';
import { Policy } from '../src/config/policy.js';
import { extension as maturityExtension } from '../src/maturity/extension.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { createWarden } from '../src/warden.js';
import { measureAsync, percentile, round } from './measure.js';
import type { BenchResult } from './types.js';

/**
 * Domain 3 costs: a least-privilege decision with 10 and 1,000 grants, with and without Cedar (the
 * compiled matcher alone, and the full in-process decision), and approval create-and-resolve throughput
 * on SQLite and PostgreSQL (request, approve, redeem: three store round trips and three ledger records).
 */

const CEDAR = `@id("no-prod-on-friday")
forbid(principal, action == Action::"deploy", resource) when { context.args has env && context.args.env == "prod" && context.args has day && context.args.day == "fri" };
${Array.from({ length: 20 }, (_, i) => `forbid(principal == Agent::"other-${i}", action, resource);`).join('\n')}`;

function config(grants: number, style: 'exact' | 'glob', cedar: boolean): string {
  const lines: string[] = [];
  for (let i = 0; i < grants - 1; i++) {
    lines.push(
      style === 'exact'
        ? `      - { tool: deploy, where: { repoId: "org/repo-${i}", env: [staging, prod] } }`
        : `      - { tool: deploy, where: { repoId: "org${i}/*", env: [staging, prod] } }`,
    );
  }
  lines.push('      - { tool: deploy, where: { repoId: "acme/*", env: [staging, prod] } }');
  return `version: 1
agents:
  - id: bot
    owner: o
    phase: principal
    grants:
${lines.join('\n')}
tools:
  - { name: deploy, class: read }
${
  cedar
    ? `actions:\n  cedar:\n    policies: |\n${CEDAR.split('\n')
        .map((l) => `      ${l}`)
        .join('\n')}\n`
    : ''
}`;
}

/** Measures a synchronous function in batches (timer overhead would dominate single calls). */
function measureSync(name: string, op: () => unknown, samples: number, notes: string): BenchResult {
  const batch = 100;
  for (let i = 0; i < 20_000; i++) op();
  const lat: number[] = [];
  const started = process.hrtime.bigint();
  for (let s = 0; s < samples / batch; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) op();
    lat.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
  }
  const totalUs = Number(process.hrtime.bigint() - started) / 1000;
  lat.sort((a, b) => a - b);
  return {
    name,
    unit: 'ops/s',
    opsPerSec: Math.round((samples / totalUs) * 1e6),
    p50Us: round(percentile(lat, 50)),
    p99Us: round(percentile(lat, 99)),
    samples,
    notes,
  };
}

export async function decisionBench(
  grants: number,
  style: 'exact' | 'glob',
  cedar: boolean,
): Promise<BenchResult[]> {
  const text = config(grants, style, cedar);
  const policy = new Policy(parseConfig(text));
  const matcher = new GrantMatcher(policy);
  const engine = cedar ? CedarEngine.fromPolicy(policy) : undefined;
  const tool = policy.tool('deploy');
  const agent = policy.agent('bot');
  if (!tool || !agent) throw new Error('bench config lost its agent or tool');
  const call = { tool: 'deploy', args: { repoId: 'acme/web', env: 'prod', day: 'mon' } };
  const label = `${grants} ${style} grants${cedar ? ' + Cedar (21 policies, 1 in scope)' : ''}`;
  const out: BenchResult[] = [];
  out.push(
    measureSync(
      `least privilege: grants matcher, ${label}`,
      () => {
        const v = matcher.match('bot', tool, call, 0);
        if (engine && v.kind === 'allow')
          engine.evaluate({
            agent,
            tool,
            call,
            actor: { agent: 'bot', session: 's' },
            phase: 'principal',
            taint: 1,
            now: 0,
          });
      },
      cedar ? 20_000 : 200_000,
      'the gate alone: compiled grants, then Cedar only when a policy in scope can change the answer',
    ),
  );
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-actions-'));
  const store = await openSqliteStore({ path: join(dir, 'bench.db') });
  const warden = await createWarden({
    config: parseConfig(text),
    store,
    extensions: [actionsExtension(), maturityExtension()],
  });
  const session = warden.session({ agent: 'bot' });
  out.push(
    await measureAsync(`decision: full in-process, ${label}`, () => session.authorize(call), {
      samples: cedar ? 20_000 : 50_000,
      warmup: 5_000,
      notes:
        'kill switch, registry, phase, least privilege, approval rules; ledger enqueued into SQLite (the tool is declared read so no phase gate escalates)',
    }),
  );
  await warden.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return out;
}

const APPROVAL_CONFIG = `version: 1
agents:
  - { id: bot, owner: o, phase: junior }
tools:
  - { name: deploy, class: irreversible }
approvals:
  approvers: [{ name: alice }]
`;

export async function approvalBench(label: string, store: Store, samples: number): Promise<BenchResult> {
  const warden = await createWarden({
    config: parseConfig(APPROVAL_CONFIG),
    store,
    extensions: [actionsExtension(), maturityExtension()],
  });
  const api = warden.runtime.service<Approvals>('approvals.api');
  if (!api) throw new Error('the approvals service is not running');
  const session = warden.session({ agent: 'bot' });
  const result = await measureAsync(
    `approvals: create, approve, redeem (${label})`,
    async (i) => {
      const call = { tool: 'deploy', args: { repoId: `acme/${i}` } };
      const d = await session.authorize(call);
      if (!d.approvalId) throw new Error('no approval request');
      await api.approve(d.approvalId, 'alice');
      const r = await session.authorize(call);
      if (r.verdict !== 'allow') throw new Error('approval did not redeem');
    },
    {
      samples,
      warmup: Math.min(50, samples),
      notes: 'one op = request stored + vote (CAS) + redemption (CAS), each sealed, announced and ledgered',
    },
  );
  await warden.close();
  return result;
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const cedar of [false, true]) {
    results.push(...(await decisionBench(10, 'exact', cedar)));
    results.push(...(await decisionBench(1000, 'exact', cedar)));
    results.push(...(await decisionBench(1000, 'glob', cedar)));
  }
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-approvals-'));
  const sqlite = await openSqliteStore({ path: join(dir, 'bench.db') });
  results.push(await approvalBench('SQLite', sqlite, 300));
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
  const url =
    process.env.WARDEN_BENCH_PG_URL ??
    process.env.WARDEN_TEST_PG_URL ??
    'postgres://postgres@127.0.0.1:5432/test';
  try {
    const { openPostgresStore } = await import('../src/store/postgres/postgres-store.js');
    const schema = `warden_bench_actions_${process.pid}`;
    const pg = await openPostgresStore({ url, schema });
    try {
      results.push(await approvalBench('PostgreSQL', pg, 300));
    } finally {
      await pg.close();
      const { default: pgLib } = await import('pg');
      const admin = new pgLib.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  } catch (error) {
    results.push({
      name: 'approvals: create, approve, redeem (PostgreSQL)',
      unit: 'ops/s',
      opsPerSec: 0,
      samples: 0,
      notes: `not measured: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  return results;
}
