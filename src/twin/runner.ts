import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Policy } from '../config/policy.js';
import type { WardenConfig } from '../config/schema.js';
import type { Decision, Reason, RiskId, ToolCall, Verdict } from '../core/types.js';
import { signMessage } from '../observe/messages/envelope.js';
import type { Extension } from '../pipeline/runtime.js';
import type { Session } from '../session.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { verifyStoreLedger } from '../store/verify-chain.js';
import { createWarden, type Warden } from '../warden.js';
import {
  blastRadius,
  checkCaps,
  type BlastRadius,
  type CapCheck,
  type ExecutedCall,
} from './blast-radius.js';
import {
  parseLeafStep,
  ScenarioError,
  template,
  type AlertExpectation,
  type LeafStep,
  type LoadedScenario,
  type Scenario,
  type ScenarioIssue,
  type StepExpectation,
  type StepKind,
} from './scenario-schema.js';
import { simulateCall, type EffectBinding } from './simulated-tools.js';
import { World, type Change, type WorldSnapshot } from './world.js';

/**
 * Runs a scenario. In `warden` mode every step goes through the real pipeline (`createWarden` with the
 * default extensions, a fresh SQLite store in a temp directory, the scripted clock); allowed calls are
 * executed against the simulated world. In `baseline` mode there is no Warden: every step is allowed and
 * executed, which is what the same agent would have done unguarded.
 */

/** With Warden's controls (`warden`) or without (`baseline`). */
export type RunMode = 'warden' | 'baseline';

/** What happened at one step. */
export interface StepTrace {
  /** 1-based position in the expanded run. */
  index: number;
  /** Where the step is in the file, e.g. `script[3].steps[0]`. */
  path: string;
  /** Iteration of a repeat (1-based), when the step is in one. */
  iteration?: number;
  kind: StepKind;
  label: string;
  agent?: string;
  session?: string;
  /** Scripted time of the step, ms since the scenario start. */
  at: number;
  /** The decision on the step (decided kinds only). */
  verdict?: Verdict;
  reasons: Reason[];
  approvalId?: string;
  /** The decision on the recorded tool result, for executed calls. */
  resultVerdict?: Verdict;
  resultReasons?: Reason[];
  /** The step's effect was applied to the world. */
  executed: boolean;
  changes: Change[];
  note?: string;
  /** Expectations of this step that did not hold. */
  failures: string[];
}

/** A step Warden did not let through, with the reason that stopped it. */
export interface Stop {
  index: number;
  label: string;
  agent: string | undefined;
  verdict: Verdict;
  /** The first reason's control and risk: the one that decided. */
  control: string;
  risk: RiskId;
  message: string;
  /** Every reason given, in order (a deny may come with approval reasons other stages raised). */
  controls: { control: string; risk: RiskId }[];
}

/** A control at work in a run, and how many steps it stopped. */
export interface Highlight {
  control: string;
  risk: RiskId;
  verdict: Verdict;
  count: number;
}

function countHighlight(list: Highlight[], r: { control: string; risk: RiskId }, verdict: Verdict): void {
  const h = list.find((x) => x.control === r.control && x.risk === r.risk && x.verdict === verdict);
  if (h) h.count++;
  else list.push({ control: r.control, risk: r.risk, verdict, count: 1 });
}

/** An alert raised during the run (store collection `alerts`). */
export interface AlertRecord {
  id: string;
  rule: string;
  severity: string;
  agent: string;
  message: string;
  actions: string[];
}

/** One checked expectation. */
export interface ExpectationResult {
  where: string;
  expected: string;
  actual: string;
  ok: boolean;
}

/** The outcome of running one scenario in one mode. */
export interface ScenarioRun {
  mode: RunMode;
  id: string;
  title: string;
  file: string | undefined;
  steps: StepTrace[];
  counts: Record<Verdict, number>;
  stops: Stop[];
  blast: BlastRadius;
  caps: CapCheck[];
  capsExceeded: boolean;
  /** Every expectation checked (none in a baseline run). */
  expectations: ExpectationResult[];
  failedExpectations: number;
  alerts: AlertRecord[];
  /**
   * The controls this run shows at work: for each step the scenario expected to be stopped (and was),
   * the reason that matched, counted by control, risk and verdict. Falls back to every stop's deciding
   * reason when the scenario states no stop.
   */
  highlights: Highlight[];
  ledger?: { records: number; intact: boolean };
  warnings: string[];
  world: WorldSnapshot;
  /** Wall time the run took, ms. */
  durationMs: number;
  /** Scripted time the run covered, ms. */
  simulatedMs: number;
  /** The run could not complete (setup failed); set instead of a partial verdict. */
  error?: string;
  /** Caps held and every expectation held (baseline runs only check caps). */
  passed: boolean;
}

