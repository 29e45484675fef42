import { describe, expect, it } from 'vitest';
import { verifyStoreLedger } from '../../src/store/verify-chain.js';
import { recordRuns, runsFor, toRecord, TWIN_RUNS_COLLECTION } from '../../src/twin/record.js';
import { runScenarioPair } from '../../src/twin/runner.js';
import { tempSqliteStore } from '../helpers/warden.js';
import { CONFIG, refusing, scenario } from './helpers.js';

describe('recorded twin runs', () => {
  it('keeps the latest run per scenario as evidence, in a collection and in the ledger', async () => {
    const loaded = scenario(
      `id: ev\ntitle: evidence\nbaseline: true\n${CONFIG}\nscript:\n  - { call: { tool: deploy }, expect: deny }\ncaps: { irreversible: 0 }\n`,
    );
    const report = await runScenarioPair(loaded, { extensions: refusing({ deploy: 'deny' }) });
    expect(report.passed).toBe(true);
    const store = await tempSqliteStore();
    try {
      const first = toRecord(report, ['bot'], 1000);
      expect(first).toMatchObject({
        scenario: 'ev',
        agents: ['bot'],
        passed: true,
        stopped: true,
        blast: { irreversible: 0 },
        baseline: { irreversible: 1 },
        error: null,
      });
      await recordRuns(store, [first]);
      await recordRuns(store, [{ ...first, at: 2000, passed: false }]);
      const docs = await store.listDocs(TWIN_RUNS_COLLECTION);
      expect(docs).toHaveLength(1);
      expect(await runsFor(store, 'bot')).toEqual([expect.objectContaining({ at: 2000, passed: false })]);
      expect(await runsFor(store, 'someone-else')).toEqual([]);
      const ledger = await store.readLedger({ type: 'twin.run' });
      expect(ledger.map((r) => [r.agent, r.verdict])).toEqual([
        ['bot', 'pass'],
        ['bot', 'fail'],
      ]);
      expect((await verifyStoreLedger(store)).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
