import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ObserveExtension } from '../../../src/observe/extension.js';
import { OBSERVE_SERVICE, type ObserveService } from '../../../src/observe/service.js';
import { openPostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { quoteIdent } from '../../../src/store/postgres/migrations.js';
import type { Store } from '../../../src/store/store.js';
import { createWarden, type Warden } from '../../../src/warden.js';
import { ReplicaProcess } from '../../fixtures/observe-replica-client.js';
import { until } from '../../helpers/wait.js';
import { pendingApprovals } from '../../observe/helpers.js';

const url = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `warden_observe_${process.pid}_${Date.now().toString(36)}`;
/** How long a change may take to reach the other process: a hang guard under the 60 s test timeout. */
const HEARD = { timeoutMs: 30_000 };

const CONFIG = `version: 1
agents:
  - { id: worker, owner: ops, phase: senior }
  - { id: support, owner: cx, phase: senior }
  - { id: runaway, owner: ops, phase: senior }
tools:
  - { name: search, class: read }
  - { name: write_file, class: write }
maturity:
  senior:
    preApproved:
      - { tool: '*' }
observe:
  detectors:
    builtins: false
    rules:
      - { id: loop, type: burst, max: 5, windowSeconds: 60, groupBy: none, agents: [runaway], actions: [record, kill], severity: critical }
`;

let store: Store;
let local: Warden;
let observe: ObserveService;
let replica: ReplicaProcess;

// PostgreSQL must be there: the first hook fails (it never skips) when it is not.
beforeAll(async () => {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await probe.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is unreachable at ${url} (set WARDEN_TEST_PG_URL): ${String(error)}`);
  } finally {
    await probe.end().catch(() => undefined);
  }
  store = await openPostgresStore({ url, schema });
  local = await createWarden({
    config: parseConfig(CONFIG),
    store,
    extensions: [new ObserveExtension(), pendingApprovals()],
  });
  observe = local.runtime.service<ObserveService>(OBSERVE_SERVICE)!;
  replica = new ReplicaProcess({ url, schema, config: CONFIG });
  await replica.ready;
});

afterAll(async () => {
  await replica?.stop();
  await local?.close();
  await store?.close();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  await admin.end();
});

async function remoteSession(agent: string): Promise<string> {
  return (await replica.request({ op: 'session', agent })).session as string;
}

async function remoteVerdict(
  session: string,
  tool = 'search',
): Promise<{ verdict: string; reasons: { control: string; message: string }[] }> {
  return (await replica.request({ op: 'authorize', session, tool, args: {} })) as never;
}

describe('kill switches across two processes on one PostgreSQL schema', () => {
  it('an agent switch engaged here halts that agent in the other process, and only that agent', async () => {
    const worker = await remoteSession('worker');
    const support = await remoteSession('support');
    expect((await remoteVerdict(worker)).verdict).toBe('allow');
    replica.clearEvents();
    await local.kill('agent', 'worker', 'runaway loop', 'alice');
    await replica.killEvent((e) => e.engaged && e.scope === 'agent' && e.target === 'worker');
    const halted = await remoteVerdict(worker);
    expect(halted.verdict).toBe('halt');
    expect(halted.reasons[0]!.message).toMatch(/runaway loop/);
    expect((await remoteVerdict(support)).verdict).toBe('allow');

    await local.release('agent', 'worker', 'fixed', 'alice');
    await replica.killEvent((e) => !e.engaged && e.target === 'worker');
    expect((await remoteVerdict(worker)).verdict).toBe('allow');
  });

  it("a session switch halts one session there and leaves the agent's others running", async () => {
    const one = await remoteSession('worker');
    const two = await remoteSession('worker');
    replica.clearEvents();
    await local.kill('session', one, 'stuck session', 'alice');
    await replica.killEvent((e) => e.engaged && e.scope === 'session' && e.target === one);
    expect((await remoteVerdict(one)).verdict).toBe('halt');
    expect((await remoteVerdict(two)).verdict).toBe('allow');
    await local.release('session', one, 'done', 'alice');
  });

  it('the global switch halts everything there; releasing it resumes', async () => {
    const support = await remoteSession('support');
    replica.clearEvents();
    await local.kill('global', '*', 'incident 7', 'alice');
    await replica.killEvent((e) => e.engaged && e.scope === 'global');
    expect((await remoteVerdict(support)).verdict).toBe('halt');
    await local.release('global', '*', 'resolved', 'alice');
    await replica.killEvent((e) => !e.engaged && e.scope === 'global');
    expect((await remoteVerdict(support)).verdict).toBe('allow');
  });

  it('a detector in the other process kills an agent, and this process halts it too', async () => {
    const s = await remoteSession('runaway');
    const verdicts: string[] = [];
    for (let i = 0; i < 7; i++) verdicts.push((await remoteVerdict(s)).verdict);
    expect(verdicts.slice(0, 6)).toEqual(['allow', 'allow', 'allow', 'allow', 'allow', 'allow']);
    expect(verdicts[6]).toBe('halt');
    const here = local.session({ agent: 'runaway' });
    await until(
      () => local.runtime.killSwitches.check('runaway', here.id) !== undefined,
      "the other process's kill switch reaches this one",
      HEARD,
    );
    const d = await here.authorize({ tool: 'search', args: {} });
    expect(d.verdict).toBe('halt');
    expect(d.reasons[0]!.evidence).toMatchObject({ by: 'warden:detectors' });
    await replica.request({ op: 'flush' });
    const alerts = (await store.listDocs<{ rule: string; agent: string; severity: string }>('alerts')).map(
      (x) => x.body,
    );
    expect(alerts).toContainEqual(
      expect.objectContaining({ rule: 'loop', agent: 'runaway', severity: 'critical' }),
    );
    await local.release('agent', 'runaway', 'reviewed', 'alice');
  });

  it("a quarantine engaged here makes the agent's consequential calls wait for approval there", async () => {
    const s = await remoteSession('support');
    expect((await remoteVerdict(s, 'write_file')).verdict).toBe('allow');
    await observe.quarantine('support', { reason: 'suspicious output', by: 'sec' });
    let v: Awaited<ReturnType<typeof remoteVerdict>> | undefined;
    await until(
      async () => (v = await remoteVerdict(s, 'write_file')).verdict !== 'allow',
      'the quarantine reaches the other process',
      { ...HEARD, everyMs: 20 },
    );
    expect(v?.verdict).toBe('approve');
    expect(v?.reasons.map((r) => r.control)).toContain('quarantine');
    expect((await remoteVerdict(s, 'search')).verdict).toBe('allow');
    await observe.unquarantine('support', { reason: 'cleared', by: 'sec' });
  });
});
