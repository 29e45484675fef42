import type { KeyObject } from 'node:crypto';
import {
  alertsSchema,
  containmentSchema,
  detectorsSchema,
  inventorySchema,
  messagesSchema,
  observeSectionSchema,
  telemetrySchema,
} from '../config/sections/observe.js';
import { ConfigError } from '../core/errors.js';
import type { Decision } from '../core/types.js';
import type { Extension, Runtime } from '../pipeline/runtime.js';
import type { Stage, StageContext } from '../pipeline/stage.js';
import { AlertManager } from './alerts/alert-manager.js';
import type { Alert } from './alerts/alert.js';
import { WebhookNotifier } from './alerts/webhook.js';
import { BoundedMap } from './bounded-map.js';
import { Containment } from './containment/containment.js';
import { effectiveRules } from './detectors/builtins.js';
import { DetectorEngine } from './detectors/engine.js';
import { Inventory } from './inventory/inventory.js';
import type { KillSwitch } from './kill-switch.js';
import { parsePublicKey } from './messages/keys.js';
import { messageStage } from './messages/message-stage.js';
import { NonceCache } from './messages/nonce-cache.js';
import { resolveTracesUrl } from './otel/endpoint.js';
import type { DecisionTracer } from './otel/tracer.js';
import { Holds } from './quarantine/holds.js';
import { sequenceStage } from './quarantine/sequence-stage.js';
import { OBSERVE_SERVICE, type Attribution, type ObserveService } from './service.js';

/** Who Warden's own automatic actions are attributed to. */
export const DETECTOR_ACTOR = 'warden:detectors';

/**
 * The observability and incident-response module (Domain 6): OpenTelemetry export, sequence detectors and
 * alerts, agent inventory and shadow-agent discovery, quarantine and approval holds, signed agent-to-agent
 * messages, and cascade containment. Registers the `observe` service.
 */
export class ObserveExtension implements Extension {
  readonly name = 'observe';
  private runtime!: Runtime;
  private tracer: DecisionTracer | undefined;
  private engine!: DetectorEngine;
  private alerts!: AlertManager;
  private webhook: WebhookNotifier | undefined;
  private inventory!: Inventory;
  private holds!: Holds;
  private containment!: Containment;
  private shadowFlagged!: BoundedMap<string, true>;
  /** Agents that had a tier-3 tainted session recently (their messages are tier 3). */
  private tainted!: BoundedMap<string, number>;
  private taintWindowMs = 3_600_000;
  private shadowAlert = true;
  private containmentOn = true;
  private readonly cleanups: (() => unknown)[] = [];
  private readonly killListeners = new Set<(sw: KillSwitch) => void | Promise<void>>();

