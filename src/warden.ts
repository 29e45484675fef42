import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { loadConfigFile, parseConfig, validateConfig } from './config/load.js';
import { Policy } from './config/policy.js';
import type { WardenConfig } from './config/schema.js';
import { reason } from './core/decision.js';
import { WardenError } from './core/errors.js';
import type { Actor, Decision, Reason, WardenEvent } from './core/types.js';
import { registryStage } from './identity/registry-stage.js';
import { phaseStage } from './maturity/phase-stage.js';
import { KillSwitches, type KillScope, type KillSwitch } from './observe/kill-switch.js';
import { killSwitchStage } from './observe/kill-switch-stage.js';
import { Ledger } from './observe/ledger.js';
import { Redactor } from './observe/redact.js';
import { defaultExtensions } from './pipeline/default-extensions.js';
import { Pipeline, type PipelineOutcome } from './pipeline/pipeline.js';
import type { ApprovalBroker, Clock, Extension, Runtime } from './pipeline/runtime.js';
import { SessionState } from './pipeline/session-state.js';
import type { Stage, StageContext } from './pipeline/stage.js';
import { validateEvent } from './pipeline/validate-event.js';
import { Session } from './session.js';
import { openStore } from './store/open-store.js';
import type { LedgerEntry, Store } from './store/store.js';

/** How to create a Warden. */
export interface WardenOptions {
  /** A validated config, a config object to validate, YAML text, or (with `configPath`) nothing. */
  config?: WardenConfig | Record<string, unknown> | string;
  /** Path of a `warden.yaml` to load. */
  configPath?: string;
  /** Use this store instead of the one the config names (the caller keeps ownership). */
  store?: Store;
  /** Replaces the wall clock (tests, the digital twin). */
  clock?: Clock;
  /** Replaces the default module list. */
  extensions?: Extension[];
  /** Extra stages, for tests and custom controls. */
  stages?: Stage[];
  /** Called when something goes wrong off the decision path (a ledger flush, an observer). */
  onError?: (error: unknown, where: string) => void;
}

const CONSEQUENTIAL_KINDS = new Set(['memory.write', 'credential.issue']);

/**
 * The Warden runtime: one policy, one store, one pipeline. Create it with `createWarden`, open sessions
 * with `session()`, and `close()` it to flush the ledger.
 */
export class Warden {
  readonly policy: Policy;
  readonly runtime: Runtime;
  private readonly pipeline: Pipeline;
  private readonly extensions: Extension[];
  private readonly ownsStore: boolean;
  private readonly sessions: Map<string, SessionState>;
  private readonly onError: (error: unknown, where: string) => void;
  private closed = false;

  private constructor(
    policy: Policy,
    runtime: Runtime,
    pipeline: Pipeline,
    extensions: Extension[],
    ownsStore: boolean,
    onError: (error: unknown, where: string) => void,
    sessions: Map<string, SessionState>,
  ) {
    this.sessions = sessions;
    this.policy = policy;
    this.runtime = runtime;
    this.pipeline = pipeline;
    this.extensions = extensions;
    this.ownsStore = ownsStore;
    this.onError = onError;
  }

