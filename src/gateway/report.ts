/**
 * Reporting tool-definition findings: a durable ledger record (`runtime.audit`) always, and an alert in the
 * observability module's `alerts` collection. When the observability module provides an `alerts` service
 * with `raise`, it is used (dedupe, actions); otherwise the alert is written as the contract describes.
 */
import { randomUUID } from 'node:crypto';
import type { Runtime } from '../pipeline/runtime.js';
import type { Finding } from '../supply-chain/tool-definitions/index.js';

/** What one report says. */
export interface DefinitionReport {
  server: string;
  tool: string;
  digest: string;
  /** Digest that was approved, for a changed definition. */
  pinned?: string;
  what: 'changed' | 'flagged';
  findings: Finding[];
  who: { agent: string; session: string };
  /** Whether the gateway hides and denies the tool because of it. */
  blocked: boolean;
}

/** The part of the alerts service the gateway uses. */
interface AlertService {
  raise(input: {
    rule: string;
    severity: 'info' | 'low' | 'medium' | 'high' | 'critical';
    agent: string;
    session?: string;
    message: string;
    evidence: { events: unknown[] } & Record<string, unknown>;
    actions: readonly string[];
    key?: string;
    ts: number;
  }): unknown;
}

/** Reported keys per runtime, for when no pin document remembers them (pinning off). */
const reportedBy = new WeakMap<Runtime, Set<string>>();

/** Records a finding in the ledger and raises an alert. Never throws (errors are reported to the caller's log). */
export async function reportFinding(runtime: Runtime, r: DefinitionReport): Promise<void> {
  const key = `${r.server}/${r.tool}:${r.what}:${r.digest}`;
  let reportedHere = reportedBy.get(runtime);
  if (!reportedHere) reportedBy.set(runtime, (reportedHere = new Set()));
  if (reportedHere.has(key)) return;
  if (reportedHere.size >= 10_000) reportedHere.clear();
  reportedHere.add(key);
  const id = `${r.server}/${r.tool}`;
  const message =
    r.what === 'changed'
      ? `The definition of MCP tool ${id} changed after it was approved (possible rug pull)${r.blocked ? '; the gateway hides and denies it until it is re-approved' : ''}.`
      : `The definition of MCP tool ${id} looks poisoned or shadows another tool (${r.findings.length} finding${r.findings.length === 1 ? '' : 's'})${r.blocked ? '; the gateway hides and denies it until it is reviewed' : '; it stays visible (gateway.poisoned: warn)'}.`;
  const findings = r.findings.slice(0, 10).map((f) => ({
    kind: f.kind,
    severity: f.severity,
    rule: f.rule,
    location: f.location,
    message: f.message,
    excerpt: f.evidence,
  }));
  const data = {
    server: r.server,
    tool: r.tool,
    digest: r.digest,
    pinned: r.pinned,
    blocked: r.blocked,
    findings,
    message,
  };
  await runtime.audit(r.what === 'changed' ? 'gateway.tool.changed' : 'gateway.tool.flagged', {
    agent: r.who.agent,
    session: r.who.session,
    data,
  });

  const severity = r.blocked ? 'high' : 'medium';
  const now = runtime.clock.now();
  const evidence = {
    events: [],
    server: r.server,
    tool: r.tool,
    digest: r.digest,
    pinned: r.pinned,
    findings,
  };
  const service = runtime.service<Partial<AlertService>>('alerts');
  if (service && typeof service.raise === 'function') {
    await Promise.resolve(
      service.raise({
        rule: r.what === 'changed' ? 'tool-rug-pull' : 'tool-poisoning',
        severity,
        agent: r.who.agent,
        session: r.who.session,
        message,
        evidence,
        actions: ['record'],
        key: key,
        ts: now,
      }),
    );
    return;
  }
  const alert = {
    id: randomUUID(),
    rule: r.what === 'changed' ? 'tool-rug-pull' : 'tool-poisoning',
    severity,
    agent: r.who.agent,
    session: r.who.session,
    ts: now,
    message,
    evidence,
    actions: ['record'],
    status: 'open' as const,
  };
  await runtime.store.putDoc('alerts', alert.id, alert, 0);
  await runtime.store.publish('warden_alerts', {
    type: 'alert.raised',
    id: alert.id,
    rule: alert.rule,
    severity,
    agent: alert.agent,
    session: alert.session,
    ts: now,
  });
  await runtime.audit('alert', { agent: alert.agent, session: alert.session, data: alert });
}