  async setup(runtime: Runtime): Promise<Stage[]> {
    this.runtime = runtime;
    const onError = (where: string) => (error: unknown) => {
      process.emitWarning(
        `warden observe: ${where}: ${error instanceof Error ? error.message : String(error)}`,
      );
    };
    const section = observeSectionSchema.parse(runtime.policy.config.observe ?? {});
    const detectors = detectorsSchema.parse(section.detectors ?? {});
    const alertCfg = alertsSchema.parse(section.alerts ?? {});
    const inventoryCfg = inventorySchema.parse(section.inventory ?? {});
    const messagesCfg = messagesSchema.parse(section.messages ?? {});
    const containmentCfg = containmentSchema.parse(section.containment ?? {});
    const telemetryCfg = telemetrySchema.parse(section.telemetry ?? {});
    const quarantineMode = section.quarantine?.mode ?? 'approve';
    const now = () => runtime.clock.now();

    // Public keys are checked at start so a bad key stops the process instead of denying messages later.
    const keys = new Map<string, KeyObject>();
    const keyIssues: { path: string; message: string; fix: string }[] = [];
    runtime.policy.config.agents.forEach((a, i) => {
      if (a.publicKey === undefined) return;
      try {
        keys.set(a.id, parsePublicKey(a.publicKey));
      } catch (error) {
        keyIssues.push({
          path: `agents[${i}].publicKey`,
          message: error instanceof Error ? error.message : String(error),
          fix: 'paste the public key printed by `warden keys generate <agent>` (base64 SPKI DER or PEM, Ed25519)',
        });
      }
    });
    if (keyIssues.length > 0) throw new ConfigError('warden.yaml does not validate', keyIssues);

    this.shadowAlert = inventoryCfg.shadowAlert;
    this.containmentOn = containmentCfg.enabled;
    this.taintWindowMs = containmentCfg.windowSeconds * 1000;
    this.shadowFlagged = new BoundedMap(inventoryCfg.maxAgents);
    this.tainted = new BoundedMap(inventoryCfg.maxAgents);

    this.holds = new Holds(runtime.store, now, onError('quarantine sync'));
    await this.holds.start();
    this.cleanups.push(() => this.holds.stop());

    if (alertCfg.webhook) {
      this.webhook = new WebhookNotifier({
        url: alertCfg.webhook.url,
        headers: alertCfg.webhook.headers,
        timeoutMs: alertCfg.webhook.timeoutMs,
        retries: alertCfg.webhook.retries,
        backoffMs: alertCfg.webhook.backoffMs,
        queueSize: alertCfg.webhook.queueSize,
        onError: onError('alert webhook'),
      });
    }
    const holdMs = alertCfg.holdSeconds * 1000;
    this.alerts = new AlertManager(runtime, {
      cooldownMs: alertCfg.cooldownSeconds * 1000,
      maxPerMinute: alertCfg.maxPerMinute,
      ...(this.webhook ? { webhook: this.webhook } : {}),
      notifyMin: alertCfg.webhook?.minSeverity ?? 'low',
      onError: (error, where) => {
        onError(where)(error);
      },
      effects: {
        hold: (agent, alert) =>
          this.holds.hold(agent, alert.ts + holdMs, {
            source: 'alert',
            reason: `${alert.rule}: ${alert.message}`,
            at: alert.ts,
            alertId: alert.id,
          }),
        quarantine: async (agent, alert) => {
          await this.quarantine(agent, {
            reason: `alert ${alert.rule}: ${alert.message}`,
            by: DETECTOR_ACTOR,
            mode: quarantineMode,
            alertId: alert.id,
          });
        },
        kill: async (agent, alert) => {
          const sw = await runtime.killSwitches.engage({
            scope: 'agent',
            target: agent,
            reason: `alert ${alert.rule} (${alert.id}): ${alert.message}`,
            by: DETECTOR_ACTOR,
          });
          await runtime.audit('kill.engaged', { agent, data: { ...sw, alertId: alert.id } });
        },
      },
    });

    this.inventory = new Inventory(runtime.store, runtime.policy, {
      flushMs: inventoryCfg.flushMs,
      maxAgents: inventoryCfg.maxAgents,
      maxToolsPerAgent: inventoryCfg.maxToolsPerAgent,
      maxPeersPerAgent: inventoryCfg.maxPeersPerAgent,
      phaseOf: (agent) => runtime.service<{ phaseOf(id: string): string }>('maturity')?.phaseOf(agent),
      onError: onError('inventory flush'),
    });
    this.alerts.onAlert((a) => {
      this.inventory.alertRaised(a);
    });

    this.engine = new DetectorEngine(
      effectiveRules(detectors),
      {
        maxKeys: detectors.maxKeysPerRule,
        maxEvents: detectors.maxEventsPerWindow,
        cooldownMs: alertCfg.cooldownSeconds * 1000,
        redactArg: (name, value) =>
          String((runtime.redactor.value({ [name]: value }) as Record<string, unknown>)[name]),
      },
      (input) => this.alerts.raise(input),
      (error, rule) => {
        onError(`detector ${rule}`)(error);
      },
    );
    const records = await this.inventory.start(now());
    for (const r of records) {
      if (r.shadow) this.shadowFlagged.set(r.id, true);
      const tools = Object.keys(r.tools);
      if (tools.length > 0)
        for (const rule of this.engine.novelToolRules())
          rule.seed(r.id, tools, r.events, r.firstSeen ?? now());
    }
    this.engine.start(detectors.sweepMs, now);

    this.containment = new Containment(runtime, this.holds, {
      windowMs: containmentCfg.windowSeconds * 1000,
      maxDepth: containmentCfg.maxDepth,
      holdMs: containmentCfg.holdSeconds * 1000,
      maxTrackedPerAgent: containmentCfg.maxTrackedPerAgent,
      maxAgents: inventoryCfg.maxAgents,
      onError: onError('containment'),
    });

    // Kill switches engaged anywhere (CLI, control plane, detectors, another replica) contain the agent's output.
    this.cleanups.push(
      runtime.killSwitches.onChange((sw, engaged) => {
        if (!engaged) return;
        if (sw.scope === 'agent' && this.containmentOn) {
          this.containment.contain(sw.target, 'kill', sw.reason).catch(onError('containment'));
        }
        for (const l of this.killListeners) {
          try {
            Promise.resolve(l(sw)).catch(onError('onKill listener'));
          } catch (error) {
            onError('onKill listener')(error);
          }
        }
      }),
    );
    this.cleanups.push(
      this.holds.onQuarantine((agent, record, engaged) => {
        if (engaged && this.containmentOn)
          this.containment.contain(agent, 'quarantine', record.reason).catch(onError('containment'));
      }),
    );

    const tracesUrl = telemetryCfg.enabled ? resolveTracesUrl(telemetryCfg.otlpEndpoint) : undefined;
    if (tracesUrl !== undefined) {
      // Loaded only when configured: without telemetry the SDK is never imported.
      const { DecisionTracer } = await import('./otel/index.js');
      this.tracer = new DecisionTracer({
        url: tracesUrl,
        headers: telemetryCfg.headers,
        serviceName: telemetryCfg.serviceName,
        timeoutMs: telemetryCfg.timeoutMs,
        maxQueueSize: telemetryCfg.maxQueueSize,
        scheduledDelayMs: telemetryCfg.scheduledDelayMs,
        redact: (t) => runtime.redactor.text(t),
      });
      const tracer = this.tracer;
      this.alerts.onAlert((a) => {
        tracer.recordAlert(a);
      });
    }

    const nonces = new NonceCache(runtime.store, {
      capacity: messagesCfg.nonceCacheSize,
      windowMs: (messagesCfg.maxAgeSeconds + messagesCfg.maxSkewSeconds) * 1000,
      persist: messagesCfg.persistNonces,
      onError: onError('nonce purge'),
    });

    runtime.provide(OBSERVE_SERVICE, this.service());

    return [
      messageStage({
        keys,
        edges: section.edges,
        requireSignature: messagesCfg.requireSignature,
        maxSkewMs: messagesCfg.maxSkewSeconds * 1000,
        maxAgeMs: messagesCfg.maxAgeSeconds * 1000,
        nonces,
        senderDistrust: (agent, at) => this.distrust(agent, at),
      }),
      sequenceStage(this.holds),
    ];
  }