/** Progress of a run, for displays. */
export interface RunProgress {
  scenario: string;
  mode: RunMode;
  step: number;
  total: number;
}

/** Options of `runScenario`. */
export interface RunOptions {
  mode?: RunMode;
  /** Called after each step. Must be cheap. */
  onProgress?: (progress: RunProgress) => void;
  /** Where the temp store directory is created (default: the OS temp dir). */
  tmpRoot?: string;
  /**
   * The modules to run instead of the default ones (your own controls, or a subset in tests). A factory:
   * every run needs fresh instances.
   */
  extensions?: () => Extension[] | Promise<Extension[]>;
}

/** One step of the expanded script, with its scripted time. */
export interface PlannedStep {
  step: LeafStep;
  path: string;
  iteration: number | undefined;
  /** ms since start. */
  time: number;
}

/** Expands repeats and assigns every step its scripted time. Throws ScenarioError for a bad templated step. */
export function planScenario(scenario: Scenario, file?: string): PlannedStep[] {
  const out: PlannedStep[] = [];
  const issues: ScenarioIssue[] = [];
  const tick = scenario.clock.tick;
  let now = 0;
  const advance = (path: string, at: number | undefined, after: number | undefined, fallback: number) => {
    if (at !== undefined) {
      if (at < now)
        issues.push({
          path: `${path}.at`,
          message: `${at} ms is earlier than the step before it (${now} ms)`,
          fix: 'the scripted clock only moves forward: use a later `at` or `after`',
        });
      now = Math.max(now, at);
    } else now += after ?? fallback;
  };
  scenario.script.forEach((s, i) => {
    const path = `script[${i}]`;
    if (s.kind !== 'repeat') {
      advance(path, s.at, s.kind === 'wait' ? s.wait : s.after, s.kind === 'wait' ? 0 : tick);
      out.push({ step: s, path, iteration: undefined, time: now });
      return;
    }
    advance(path, s.at, s.after, tick);
    const start = now;
    for (let k = 1; k <= s.count; k++) {
      const iterStart = s.every !== undefined ? start + (k - 1) * s.every : k === 1 ? start : now + tick;
      now = Math.max(now, iterStart);
      s.steps.forEach((raw, j) => {
        const stepPath = `${path}.steps[${j}]`;
        const leaf = parseLeafStep(
          template(raw, { i: String(k), n: String(s.count) }),
          `${stepPath} (iteration ${k})`,
          issues,
        );
        if (!leaf) return;
        if (leaf.at !== undefined) {
          issues.push({
            path: `${stepPath}.at`,
            message: '`at` is not allowed inside a repeat',
            fix: "use `after` (relative to the previous step) or the repeat's `every`",
          });
          return;
        }
        if (j > 0 || leaf.kind === 'wait')
          now += leaf.kind === 'wait' ? leaf.wait : (leaf.after ?? (s.every !== undefined ? 0 : tick));
        else now += leaf.after ?? 0;
        out.push({ step: leaf, path: stepPath, iteration: k, time: now });
      });
      if (issues.length > 20) break;
    }
  });
  if (issues.length > 0) throw new ScenarioError(`scenario ${scenario.id} cannot be planned`, issues, file);
  return out;
}

function emptyCounts(): Record<Verdict, number> {
  return { allow: 0, deny: 0, approve: 0, halt: 0 };
}

function defaultLabel(step: LeafStep): string {
  const brief = (v: unknown) => {
    const s = JSON.stringify(v) ?? '';
    return s.length > 60 ? s.slice(0, 59) + '…' : s;
  };
  switch (step.kind) {
    case 'ingest':
      return `ingest ${step.ingest.source}${step.ingest.ref ? ` ${step.ingest.ref}` : ''}`;
    case 'call':
      return `${step.call.tool} ${brief(step.call.args)}`;
    case 'message':
      return `message ${step.message.from} → ${step.message.to ?? step.agent ?? '?'}`;
    case 'memory':
      return `memory ${step.memory.op} ${step.memory.namespace}/${step.memory.key}`;
    case 'credential':
      return `credential ${step.credential.op} ${step.credential.name}`;
    case 'wait':
      return `wait ${step.wait} ms`;
    case 'kill':
      return `operator engages kill switch (${step.kill.scope}${step.kill.target ? ` ${step.kill.target}` : ''})`;
    case 'release':
      return `operator releases kill switch (${step.release.scope}${step.release.target ? ` ${step.release.target}` : ''})`;
    case 'quarantine':
      return `operator quarantines ${step.quarantine.agent}`;
    case 'unquarantine':
      return `operator lifts the quarantine of ${step.unquarantine.agent}`;
    case 'review':
      return `${step.review.by} ${step.review.decision === 'approve' ? 'approves' : 'denies'} ${step.review.step ?? 'the held call'}`;
  }
}

