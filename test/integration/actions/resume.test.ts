import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { MaturityService } from '../../../src/maturity/extension.js';
import type { ApprovalWaiter } from '../../../src/session.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../../src/store/store.js';
import type { Warden } from '../../../src/warden.js';
import { ACTIONS_CONFIG, actionsWarden, approvalsOf } from '../../actions/helpers.js';
import { until } from '../../helpers/wait.js';
import { postgresForTests } from './pg.js';

const WORKER = fileURLToPath(new URL('./fixtures/approval-worker.ts', import.meta.url));
const STAGING = { tool: 'deploy', args: { repoId: 'acme/web', env: 'staging' } };
const PROD = { tool: 'deploy', args: { repoId: 'acme/web', env: 'prod' } };
/** How long another process's change may take to reach this one: a hang guard under the 60 s test timeout. */
const HEARD = { timeoutMs: 30_000, everyMs: 20 };

/**
 * Runs the worker in another process and returns its exit code and JSON output. Node loads tsx itself: `npx tsx`
 * would start npm and then a second Node, three times the CPU per worker on a 2-core machine.
 */
function worker(job: Record<string, unknown>): Promise<{ code: number; out: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', WORKER, JSON.stringify(job)],
      { timeout: 60_000, env: process.env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        const line = stdout.trim().split('\n').at(-1) ?? '';
        try {
          resolve({ code, out: JSON.parse(line) as Record<string, unknown> });
        } catch {
          reject(new Error(`worker printed ${JSON.stringify(stdout)} (exit ${code}): ${stderr}`));
        }
      },
    );
  });
}

type Backend = { label: string; make: () => Promise<{ store: Store; job: Record<string, unknown> }> };

const pg = postgresForTests('resume');
const backends: Backend[] = [
  {
    label: 'SQLite',
    make: async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'warden-resume-')), 'warden.db');
      return { store: await openSqliteStore({ path }), job: { backend: 'sqlite', path } };
    },
  },
  {
    label: 'PostgreSQL',
    make: async () => {
      const { store, schema } = await pg.makeStore();
      return { store, job: { backend: 'postgres', url: pg.url, schema } };
    },
  },
];

for (const b of backends) {
  describe(`approvals across processes on ${b.label}`, () => {
    let toClose: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of toClose.reverse()) await c().catch(() => undefined);
      toClose = [];
    });
    async function setup(): Promise<{ w: Warden; job: Record<string, unknown>; store: Store }> {
      const { store, job } = await b.make();
      const w = await actionsWarden(store);
      toClose.push(
        () => store.close(),
        () => w.close(),
      );
      return { w, store, job: { ...job, config: ACTIONS_CONFIG } };
    }

    it('a waiting caller resumes when another process grants, and the grant covers one call', async () => {
      const { w, job } = await setup();
      const s = w.session({ agent: 'deployer' });
      const d = await s.authorize(STAGING);
      expect(d.verdict).toBe('approve');
      const waiting = w.runtime
        .service<ApprovalWaiter>('approvals.wait')!
        .wait(d.approvalId!, { timeoutMs: 50_000 });
      const granted = await worker({ ...job, action: 'approve', id: d.approvalId, by: 'alice' });
      expect(granted).toMatchObject({ code: 0, out: { status: 'granted', resolvedBy: ['alice'] } });
      expect(await waiting).toBe('granted');
      expect((await s.authorize(STAGING)).verdict).toBe('allow');
      expect((await s.authorize(STAGING)).verdict).toBe('approve');
    });

    it('another process redeems a grant made here, after which it is spent here too', async () => {
      const { w, job } = await setup();
      const d = await w.session({ agent: 'deployer' }).authorize(STAGING);
      await approvalsOf(w).api.approve(d.approvalId!, 'alice');
      const redeemed = await worker({ ...job, action: 'redeem', agent: 'deployer', call: STAGING });
      expect(redeemed.out).toMatchObject({ verdict: 'allow', approvalId: d.approvalId });
      expect((await w.session({ agent: 'deployer' }).authorize(STAGING)).verdict).toBe('approve');
      const altered = await worker({
        ...job,
        action: 'redeem',
        agent: 'deployer',
        call: { tool: 'deploy', args: { repoId: 'acme/web', env: 'staging', x: 1 } },
      });
      expect(altered.out).toMatchObject({ verdict: 'approve' });
    });

    it('two processes voting at once: both count toward a quorum; the same person counts once', async () => {
      const { w, job } = await setup();
      const api = approvalsOf(w).api;
      const d = await w.session({ agent: 'deployer' }).authorize(PROD);
      const [a, b2] = await Promise.all([
        worker({ ...job, action: 'approve', id: d.approvalId, by: 'alice' }),
        worker({ ...job, action: 'approve', id: d.approvalId, by: 'sam' }),
      ]);
      expect([a.code, b2.code]).toEqual([0, 0]);
      expect((await api.get(d.approvalId!)).request).toMatchObject({ status: 'granted' });
      const e = await w.session({ agent: 'deployer' }).authorize(STAGING);
      const same = await Promise.all([
        worker({ ...job, action: 'approve', id: e.approvalId, by: 'alice' }),
        worker({ ...job, action: 'deny', id: e.approvalId, by: 'alice' }),
      ]);
      expect(same.map((x) => x.code).sort()).toEqual([0, 1]);
      expect(same.find((x) => x.code === 1)?.out.error).toMatch(/already voted|is granted|is denied/);
    });

    it('a promotion and a critical alert in another process reach this one through the store and pub/sub', async () => {
      const { w, job, store } = await setup();
      const m = w.runtime.service<MaturityService>('maturity')!;
      await w.session({ agent: 'intern-bot' }).authorize({ tool: 'read_file', args: {} });
      await w.runtime.ledger.flush();
      const promoted = await worker({
        ...job,
        action: 'promote',
        agent: 'intern-bot',
        by: 'alice',
        now: Date.now() + 15 * 86_400_000,
      });
      expect(promoted.out).toMatchObject({ ok: true, to: 'junior' });
      await until(() => m.phaseOf('intern-bot') === 'junior', 'the promotion reaches this process', HEARD);
      const raised = await worker({ ...job, action: 'alert', agent: 'senior-bot' });
      await until(() => m.phaseOf('senior-bot') === 'junior', 'the critical alert demotes here', HEARD);
      await m.demoter.idle();
      await w.runtime.ledger.flush();
      expect((await store.readLedger({ type: 'phase.demoted' }))[0]).toMatchObject({
        agent: 'senior-bot',
        data: { alert: raised.out.id },
      });
    });
  });
}