  onDecision(ctx: StageContext, decision: Decision): void {
    if (this.tracer !== undefined) this.tracer.recordDecision(ctx, decision);
    const agent = ctx.event.actor.agent;
    this.inventory.observe(ctx, decision);
    if (ctx.agent === undefined && this.shadowAlert && !this.shadowFlagged.has(agent)) this.flagShadow(ctx);
    if (ctx.session.taint === 3) this.tainted.set(agent, ctx.now);
    const kind = ctx.event.kind;
    if (kind === 'message' || kind === 'memory.write' || kind === 'memory.read') {
      this.containment.observe(ctx, decision, (a) => this.distrust(a, ctx.now) !== undefined);
    }
    this.engine.observe(ctx, decision);
  }

  async close(): Promise<void> {
    this.engine.stop();
    const errors: unknown[] = [];
    const attempt = async (f: () => unknown) => {
      try {
        await f();
      } catch (error) {
        errors.push(error);
      }
    };
    await attempt(() => this.alerts.flush());
    await attempt(() => this.inventory.close());
    await attempt(() => this.webhook?.close());
    await attempt(() => this.tracer?.shutdown());
    for (const c of this.cleanups) await attempt(c);
    if (errors.length > 0) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  }

  /** Why an agent's output is untrusted right now, or undefined. */
  private distrust(agent: string, now: number): string | undefined {
    if (this.holds.quarantineOf(agent)) return 'quarantined';
    if (this.runtime.killSwitches.check(agent, '')) return 'killed';
    if (this.holds.holdOf(agent, now)?.reasons.some((r) => r.source === 'containment')) return 'contained';
    const t = this.tainted.peek(agent);
    if (t !== undefined && now - t <= this.taintWindowMs) return 'tainted';
    return undefined;
  }