  /** @internal Use `createWarden`. */
  static async create(options: WardenOptions): Promise<Warden> {
    let baseDir = process.cwd();
    let config: WardenConfig;
    if (options.configPath !== undefined) {
      const loaded = loadConfigFile(options.configPath);
      config = loaded.config;
      baseDir = loaded.baseDir;
    } else if (typeof options.config === 'string') {
      config = parseConfig(options.config);
    } else if (options.config !== undefined) {
      config = validateConfig(options.config, 'config');
    } else {
      throw new WardenError('CONFIG_INVALID', 'createWarden needs `config` or `configPath`');
    }
    const policy = new Policy(config, baseDir);
    const onError =
      options.onError ??
      ((error: unknown, where: string) => {
        process.emitWarning(`warden: ${where}: ${error instanceof Error ? error.message : String(error)}`);
      });
    const ownsStore = options.store === undefined;
    const store =
      options.store ??
      (await openStore({
        url: process.env.WARDEN_DATABASE_URL ?? config.store.url,
        path: resolve(baseDir, config.store.path),
        synchronous: config.store.synchronous,
      }));
    try {
      await store.migrate();
      const ledger = new Ledger(store, {
        batchSize: config.ledger.batchSize,
        flushMs: config.ledger.flushMs,
        maxPending: config.ledger.maxPending,
        onError: (e) => {
          onError(e, 'ledger flush');
        },
      });
      const redactor = new Redactor({ patterns: config.ledger.redact, keys: config.ledger.redactKeys });
      const killSwitches = new KillSwitches(store);
      await killSwitches.start();
      const services = new Map<string, unknown>();
      const sessions = new Map<string, SessionState>();
      const clock = options.clock ?? { now: () => Date.now() };
      const runtime: Runtime = {
        policy,
        store,
        ledger,
        redactor,
        killSwitches,
        clock,
        sessions,
        service: <T>(name: string) => services.get(name) as T | undefined,
        provide: (name, value) => {
          if (services.has(name)) throw new WardenError('INTERNAL', `service ${name} is provided twice`);
          services.set(name, value);
        },
        audit: (type, fields) =>
          ledger.appendDurable({
            id: randomUUID(),
            ts: clock.now(),
            mono: process.hrtime.bigint().toString(),
            type,
            agent: fields.agent ?? null,
            session: fields.session ?? null,
            user: null,
            task: null,
            tool: null,
            verdict: null,
            data: redactor.value(fields.data),
          }),
      };
      const extensions = options.extensions ?? (await defaultExtensions());
      const stages: Stage[] = [
        killSwitchStage(killSwitches),
        registryStage(),
        phaseStage(),
        ...(options.stages ?? []),
      ];
      for (const ext of extensions) stages.push(...(await ext.setup(runtime)));
      const pipeline = new Pipeline(stages, { stageTimeoutMs: config.pipeline.stageTimeoutMs });
      // The session map is shared with the runtime so extensions can reach open sessions.
      const warden = new Warden(policy, runtime, pipeline, extensions, ownsStore, onError, sessions);
      killSwitches.onChange((sw, engaged) => {
        if (engaged) warden.abortCovered(sw);
      });
      return warden;
    } catch (error) {
      if (ownsStore) await store.close().catch(() => undefined);
      throw error;
    }
  }

  /** Opens (or reopens) a session for an agent. The agent need not be configured: its events will be denied. */
  session(actor: {
    agent: string;
    user?: string;
    session?: string;
    task?: string;
    tenant?: string;
  }): Session {
    if (this.closed) throw new WardenError('CLOSED', 'this Warden is closed');
    const id = actor.session ?? randomUUID();
    let state = this.sessions.get(id);
    if (!state || state.actor.agent !== actor.agent) {
      const full: Actor = { agent: actor.agent, session: id };
      if (actor.user !== undefined) full.user = actor.user;
      if (actor.task !== undefined) full.task = actor.task;
      if (actor.tenant !== undefined) full.tenant = actor.tenant;
      state = new SessionState(full, this.runtime.clock.now());
      this.sessions.set(id, state);
      const sw = this.runtime.killSwitches.check(full.agent, id);
      if (sw) state.controller.abort(new Error(`kill switch engaged: ${sw.reason}`));
    }
    return new Session(this, state);
  }

  /** Forgets a session's in-memory state (its ledger records stay). */
  endSession(id: string): void {
    this.sessions.delete(id);
  }

  /** Engages a kill switch: the next decision anywhere it covers is `halt`, and in-flight work is aborted. */
  async kill(scope: KillScope, target: string, reasonText: string, by: string): Promise<KillSwitch> {
    const sw = await this.runtime.killSwitches.engage({ scope, target, reason: reasonText, by });
    await this.runtime.audit('kill.engaged', {
      agent: scope === 'agent' ? target : null,
      session: scope === 'session' ? target : null,
      data: sw,
    });
    return sw;
  }

