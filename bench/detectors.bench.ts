import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { Policy } from '../src/config/policy.js';
import { detectorsSchema } from '../src/config/sections/observe.js';
import type { Decision, Verdict, WardenEvent } from '../src/core/types.js';
import { effectiveRules } from '../src/observe/detectors/builtins.js';
import { DetectorEngine } from '../src/observe/detectors/engine.js';
import { ObserveExtension } from '../src/observe/extension.js';
import { SessionState } from '../src/pipeline/session-state.js';
import type { StageContext } from '../src/pipeline/stage.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { createWarden } from '../src/warden.js';
import { measureAsync, percentile, round } from './measure.js';
import type { BenchResult } from './types.js';

export const CONFIG = `version: 1
agents:
${Array.from({ length: 50 }, (_, i) => `  - { id: agent-${i}, owner: bench, phase: senior }`).join('\n')}
tools:
  - { name: search, class: read }
  - { name: get_repo, class: read, authoritative: true }
  - { name: read_customer, class: read, sensitive: true }
  - { name: write_file, class: write }
  - { name: post_comment, class: write, outbound: true }
  - { name: deploy, class: irreversible, identifiers: [repoId] }
sources:
  - { name: web, tier: 3 }
maturity:
  senior:
    preApproved:
      - { tool: '*' }
`;

/** A mutable stage context: the bench reuses these objects and only moves the clock. */
type MutableCtx = { -readonly [K in keyof StageContext]: StageContext[K] };

/**
 * Synthetic traffic: `sessions` sessions spread over 50 agents and `sessions / 4` users, each doing a plausible
 * mix (lookups with results, searches, writes with and without looked-up ids, some outbound, a little ingest).
 */
export function traffic(
  policy: Policy,
  sessions: number,
  perSession: number,
): { ctx: MutableCtx; decision: Decision }[] {
  const states = Array.from(
    { length: sessions },
    (_, i) =>
      new SessionState(
        { agent: `agent-${i % 50}`, session: `s-${i}`, user: `u-${i % Math.max(1, sessions >> 2)}` },
        0,
      ),
  );
  const out: { ctx: MutableCtx; decision: Decision }[] = [];
  let seed = 42;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const signal = new AbortController().signal;
  for (let k = 0; k < perSession; k++) {
    for (let i = 0; i < sessions; i++) {
      const state = states[i] as SessionState;
      const actor = state.actor;
      const r = rnd();
      let event: WardenEvent;
      // Ids come from lookups (get_repo results) except for a rare hallucinated one, as in real traffic.
      const known = `repo-${i}-${k % 5}`;
      if (r < 0.25) {
        event = {
          kind: 'tool.call',
          actor,
          call: { tool: 'search', args: { q: `term ${k}` }, callId: `c${i}-${k}` },
        };
      } else if (r < 0.45) {
        const call = { tool: 'get_repo', args: { repoId: known }, callId: `g${i}-${k}` };
        event = { kind: 'tool.result', actor, call, result: { id: known, name: 'billing', owner: 'team-a' } };
      } else if (r < 0.6) {
        event = {
          kind: 'tool.call',
          actor,
          call: { tool: 'write_file', args: { path: known, body: 'some text here' } },
        };
      } else if (r < 0.7) {
        event = {
          kind: 'tool.call',
          actor,
          call: { tool: 'deploy', args: { repoId: r < 0.699 ? known : `repo-x${k}` } },
        };
      } else if (r < 0.78) {
        event = {
          kind: 'tool.call',
          actor,
          call: { tool: 'post_comment', args: { body: 'looks good to me' } },
        };
      } else if (r < 0.85) {
        const call = { tool: 'read_customer', args: { id: `cust-${i}` }, callId: `r${i}-${k}` };
        event = { kind: 'tool.result', actor, call, result: { email: 'c@example.com' } };
      } else if (r < 0.93) {
        event = {
          kind: 'ingest',
          actor,
          content: { source: r < 0.9 ? 'web' : 'user', text: `please look at ${known} today` },
        };
      } else {
        event = { kind: 'tool.call', actor, call: { tool: 'get_repo', args: { repoId: known } } };
      }
      const tool =
        event.kind === 'tool.call' || event.kind === 'tool.result' ? policy.tool(event.call.tool) : undefined;
      const ctx: MutableCtx = {
        event,
        eventId: `e-${i}-${k}`,
        policy,
        runtime: undefined as never,
        session: state,
        agent: policy.agent(actor.agent),
        tool,
        now: 0,
        signal,
      };
      const verdict: Verdict = 'allow';
      out.push({ ctx, decision: { verdict, reasons: [], eventId: ctx.eventId } });
    }
  }
  return out;
}