/** Does a decision meet one expectation? Returns undefined when it does, or what was wrong. */
export function checkExpectation(
  exp: StepExpectation,
  verdict: Verdict,
  reasons: readonly Reason[],
): string | undefined {
  const wanted = [
    exp.verdict.join('|'),
    exp.control ? `by ${exp.control.join('|')}` : '',
    exp.risk ? `(${exp.risk.join('|')})` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const got = `${verdict}${reasons.length > 0 ? ` by ${reasons.map((r) => `${r.control} (${r.risk})`).join(', ')}` : ''}`;
  if (!exp.verdict.includes(verdict)) return `expected ${wanted}, got ${got}`;
  if (exp.control || exp.risk) {
    const hit = reasons.some(
      (r) => (!exp.control || exp.control.includes(r.control)) && (!exp.risk || exp.risk.includes(r.risk)),
    );
    if (!hit) return `expected ${wanted}, got ${got}`;
  }
  return undefined;
}

function describeExpectation(exp: StepExpectation): string {
  return [
    exp.verdict.join('|'),
    exp.control ? `by ${exp.control.join('|')}` : '',
    exp.risk ? `(${exp.risk.join('|')})` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return re.test(value);
}

/** Checks alert expectations against the alerts raised. */
export function checkAlerts(
  expected: readonly AlertExpectation[],
  alerts: readonly AlertRecord[],
): ExpectationResult[] {
  return expected.map((e, i) => {
    const matching = alerts.filter(
      (a) =>
        (!e.rule || globMatch(e.rule, a.rule)) &&
        (!e.severity || e.severity.includes(a.severity as never)) &&
        (!e.agent || a.agent === e.agent),
    );
    const want = `${e.max !== undefined ? `${e.min}..${e.max}` : `at least ${e.min}`} alert(s)${e.rule ? ` rule ${e.rule}` : ''}${e.severity ? ` severity ${e.severity.join('|')}` : ''}${e.agent ? ` agent ${e.agent}` : ''}`;
    const ok = matching.length >= e.min && (e.max === undefined || matching.length <= e.max);
    const seen =
      alerts.length === 0 ? 'no alerts' : alerts.map((a) => `${a.rule}/${a.severity}/${a.agent}`).join(', ');
    return {
      where: `expect.alerts[${i}]`,
      expected: want,
      actual: `${matching.length} matching (${seen})`,
      ok,
    };
  });
}

function settle(): Promise<void> {
  // Extensions react to decisions synchronously and finish their store writes (alerts, kill switches)
  // on the following turns; give them those turns so the next step sees their effect, as it would live.
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Adds twin-generated public keys to the agents that sign. */
function withKeys(
  config: WardenConfig,
  keys: Map<string, { publicKey: string; privateKey: KeyObject }>,
): WardenConfig {
  if (keys.size === 0) return config;
  return {
    ...config,
    agents: config.agents.map((a) => {
      const k = keys.get(a.id);
      return k && a.publicKey === undefined ? { ...a, publicKey: k.publicKey } : a;
    }),
  };
}

/** What the observability module offers the twin: deferred detector work and pending writes, run now. */
interface Flushable {
  flush(): Promise<void>;
}
/** What the observability module offers for quarantine steps. */
interface QuarantineService {
  quarantine(agent: string, who: { reason: string; by: string; mode?: 'approve' | 'deny' }): Promise<unknown>;
  unquarantine(agent: string, who: { reason: string; by: string }): Promise<boolean>;
}
/** What the actions module offers for review steps. */
interface ApprovalsApi {
  approve(id: string, by: string, note?: string): Promise<{ request: { status: string } }>;
  deny(id: string, by: string, reason: string): Promise<{ request: { status: string } }>;
}

/** A call held for approval, which a `review` step may decide. */
interface Held {
  trace: StepTrace;
  step: Extract<LeafStep, { kind: 'call' }>;
  call: ToolCall;
  agent: string;
  iteration: number | undefined;
  reviewed: boolean;
}

/** One run of one scenario: the world, the Warden (or none), the sessions and everything recorded. */
class TwinRun {
  readonly world: World;
  readonly policy: Policy;
  readonly warnings: string[] = [];
  readonly steps: StepTrace[] = [];
  readonly executed: ExecutedCall[] = [];
  readonly counts = emptyCounts();
  readonly stops: Stop[] = [];
  readonly expectations: ExpectationResult[] = [];
  readonly highlights: Highlight[] = [];
  approvalsAsked = 0;
  clockNow: number;
  warden: Warden | undefined;
  private readonly sessions = new Map<string, Session>();
  private readonly keys = new Map<string, { publicKey: string; privateKey: KeyObject }>();
  private readonly lastEnvelope = new Map<string, Record<string, unknown>>();
  private readonly held: Held[] = [];
  private readonly onlyAgent: string | undefined;

  constructor(
    readonly scenario: Scenario,
    readonly mode: RunMode,
  ) {
    this.world = new World(scenario.world);
    this.policy = new Policy(scenario.config);
    this.clockNow = scenario.clock.start;
    this.onlyAgent = scenario.config.agents.length === 1 ? scenario.config.agents[0]?.id : undefined;
    for (const agent of scenario.keys) {
      const pair = generateKeyPairSync('ed25519');
      this.keys.set(agent, {
        publicKey: pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        privateKey: pair.privateKey,
      });
    }
  }

  /** The config with the twin's public keys in it. */
  config(): WardenConfig {
    return withKeys(this.scenario.config, this.keys);
  }

  agentOf(step: LeafStep): string | undefined {
    const d = this.scenario.defaults.agent;
    switch (step.kind) {
      case 'message':
        return step.message.to ?? step.agent ?? d ?? this.onlyAgent;
      case 'ingest':
      case 'call':
      case 'memory':
      case 'credential':
        return step.agent ?? d ?? this.onlyAgent;
      default:
        return undefined;
    }
  }

  private session(
    step: {
      session?: string | undefined;
      user?: string | undefined;
      task?: string | undefined;
      tenant?: string | undefined;
    },
    agent: string,
  ): { session: Session | undefined; name: string } {
    const name = step.session ?? this.scenario.defaults.session ?? 'main';
    if (!this.warden) return { session: undefined, name };
    const key = `${agent}\u0000${name}`;
    let session = this.sessions.get(key);
    if (!session) {
      const user = step.user ?? this.scenario.defaults.user;
      const task = step.task ?? this.scenario.defaults.task;
      session = this.warden.session({
        agent,
        session: `twin:${this.scenario.id}:${agent}:${name}`,
        ...(user === undefined ? {} : { user }),
        ...(task === undefined ? {} : { task }),
        ...(step.tenant === undefined ? {} : { tenant: step.tenant }),
      });
      this.sessions.set(key, session);
    }
    return { session, name };
  }

  /** Decides an event in the step's session, or allows it when there is no Warden (baseline). */
  private async decide(
    trace: StepTrace,
    step: {
      session?: string | undefined;
      user?: string | undefined;
      task?: string | undefined;
      tenant?: string | undefined;
    },
    agent: string | undefined,
    event: (s: Session) => Promise<Decision>,
  ): Promise<Decision> {
    if (!this.warden || agent === undefined)
      return { verdict: 'allow', reasons: [], eventId: `baseline-${trace.index}` };
    const { session, name } = this.session(step, agent);
    trace.session = name;
    return event(session as Session);
  }

  private record(trace: StepTrace, changes: Change[], irreversible: boolean): void {
    trace.executed = true;
    trace.changes = changes;
    this.executed.push({ irreversible, changes });
  }

  private expect(
    trace: StepTrace,
    where: string,
    list: StepExpectation[] | undefined,
    iteration: number | undefined,
    d: Decision,
    prefix = '',
  ): void {
    if (this.mode !== 'warden' || !list) return;
    for (const exp of list.filter((e) => inRange(e, iteration))) {
      const problem = checkExpectation(exp, d.verdict, d.reasons);
      this.expectations.push({
        where,
        expected: describeExpectation(exp),
        actual: problem ?? 'as expected',
        ok: !problem,
      });
      if (problem) trace.failures.push(prefix + problem);
      else if (prefix === '' && !exp.verdict.includes('allow') && d.verdict !== 'allow') {
        const r =
          d.reasons.find(
            (x) =>
              (!exp.control || exp.control.includes(x.control)) && (!exp.risk || exp.risk.includes(x.risk)),
          ) ?? d.reasons[0];
        if (
          r &&
          !this.highlights.some(
            (h) => h.control === r.control && h.risk === r.risk && h.verdict === d.verdict,
          )
        ) {
          this.highlights.push({ control: r.control, risk: r.risk, verdict: d.verdict, count: 0 });
        }
      }
    }
  }

  private tally(trace: StepTrace, d: Decision, agent: string | undefined): void {
    trace.verdict = d.verdict;
    trace.reasons = d.reasons;
    if (d.approvalId) trace.approvalId = d.approvalId;
    this.counts[d.verdict]++;
    if (d.verdict === 'approve') this.approvalsAsked++;
    if (this.mode === 'warden' && d.verdict !== 'allow') {
      const r = d.reasons[0];
      this.stops.push({
        index: trace.index,
        label: trace.label,
        agent,
        verdict: d.verdict,
        control: r?.control ?? 'unknown',
        risk: r?.risk ?? 'ASI08',
        message: r?.message ?? '(no reason given)',
        controls: d.reasons.map((x) => ({ control: x.control, risk: x.risk })),
      });
    }
  }

  /** Authorizes a call; when allowed, runs it on the world and records its result. */
  private async runCall(
    trace: StepTrace,
    step: Extract<LeafStep, { kind: 'call' }>,
    call: ToolCall,
    agent: string | undefined,
    p: { path: string; iteration: number | undefined },
  ): Promise<Decision> {
    const decision = await this.decide(trace, step, agent, (s) => s.authorize(call));
    if (decision.verdict !== 'allow' || agent === undefined) return decision;
    const toolConfig = this.policy.tool(call.tool, call.server);
    const binding: EffectBinding | undefined = this.scenario.simulate[call.tool];
    const outcome = simulateCall({
      world: this.world,
      tool: call.tool,
      toolConfig,
      args: call.args,
      binding,
      actor: { agent, user: step.user ?? this.scenario.defaults.user },
    });
    this.record(trace, outcome.changes, toolConfig?.class === 'irreversible');
    if (this.warden) {
      const { session } = this.session(step, agent);
      const result = step.result !== undefined ? step.result : outcome.result;
      const rd = await (session as Session).record(call, result, {
        isError: step.error ?? outcome.isError,
        ...(step.resultTier === undefined ? {} : { tier: step.resultTier }),
      });
      trace.resultVerdict = rd.verdict;
      trace.resultReasons = rd.reasons;
      this.expect(
        trace,
        `${p.path} result${p.iteration ? ` #${p.iteration}` : ''}`,
        step.expectResult,
        p.iteration,
        rd,
        'result: ',
      );
    }
    return decision;
  }

  /** Runs one planned step. */
  async run(p: PlannedStep): Promise<void> {
    this.clockNow = this.scenario.clock.start + p.time;
    const step = p.step;
    const agent = this.agentOf(step);
    const trace: StepTrace = {
      index: this.steps.length + 1,
      path: p.path,
      ...(p.iteration === undefined ? {} : { iteration: p.iteration }),
      kind: step.kind,
      label: step.label ?? defaultLabel(step),
      ...(agent === undefined ? {} : { agent }),
      at: p.time,
      reasons: [],
      executed: false,
      changes: [],
      failures: [],
    };
    this.steps.push(trace);
    const where = `${p.path}${p.iteration ? ` #${p.iteration}` : ''} (${trace.label})`;
    let decision: Decision | undefined;
    let expectList: StepExpectation[] | undefined;

    switch (step.kind) {
      case 'wait':
        break;
      case 'kill':
      case 'release': {
        const k = step.kind === 'kill' ? step.kill : step.release;
        if (!this.warden) {
          trace.note = 'no effect without Warden: there is no kill switch';
          break;
        }
        const target = k.target ?? '*';
        if (step.kind === 'kill') await this.warden.kill(k.scope, target, k.reason, k.by);
        else await this.warden.release(k.scope, target, k.reason, k.by);
        trace.executed = true;
        break;
      }
      case 'quarantine':
      case 'unquarantine': {
        const q = step.kind === 'quarantine' ? step.quarantine : step.unquarantine;
        trace.agent = q.agent;
        if (!this.warden) {
          trace.note = 'no effect without Warden: there is no quarantine';
          break;
        }
        const svc = this.warden.runtime.service<QuarantineService>('observe');
        if (!svc) {
          this.warnings.push(`${p.path}: quarantine needs the observe module, which is not loaded`);
          trace.failures.push('the observe module is not loaded');
          this.expectations.push({
            where,
            expected: `${step.kind} ${q.agent}`,
            actual: 'the observe module is not loaded',
            ok: false,
          });
          break;
        }
        if (step.kind === 'quarantine')
          await svc.quarantine(q.agent, { reason: q.reason, by: q.by, ...(q.mode ? { mode: q.mode } : {}) });
        else await svc.unquarantine(q.agent, { reason: q.reason, by: q.by });
        trace.executed = true;
        break;
      }
      case 'review': {
        expectList = step.expect;
        decision = await this.review(trace, step, p, where);
        break;
      }
      case 'ingest':
        expectList = step.expect;
        decision = await this.decide(trace, step, agent, (s) => s.ingest({ ...step.ingest }));
        trace.executed = decision.verdict === 'allow';
        break;
      case 'call': {
        expectList = step.expect;
        const call: ToolCall = {
          tool: step.call.tool,
          args: step.call.args,
          callId: step.call.callId ?? `twin-call-${trace.index}`,
          ...(step.call.server === undefined ? {} : { server: step.call.server }),
          ...(step.call.rationale === undefined ? {} : { rationale: step.call.rationale }),
        };
        decision = await this.runCall(trace, step, call, agent, p);
        if (decision.verdict === 'approve' && agent !== undefined)
          this.held.push({ trace, step, call, agent, iteration: p.iteration, reviewed: false });
        break;
      }
      case 'message': {
        expectList = step.expect;
        const to = agent ?? step.message.to ?? '';
        let message: { from: string; to: string; payload: string; envelope?: Record<string, unknown> } = {
          from: step.message.from,
          to,
          payload: step.message.payload,
        };
        if (step.message.envelope) message.envelope = step.message.envelope;
        if (step.message.replay) {
          const previous = this.lastEnvelope.get(`${step.message.from}\u0000${to}`);
          if (previous) message.envelope = previous;
          else
            this.warnings.push(
              `${p.path}: replay asked but ${step.message.from} has sent no signed message to ${to} yet`,
            );
        } else if (typeof step.message.sign === 'string') {
          const key = this.keys.get(step.message.sign);
          if (key) {
            // Signed with the named agent's key: the sender's own (genuine) or another agent's (forged).
            const signed = signMessage(key.privateKey, {
              from: step.message.from,
              to,
              payload: step.message.payload,
              ts: this.clockNow,
            });
            message = { ...signed };
            this.lastEnvelope.set(`${step.message.from}\u0000${to}`, signed.envelope);
          }
        }
        if (step.message.tamper) message.payload = message.payload + ' (amended)';
        const m = message;
        decision = await this.decide(trace, step, agent, (s) => s.message(m));
        if (decision.verdict === 'allow') {
          this.world.inbox.push({ from: m.from, to, payload: m.payload });
          this.record(
            trace,
            [
              {
                effect: 'message',
                op: 'send',
                resource: `agent:${to}`,
                destination: to,
                irreversible: false,
                bytesOut: 0,
                secrets: [],
                summary: `${m.from} told ${to}: ${m.payload.slice(0, 60)}`,
              },
            ],
            false,
          );
        }
        break;
      }
      case 'memory': {
        expectList = step.expect;
        const op = {
          namespace: step.memory.namespace,
          key: step.memory.key,
          ...(step.memory.value === undefined ? {} : { value: step.memory.value }),
          ...(step.memory.goalAltering === undefined ? {} : { goalAltering: step.memory.goalAltering }),
        };
        decision = await this.decide(trace, step, agent, (s) =>
          step.memory.op === 'write' ? s.memoryWrite(op) : s.memoryRead(op),
        );
        if (decision.verdict !== 'allow') break;
        if (step.memory.op === 'read') {
          trace.executed = true;
          break;
        }
        const key = `${op.namespace}/${op.key}`;
        const existed = this.world.memory.has(key);
        this.world.memory.set(key, structuredClone(step.memory.value ?? null));
        this.record(
          trace,
          [
            {
              effect: 'memory.write',
              op: existed ? 'update' : 'create',
              resource: `memory:${key}`,
              irreversible: false,
              bytesOut: 0,
              secrets: [],
              summary: `wrote memory ${key}${op.goalAltering ? ' (goal-altering)' : ''}`,
            },
          ],
          false,
        );
        break;
      }
      case 'credential': {
        expectList = step.expect;
        const kind = step.credential.op === 'issue' ? 'credential.issue' : 'credential.revoke';
        const credential = {
          name: step.credential.name,
          ...(step.credential.scope === undefined ? {} : { scope: step.credential.scope }),
        };
        const warden = this.warden;
        decision = await this.decide(trace, step, agent, (s) =>
          (warden as Warden).decide(s.state, { kind, actor: s.state.actor, credential }),
        );
        if (decision.verdict === 'allow') {
          this.record(
            trace,
            [
              {
                effect: kind,
                op: step.credential.op === 'issue' ? 'create' : 'delete',
                resource: `credential:${credential.name}`,
                irreversible: false,
                bytesOut: 0,
                secrets: [],
                summary: `${step.credential.op}d credential ${credential.name}`,
              },
            ],
            false,
          );
        }
        break;
      }
    }

    if (decision) {
      this.tally(trace, decision, trace.agent);
      this.expect(trace, where, expectList, p.iteration, decision);
    }
    await this.settle();
  }

  /** A person decides a held call; after a grant the agent submits the exact call again. */
  private async review(
    trace: StepTrace,
    step: Extract<LeafStep, { kind: 'review' }>,
    p: PlannedStep,
    where: string,
  ): Promise<Decision | undefined> {
    const r = step.review;
    const target =
      r.step !== undefined
        ? this.held.findLast((h) => !h.reviewed && h.trace.label === r.step)
        : this.held.findLast((h) => !h.reviewed);
    if (!this.warden) {
      trace.note = 'no effect without Warden: nothing was held';
      return undefined;
    }
    if (!target || !target.trace.approvalId) {
      const problem =
        r.step !== undefined
          ? `no held call labelled ${JSON.stringify(r.step)} is waiting for review`
          : 'no held call is waiting for review';
      trace.failures.push(problem);
      this.expectations.push({ where, expected: `${r.decision} a held call`, actual: problem, ok: false });
      return undefined;
    }
    target.reviewed = true;
    trace.agent = target.agent;
    trace.label =
      step.label ?? `${r.by} ${r.decision === 'approve' ? 'approves' : 'denies'} "${target.trace.label}"`;
    const api = this.warden.runtime.service<ApprovalsApi>('approvals.api');
    if (!api) {
      trace.failures.push('the actions module (approvals.api) is not loaded');
      this.expectations.push({
        where,
        expected: `${r.decision} a held call`,
        actual: 'the approvals API is not loaded',
        ok: false,
      });
      return undefined;
    }
    let status: string;
    try {
      const view =
        r.decision === 'approve'
          ? await api.approve(target.trace.approvalId, r.by, r.note)
          : await api.deny(target.trace.approvalId, r.by, r.note ?? 'denied in a twin review');
      status = view.request.status;
    } catch (error) {
      const msg = error instanceof Error ? error.message : String(error);
      trace.note = `the review was refused: ${msg}`;
      this.warnings.push(`${p.path}: review refused: ${msg}`);
      trace.failures.push(`review refused: ${msg}`);
      this.expectations.push({
        where,
        expected: `${r.decision} accepted`,
        actual: `refused: ${msg}`,
        ok: false,
      });
      return undefined;
    }
    trace.note = `request ${target.trace.approvalId} is ${status}`;
    if (r.decision !== 'approve' || status !== 'granted' || !r.resubmit) return undefined;
    return this.runCall(trace, target.step, target.call, target.agent, {
      path: p.path,
      iteration: target.iteration,
    });
  }

  /** Lets the extensions finish what a decision set off, and runs deferred detector work at the scripted time. */
  async settle(): Promise<void> {
    if (!this.warden) return;
    await settle();
    const observe = this.warden.runtime.service<Flushable>('observe');
    if (observe) {
      try {
        await observe.flush();
      } catch (error) {
        this.warnings.push(`observe flush: ${error instanceof Error ? error.message : String(error)}`);
      }
      await settle();
    }
  }
}

/**
 * Runs one scenario in one mode. Throws `ScenarioError` when the script cannot be expanded (see
 * `planScenario`); never throws for what happens inside the run: a failure there is the run's `error`.
 */
export async function runScenario(loaded: LoadedScenario, options: RunOptions = {}): Promise<ScenarioRun> {
  const mode = options.mode ?? 'warden';
  const scenario = loaded.scenario;
  const startedAt = performance.now();
  const planned = planScenario(scenario, loaded.file);
  const run = new TwinRun(scenario, mode);
  let alerts: AlertRecord[] = [];
  let ledger: ScenarioRun['ledger'];
  let error: string | undefined;
  let dir: string | undefined;
  let store: Store | undefined;

  try {
    if (mode === 'warden') {
      dir = mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'warden-twin-'));
      store = await openSqliteStore({ path: join(dir, 'twin.db') });
      const extensions = options.extensions ? await options.extensions() : undefined;
      run.warden = await createWarden({
        config: run.config(),
        store,
        clock: { now: () => run.clockNow },
        onError: (e, where) => run.warnings.push(`${where}: ${e instanceof Error ? e.message : String(e)}`),
        ...(extensions ? { extensions } : {}),
      });
    }
    for (const p of planned) {
      await run.run(p);
      options.onProgress?.({ scenario: scenario.id, mode, step: run.steps.length, total: planned.length });
    }
    if (run.warden && store) {
      await run.warden.runtime.ledger
        .flush()
        .catch((e: unknown) => run.warnings.push(`ledger flush: ${String(e)}`));
      await run.settle();
      const str = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);
      alerts = (await store.listDocs<Record<string, unknown>>('alerts')).map((d) => ({
        id: str(d.body.id, d.id),
        rule: str(d.body.rule, '?'),
        severity: str(d.body.severity, '?'),
        agent: str(d.body.agent, '?'),
        message: str(d.body.message, ''),
        actions: Array.isArray(d.body.actions) ? d.body.actions.map((a) => str(a, '?')) : [],
      }));
      const w = run.warden;
      run.warden = undefined;
      await w.close();
      const verified = await verifyStoreLedger(store);
      ledger = { records: verified.count, intact: verified.ok };
      if (!verified.ok) run.warnings.push('the ledger hash chain does not verify');
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    if (run.warden) await run.warden.close().catch(() => undefined);
    if (store) await store.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }

  const expectations = run.expectations;
  if (mode === 'warden' && !error) expectations.push(...checkAlerts(scenario.expect.alerts, alerts));
  const blast = blastRadius(run.executed, run.approvalsAsked);
  const caps = checkCaps(blast, scenario.caps);
  const capsExceeded = caps.some((c) => c.exceeded);
  const failedExpectations = expectations.filter((e) => !e.ok).length;
  const highlights = run.highlights;
  if (highlights.length === 0) for (const stop of run.stops) countHighlight(highlights, stop, stop.verdict);
  else {
    // Count every stop the highlighted control took part in, not only the steps that stated it.
    for (const h of highlights)
      h.count = run.stops.filter(
        (st) =>
          st.verdict === h.verdict && st.controls.some((c) => c.control === h.control && c.risk === h.risk),
      ).length;
  }
  const last = planned.at(-1);
  return {
    mode,
    id: scenario.id,
    title: scenario.title,
    file: loaded.file,
    steps: run.steps,
    counts: run.counts,
    stops: run.stops,
    blast,
    caps,
    capsExceeded,
    expectations,
    failedExpectations,
    alerts,
    highlights,
    ...(ledger ? { ledger } : {}),
    warnings: run.warnings,
    world: run.world.snapshot(),
    durationMs: performance.now() - startedAt,
    simulatedMs: last ? last.time : 0,
    ...(error === undefined ? {} : { error }),
    passed: error === undefined && !capsExceeded && failedExpectations === 0,
  };
}

function inRange(exp: StepExpectation, iteration: number | undefined): boolean {
  const i = iteration ?? 1;
  return (exp.from === undefined || i >= exp.from) && (exp.to === undefined || i <= exp.to);
}

/** Both runs of one scenario and what they show together. */
export interface ScenarioReport {
  id: string;
  title: string;
  incident: string | undefined;
  risks: RiskId[];
  file: string | undefined;
  warden?: ScenarioRun;
  baseline?: ScenarioRun;
  /** The Warden run held its caps and expectations (or, with controls off only, the baseline held its caps). */
  passed: boolean;
  /** The Warden run passed and stopped at least one step: the incident was stopped. */
  stopped: boolean;
}

/** Options of `runScenarioPair`. */
export interface PairOptions {
  /** `on` runs with Warden (and the baseline when asked), `off` only the baseline. Default `on`. */
  controls?: 'on' | 'off';
  /** Also run the baseline (default: the scenario's `baseline:` flag). */
  baseline?: boolean;
  onProgress?: (progress: RunProgress) => void;
  tmpRoot?: string;
  /** The modules for the Warden run instead of the default ones (see `RunOptions.extensions`). */
  extensions?: () => Extension[] | Promise<Extension[]>;
}

/** Runs a scenario with Warden and, when asked, without; says whether it passed and was stopped. */
export async function runScenarioPair(
  loaded: LoadedScenario,
  options: PairOptions = {},
): Promise<ScenarioReport> {
  const s = loaded.scenario;
  const controls = options.controls ?? 'on';
  const wantBaseline = controls === 'off' || (options.baseline ?? s.baseline);
  const common = {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.tmpRoot ? { tmpRoot: options.tmpRoot } : {}),
  };
  const warden =
    controls === 'on'
      ? await runScenario(loaded, {
          ...common,
          mode: 'warden',
          ...(options.extensions ? { extensions: options.extensions } : {}),
        })
      : undefined;
  const baseline = wantBaseline ? await runScenario(loaded, { ...common, mode: 'baseline' }) : undefined;
  const passed = warden ? warden.passed : (baseline?.passed ?? false);
  return {
    id: s.id,
    title: s.title,
    incident: s.incident,
    risks: s.risks,
    file: loaded.file,
    ...(warden ? { warden } : {}),
    ...(baseline ? { baseline } : {}),
    passed,
    stopped: warden !== undefined && warden.passed && warden.stops.length > 0,
  };
}