  /** Releases a kill switch; recorded with who and why. */
  async release(scope: KillScope, target: string, reasonText: string, by: string): Promise<boolean> {
    const sw = await this.runtime.killSwitches.release(scope, target);
    await this.runtime.audit('kill.released', {
      agent: scope === 'agent' ? target : null,
      session: scope === 'session' ? target : null,
      data: { scope, target, reason: reasonText, by, wasEngaged: sw !== undefined },
    });
    return sw !== undefined;
  }

  /**
   * Decides one event: pipeline, approvals, ledger. Never rejects; every failure is a `deny` with a reason.
   * Most callers use a `Session` instead.
   */
  async decide(state: SessionState, event: WardenEvent): Promise<Decision> {
    const eventId = randomUUID();
    const now = this.runtime.clock.now();
    if (this.closed) return this.refuse(eventId, reason('fail-closed', 6, 'ASI08', 'Warden is closed'));
    const invalid = validateEvent(event);
    if (invalid !== undefined) {
      const decision = this.refuse(eventId, reason('input', 6, 'ASI08', `malformed event: ${invalid}`));
      this.tryEnqueue(this.malformedEntry(eventId, now, state, invalid));
      return decision;
    }
    state.events++;
    const tool =
      event.kind === 'tool.call' || event.kind === 'tool.result'
        ? this.policy.tool(event.call.tool, event.call.server)
        : undefined;
    const ctx: StageContext = {
      event,
      eventId,
      policy: this.policy,
      runtime: this.runtime,
      session: state,
      agent: this.policy.agent(event.actor.agent),
      tool,
      now,
      signal: state.controller.signal,
    };
    let outcome: PipelineOutcome;
    try {
      outcome = await this.pipeline.run(ctx);
    } catch (error) {
      outcome = {
        verdict: 'deny',
        reasons: [reason('fail-closed', 6, 'ASI08', `pipeline failed: ${String(error)}`)],
      };
    }
    const decision: Decision = { verdict: outcome.verdict, reasons: outcome.reasons, eventId };
    if (outcome.escalation) decision.escalation = outcome.escalation;
    if (outcome.content !== undefined) decision.content = outcome.content;
    if (outcome.tier !== undefined) decision.tier = outcome.tier;
    if (decision.verdict === 'approve') await this.resolveApproval(ctx, decision);

    const consequential =
      decision.verdict === 'allow' &&
      ((event.kind === 'tool.call' && tool !== undefined && tool.class !== 'read') ||
        CONSEQUENTIAL_KINDS.has(event.kind));
    const entry = this.entryFor(ctx, decision);
    if (consequential) {
      try {
        await this.runtime.ledger.appendDurable(entry);
      } catch (error) {
        const r = reason(
          'ledger',
          6,
          'ASI08',
          'the decision could not be made durable in the ledger, so the action may not proceed',
          {
            error: error instanceof Error ? error.message : String(error),
          },
        );
        // The entry is still queued for retry: make it say what the caller was told.
        entry.verdict = 'deny';
        (entry.data as { reasons: Reason[] }).reasons = [r];
        decision.verdict = 'deny';
        decision.reasons = [r];
      }
    } else if (!this.tryEnqueue(entry) && decision.verdict === 'allow') {
      decision.verdict = 'deny';
      decision.reasons = [
        reason('ledger', 6, 'ASI08', 'the ledger cannot accept records (store unreachable, backlog full)'),
      ];
    }
    this.pipeline.observe(ctx, decision, (stage, error) => {
      this.onError(error, `stage ${stage} observe`);
    });
    for (const ext of this.extensions) {
      if (!ext.onDecision) continue;
      try {
        ext.onDecision(ctx, decision);
      } catch (error) {
        this.onError(error, `extension ${ext.name}`);
      }
    }
    return decision;
  }