export function engineFor(policy: Policy, raised: { n: number }): DetectorEngine {
  const d = detectorsSchema.parse({});
  return new DetectorEngine(
    effectiveRules(d),
    { maxKeys: d.maxKeysPerRule, maxEvents: d.maxEventsPerWindow, cooldownMs: 300_000 },
    () => {
      raised.n++;
    },
    (error) => {
      throw error;
    },
  );
}

function gcFunction(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

/**
 * The sequence detectors' own cost: events per second per core through the engine with every built-in rule
 * on (deferred fingerprint sweeps included in the timing), per-event latency from batches, memory per thousand
 * active sessions; and what the observe module adds to a full in-process decision.
 */
export async function run(): Promise<BenchResult[]> {
  const policy = new Policy(parseConfig(CONFIG));
  const results: BenchResult[] = [];

  // Throughput: 1,000 active sessions, 200 events each, replayed three times with the clock moving on.
  const events = traffic(policy, 1_000, 200);
  const raised = { n: 0 };
  const engine = engineFor(policy, raised);
  let now = Date.UTC(2026, 0, 1);
  const feed = (from: number, to: number) => {
    for (let j = from; j < to; j++) {
      const e = events[j % events.length] as (typeof events)[number];
      e.ctx.now = now;
      now += 1;
      engine.observe(e.ctx, e.decision);
    }
  };
  feed(0, 200_000); // warm-up
  const total = events.length * 3;
  const batch = 1_000;
  const perEventUs: number[] = [];
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let j = 0; j < total; j += batch) {
    const t0 = process.hrtime.bigint();
    feed(j, j + batch);
    if (j % 100_000 === 0) engine.sweep(now);
    perEventUs.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  perEventUs.sort((a, b) => a - b);
  const stats = engine.stats();
  results.push({
    name: 'detectors: built-in rules, events per CPU-second (one core)',
    unit: 'ops/s',
    opsPerSec: Math.round(total / cpuSeconds),
    samples: total,
    notes: `same run as below, divided by the CPU time this process used (immune to other processes sharing the cores); budget > 500,000/s`,
  });
  results.push({
    name: 'detectors: built-in rules, events/s on one core (wall clock)',
    unit: 'ops/s',
    opsPerSec: Math.round(total / seconds),
    p50Us: round(percentile(perEventUs, 50)),
    p99Us: round(percentile(perEventUs, 99)),
    samples: total,
    notes: `5 rules, 1,000 sessions, 50 agents, 250 users; fingerprint sweeps timed in; latency is per event over batches of ${batch}; ${raised.n} findings; budget > 500,000/s`,
  });
  if (stats.errors > 0) throw new Error(`detector errors during the bench: ${stats.errors}`);

  // Memory: heap held by the engine's state for 1,000 and 10,000 active sessions.
  const gc = gcFunction();
  for (const sessions of [1_000, 10_000]) {
    const traffic2 = traffic(policy, sessions, 50);
    const e2 = engineFor(policy, { n: 0 });
    gc?.();
    const before = process.memoryUsage().heapUsed;
    let t = Date.UTC(2026, 0, 1);
    const t0 = process.hrtime.bigint();
    for (const e of traffic2) {
      e.ctx.now = t++;
      e2.observe(e.ctx, e.decision);
    }
    e2.sweep(t);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    gc?.();
    const held = process.memoryUsage().heapUsed - before;
    const keys = Object.values(e2.stats().rules).reduce((a, r) => a + r.keys, 0);
    results.push({
      name: `detectors: state for ${sessions.toLocaleString('en-US')} active sessions`,
      unit: 'ops/s',
      opsPerSec: Math.round(traffic2.length / secs),
      samples: traffic2.length,
      notes: `${(held / 2 ** 20).toFixed(1)} MiB heap (${(((held / sessions) * 1000) / 2 ** 20).toFixed(1)} MiB per 1,000 sessions), ${keys} keys across rules, 50 events per session${gc ? '' : '; no gc available, approximate'}`,
    });
    // Keep the engine alive until measured.
    if (e2.stats().events === 0) throw new Error('no events');
  }

  // What the observe module adds to a full decision (no telemetry, every built-in rule on).
  for (const withObserve of [false, true]) {
    const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
    const store = await openSqliteStore({ path: join(dir, 'bench.db') });
    const warden = await createWarden({
      config: parseConfig(CONFIG),
      store,
      extensions: withObserve ? [new ObserveExtension()] : [],
    });
    const s = warden.session({ agent: 'agent-1', user: 'u', task: 't' });
    const call = { tool: 'search', args: { q: 'x' } };
    results.push(
      await measureAsync(
        `decision: core stages ${withObserve ? '+ observe module (detectors, inventory)' : 'only (no modules)'}`,
        () => s.authorize(call),
        {
          samples: 100_000,
          notes: 'read call, ledger enqueued to SQLite, telemetry off',
        },
      ),
    );
    await warden.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