  private flagShadow(ctx: StageContext): void {
    const agent = ctx.event.actor.agent;
    this.shadowFlagged.set(agent, true);
    this.alerts.raise({
      rule: 'shadow-agent',
      severity: 'high',
      agent,
      session: ctx.event.actor.session,
      key: agent,
      ts: ctx.now,
      message: `agent ${JSON.stringify(agent)} is not in warden.yaml but appeared in traffic; its events are denied until it is registered with an owner`,
      evidence: {
        events: [
          { eventId: ctx.eventId, ts: ctx.now, kind: ctx.event.kind, session: ctx.event.actor.session },
        ],
        ...(ctx.event.actor.user !== undefined ? { user: ctx.event.actor.user } : {}),
      },
      actions: ['record', 'notify'],
    });
  }

  private async quarantine(agent: string, who: Attribution & { mode: 'approve' | 'deny'; alertId?: string }) {
    const record = {
      agent,
      reason: who.reason,
      by: who.by,
      since: this.runtime.clock.now(),
      mode: who.mode,
      ...(who.alertId ? { alertId: who.alertId } : {}),
    };
    await this.holds.quarantine(record);
    await this.runtime.audit('quarantine.engaged', { agent, data: record });
    return record;
  }

  private service(): ObserveService {
    const mode = () =>
      observeSectionSchema.parse(this.runtime.policy.config.observe ?? {}).quarantine?.mode ?? 'approve';
    return {
      raiseAlert: (input) => this.alerts.raise(input),
      closeAlert: async (id, who) => {
        const closed = await this.alerts.close(id, who.by, who.reason, (agent, alertId) =>
          this.holds.releaseHold(agent, alertId),
        );
        if (closed) this.inventory.alertClosed(closed.agent, this.runtime.clock.now());
        return closed;
      },
      quarantine: (agent, who) => this.quarantine(agent, { ...who, mode: who.mode ?? mode() }),
      unquarantine: async (agent, who) => {
        const lifted = await this.holds.release(agent);
        await this.runtime.audit('quarantine.released', {
          agent,
          data: { agent, reason: who.reason, by: who.by, wasQuarantined: lifted !== undefined },
        });
        return lifted !== undefined;
      },
      isQuarantined: (agent) => this.holds.quarantineOf(agent) !== undefined,
      hold: async (agent, who) => {
        const at = this.runtime.clock.now();
        await this.holds.hold(agent, at + who.seconds * 1000, {
          source: 'manual',
          reason: `${who.reason} (by ${who.by})`,
          at,
        });
        await this.runtime.audit('hold.engaged', {
          agent,
          data: { agent, reason: who.reason, by: who.by, seconds: who.seconds },
        });
      },
      releaseHold: async (agent, who) => {
        const had = await this.holds.releaseHold(agent);
        await this.runtime.audit('hold.released', {
          agent,
          data: { agent, reason: who.reason, by: who.by, wasHeld: had },
        });
        return had;
      },
      quarantined: () => this.holds.listQuarantined(),
      holds: () => this.holds.listHolds(),
      contain: (agent, trigger, why) => this.containment.contain(agent, trigger, why),
      onKill: (listener) => {
        this.killListeners.add(listener);
        return () => this.killListeners.delete(listener);
      },
      onQuarantine: (listener) => this.holds.onQuarantine(listener),
      onAlert: (listener: (a: Alert) => void) => this.alerts.onAlert(listener),
      flush: async () => {
        this.engine.sweep(this.runtime.clock.now());
        await this.alerts.flush();
        await this.inventory.flush();
        await this.tracer?.forceFlush();
      },
      detectorStats: () => this.engine.stats(),
      telemetry: this.tracer !== undefined,
    };
  }
}

/** The module's entry for `pipeline/default-extensions.ts`. */
export function extension(): Extension {
  return new ObserveExtension();
}
