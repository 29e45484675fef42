import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { CapCheck } from './blast-radius.js';
import type { ScenarioReport } from './runner.js';

/**
 * Twin results kept as evidence in Warden's own store: promotion (a twin run within caps) and the
 * pre-deployment checklist ("Has this agent been tested in a digital twin environment with defined
 * blast-radius caps?") read them from there.
 */

/** Store collection of recorded twin runs; the id is the scenario id (the latest run wins). */
export const TWIN_RUNS_COLLECTION = 'twin_runs';
/** Ledger record type of a recorded twin run. */
export const TWIN_RUN_RECORD = 'twin.run';

/** What is kept of one scenario's run. */
export interface TwinRunRecord {
  scenario: string;
  title: string;
  file: string | null;
  /** Agents of the scenario's config: the run is evidence about them. */
  agents: string[];
  /** Wall time the run was recorded, ms since the epoch. */
  at: number;
  passed: boolean;
  stopped: boolean;
  caps: CapCheck[];
  blast: { irreversible: number; resources: number; bytesOut: number; approvals: number; secrets: number };
  baseline: {
    irreversible: number;
    resources: number;
    bytesOut: number;
    approvals: number;
    secrets: number;
  } | null;
  failedExpectations: number;
  error: string | null;
}

function radius(b: {
  irreversible: number;
  resources: number;
  bytesOut: number;
  approvals: number;
  secrets: number;
}) {
  return {
    irreversible: b.irreversible,
    resources: b.resources,
    bytesOut: b.bytesOut,
    approvals: b.approvals,
    secrets: b.secrets,
  };
}

/** The record of one report. `agents` comes from the scenario's config. */
export function toRecord(report: ScenarioReport, agents: readonly string[], at: number): TwinRunRecord {
  const run = report.warden ?? report.baseline;
  return {
    scenario: report.id,
    title: report.title,
    file: report.file ?? null,
    agents: [...agents],
    at,
    passed: report.passed,
    stopped: report.stopped,
    caps: run?.caps ?? [],
    blast: radius(run?.blast ?? { irreversible: 0, resources: 0, bytesOut: 0, approvals: 0, secrets: 0 }),
    baseline: report.baseline && report.warden ? radius(report.baseline.blast) : null,
    failedExpectations: run?.failedExpectations ?? 0,
    error: run?.error ?? null,
  };
}

/**
 * Stores each run (collection `twin_runs`, latest per scenario) and writes one `twin.run` ledger record per
 * run, so the evidence is in the hash chain too. Only runs with controls on are evidence about a policy.
 */
export async function recordRuns(store: Store, records: readonly TwinRunRecord[]): Promise<void> {
  for (const r of records) await store.putDoc(TWIN_RUNS_COLLECTION, r.scenario, r);
  await store.appendLedger(
    records.map((r) => ({
      id: randomUUID(),
      ts: r.at,
      mono: process.hrtime.bigint().toString(),
      type: TWIN_RUN_RECORD,
      agent: r.agents.length === 1 ? (r.agents[0] ?? null) : null,
      session: null,
      user: null,
      task: null,
      tool: null,
      verdict: r.passed ? 'pass' : 'fail',
      data: r,
    })),
  );
}

/** The latest recorded runs that cover an agent, newest first. */
export async function runsFor(store: Store, agent: string): Promise<TwinRunRecord[]> {
  const docs = await store.listDocs<TwinRunRecord>(TWIN_RUNS_COLLECTION);
  return docs
    .map((d) => d.body)
    .filter((r) => Array.isArray(r.agents) && r.agents.includes(agent))
    .sort((a, b) => b.at - a.at);
}
