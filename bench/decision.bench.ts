import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentMeshClient, PolicyEngine } from '@microsoft/agent-governance-sdk';
import { parseConfig } from '../src/config/load.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { createWarden } from '../src/warden.js';
import { measureAsync, round } from './measure.js';
import type { BenchResult } from './types.js';

/** Decisions in the CPU-time run: a multiple of the ledger batch (500), so it pays for exactly 200 batch writes. */
const CPU_SAMPLES = 100_000;

const CONFIG = `version: 1
agents:
  - { id: bench-agent, owner: bench, phase: senior }
tools:
  - { name: read_file, class: read, authoritative: true }
  - { name: search_docs, class: read }
  - { name: write_file, class: write }
sources:
  - { name: web, tier: 3 }
`;

/**
 * The full in-process decision (every default stage, ledger enqueued into SQLite) against the Agent
 * Governance Toolkit's PolicyEngine.evaluate and AgentMeshClient.executeWithGovernance on an equivalent
 * policy (allow the read tool for this agent, deny everything else), in the same process and run.
 */
export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  const store = await openSqliteStore({ path: join(dir, 'bench.db') });
  const warden = await createWarden({ config: parseConfig(CONFIG), store });
  const session = warden.session({ agent: 'bench-agent', user: 'u', task: 't' });
  await session.ingest({ source: 'user', text: 'read the file notes.txt please' });
  const call = { tool: 'read_file', args: { path: 'notes.txt' } };
  const results: BenchResult[] = [];
  const ours = await measureAsync(
    'decision: full in-process (all stages, ledger enqueued, SQLite)',
    () => session.authorize(call),
    {
      samples: 100_000,
    },
  );
  // Wall-clock throughput on a shared machine also counts time this thread waited for a core; the CPU time per
  // decision is what the budget ("on one core") is about. process.cpuUsage covers every thread of the process
  // (the garbage collector's helpers too), so this is an upper bound for the decision thread.
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < CPU_SAMPLES; i++) await session.authorize(call);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuUs = (cpu.user + cpu.system) / CPU_SAMPLES;
  ours.notes = `${cpuUs.toFixed(2)} µs CPU per decision in this process, i.e. ${Math.round(1e6 / cpuUs).toLocaleString('en-US')} decisions per CPU-second (ledger writes included); ops/s is wall-clock on one thread`;
  results.push(ours);
  await warden.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const engine = new PolicyEngine([
    { action: 'read_file', effect: 'allow', condition: { agent: 'bench-agent' } },
    { action: '*', effect: 'deny' },
  ]);
  const peerEngine = await measureAsync(
    'peer: AGT PolicyEngine.evaluate',
    () => engine.evaluate('read_file', { agent: 'bench-agent' }),
    {
      samples: 100_000,
    },
  );
  const client = AgentMeshClient.create('bench-agent', {
    capabilities: ['read_file'],
    policyRules: [
      { action: 'read_file', effect: 'allow' },
      { action: '*', effect: 'deny' },
    ],
  });
  const peerClient = await measureAsync(
    'peer: AGT AgentMeshClient.executeWithGovernance',
    () => client.executeWithGovernance('read_file', { path: 'notes.txt' }),
    { samples: 20_000 },
  );
  const ratio = (peer: BenchResult) =>
    `Warden p50 / peer p50 = ${round((ours.p50Us ?? 0) / (peer.p50Us ?? 1))}`;
  peerEngine.notes = `rule match only, no ledger; ${ratio(peerEngine)}`;
  peerClient.notes = `policy + trust + in-memory audit chain; ${ratio(peerClient)}`;
  results.push(peerEngine, peerClient);
  return results;
}