  /** Flushes the ledger, closes extensions and (if Warden opened it) the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ext of this.extensions) {
      try {
        await ext.close?.();
      } catch (error) {
        this.onError(error, `extension ${ext.name} close`);
      }
    }
    try {
      await this.runtime.ledger.close();
    } finally {
      await this.runtime.killSwitches.stop();
      if (this.ownsStore) await this.runtime.store.close();
    }
  }

  private async resolveApproval(ctx: StageContext, decision: Decision): Promise<void> {
    const broker = this.runtime.service<ApprovalBroker>('approvals');
    if (!broker) {
      decision.verdict = 'deny';
      decision.reasons = [
        ...decision.reasons,
        reason('approval', 3, 'ASI09', 'this action needs human approval and no approval service is running'),
      ];
      return;
    }
    try {
      const { approvalId, granted } = await broker.resolve(ctx, decision);
      decision.approvalId = approvalId;
      if (granted) decision.verdict = 'allow';
    } catch (error) {
      decision.verdict = 'deny';
      decision.reasons = [
        ...decision.reasons,
        reason(
          'approval',
          3,
          'ASI09',
          `the approval request could not be stored (${error instanceof Error ? error.message : String(error)})`,
        ),
      ];
    }
  }

  private refuse(eventId: string, r: Reason): Decision {
    return { verdict: 'deny', reasons: [r], eventId };
  }

  private tryEnqueue(entry: LedgerEntry): boolean {
    try {
      this.runtime.ledger.enqueue(entry);
      return true;
    } catch (error) {
      this.onError(error, 'ledger enqueue');
      return false;
    }
  }

  private abortCovered(sw: KillSwitch): void {
    for (const state of this.sessions.values()) {
      const hit =
        sw.scope === 'global' ||
        (sw.scope === 'agent' && state.actor.agent === sw.target) ||
        (sw.scope === 'session' && state.actor.session === sw.target);
      if (hit && !state.controller.signal.aborted)
        state.controller.abort(new Error(`kill switch engaged: ${sw.reason}`));
    }
  }

  private malformedEntry(id: string, now: number, state: SessionState, problem: string): LedgerEntry {
    return {
      id,
      ts: now,
      mono: process.hrtime.bigint().toString(),
      type: 'event.malformed',
      agent: state.actor.agent,
      session: state.actor.session,
      user: state.actor.user ?? null,
      task: state.actor.task ?? null,
      tool: null,
      verdict: 'deny',
      data: { problem },
    };
  }

  private entryFor(ctx: StageContext, decision: Decision): LedgerEntry {
    const e = ctx.event;
    const r = this.runtime.redactor;
    let data: Record<string, unknown>;
    switch (e.kind) {
      case 'tool.call':
        data = {
          args: r.value(e.call.args),
          callId: e.call.callId,
          server: e.call.server,
          rationale: e.call.rationale === undefined ? undefined : r.text(e.call.rationale),
        };
        break;
      case 'tool.result':
        data = {
          result: r.value(e.result),
          callId: e.call.callId,
          isError: e.isError,
          args: r.value(e.call.args),
        };
        break;
      case 'ingest':
        data = { source: e.content.source, ref: e.content.ref, text: r.text(e.content.text) };
        break;
      case 'message':
        data = { from: e.message.from, to: e.message.to, payload: r.text(e.message.payload) };
        break;
      case 'memory.write':
      case 'memory.read':
        data = {
          namespace: e.memory.namespace,
          key: e.memory.key,
          value: r.value(e.memory.value),
          goalAltering: e.memory.goalAltering,
        };
        break;
      case 'credential.issue':
      case 'credential.revoke':
        data = { credential: e.credential.name, scope: e.credential.scope };
        break;
    }
    data.reasons = decision.reasons.length === 0 ? [] : r.value(decision.reasons);
    if (decision.approvalId) data.approvalId = decision.approvalId;
    if (decision.tier !== undefined) data.tier = decision.tier;
    if (e.actor.tenant !== undefined) data.tenant = e.actor.tenant;
    return {
      id: ctx.eventId,
      ts: ctx.now,
      mono: process.hrtime.bigint().toString(),
      type: e.kind,
      agent: e.actor.agent,
      session: e.actor.session,
      user: e.actor.user ?? null,
      task: e.actor.task ?? null,
      tool: e.kind === 'tool.call' || e.kind === 'tool.result' ? e.call.tool : null,
      verdict: decision.verdict,
      data,
    };
  }
}

/** Creates a Warden from a config (object, YAML text or file) and opens its store. Throws `ConfigError` on a bad config. */
export function createWarden(options: WardenOptions): Promise<Warden> {
  return Warden.create(options);
}
