import { randomUUID } from 'node:crypto';
import type { Extension, Runtime } from '../pipeline/runtime.js';
import { Approvals } from './approvals/approvals.js';
import { ApprovalBrokerService } from './approvals/broker.js';
import { APPROVALS_CHANNEL, approvalKey } from './approvals/digest.js';
import { ApprovalRecords } from './approvals/records.js';
import { ApprovalRules, approvalRulesStage } from './approvals/rules.js';
import { CedarEngine } from './grants/cedar.js';
import { GrantMatcher } from './grants/matcher.js';
import {
  COUNTER_CHANNEL,
  parseCounterMessage,
  WindowCounters,
  type CounterMessage,
} from './grants/rate-limit.js';
import { leastPrivilegeStage } from './grants/stage.js';

/**
 * The actions module (Domain 3): the least-privilege gate (grants + Cedar + rates), approval rules, and
 * the approval services.
 *
 * Services it provides:
 * - `approvals`: ApprovalBroker (the pipeline turns `approve` into a durable request, or redeems a grant);
 * - `approvals.wait`: ApprovalWaiter (wait for a decision, with timeout and AbortSignal);
 * - `approvals.api`: the `Approvals` API (list, get, approve, deny, cancel);
 * - `actions`: the compiled grants, Cedar engine and approval rules, for explanations (`warden phase show`).
 */

/** The `actions` service. */
export interface ActionsService {
  readonly matcher: GrantMatcher;
  readonly cedar: CedarEngine | undefined;
  readonly rules: ApprovalRules;
  readonly counters: WindowCounters;
  /** How the approval sealing key was obtained. */
  readonly keySource: 'env' | 'store';
}

/** Creates the actions extension. */
export function extension(): Extension {
  const cleanups: (() => unknown)[] = [];
  return {
    name: 'actions',
    async setup(runtime: Runtime) {
      const policy = runtime.policy;
      const matcher = new GrantMatcher(policy);
      // Cedar text is parsed once, here; a policy that does not parse stops Warden with a ConfigError.
      const cedar = CedarEngine.fromPolicy(policy);
      const rules = new ApprovalRules(policy);
      const { key, source } = await approvalKey(runtime.store, rules.section.keyEnv);
      const records = new ApprovalRecords({
        store: runtime.store,
        policy,
        rules,
        key,
        clock: runtime.clock,
        redactor: runtime.redactor,
        audit: (type, fields) => runtime.audit(type, fields),
      });
      const broker = new ApprovalBrokerService(records);
      cleanups.push(() => {
        broker.close();
      });
      const api = new Approvals(records);
      // Open requests per agent: read once here, then kept current by every replica's announcements.
      const unsubscribeApprovals = await runtime.store.subscribe(APPROVALS_CHANNEL, (m) => {
        records.open.onMessage(m);
      });
      cleanups.push(() => unsubscribeApprovals());
      records.open.reset((await records.list()).filter((x) => x.verified).map((x) => x.doc.body));

      // Rate windows are shared with replicas: each committed unit is announced, and others' are counted here.
      const counters = new WindowCounters();
      const origin = randomUUID();
      const unsubscribe = await runtime.store.subscribe(COUNTER_CHANNEL, (m) => {
        const msg = parseCounterMessage(m);
        if (msg && msg.o !== origin && msg.k.startsWith('grant\u0000'))
          counters.add(msg.k, msg.p, msg.t, msg.w, msg.g);
      });
      cleanups.push(() => unsubscribe());
      const onCommit = (k: string, p: number, t: number) => {
        const msg: CounterMessage = { o: origin, k, p, t, w: 1 };
        runtime.store.publish(COUNTER_CHANNEL, msg).catch(() => undefined);
      };

      const service: ActionsService = { matcher, cedar, rules, counters, keySource: source };
      runtime.provide('approvals', broker);
      runtime.provide('approvals.wait', broker);
      runtime.provide('approvals.api', api);
      runtime.provide('actions', service);

      // A kill switch cancels the open requests it covers, here and (through the store) everywhere.
      const onKill = runtime.killSwitches.onChange((sw, engaged) => {
        if (engaged) broker.cancelCovered(sw).catch(() => undefined);
      });
      cleanups.push(onKill);
      for (const sw of runtime.killSwitches.list()) await broker.cancelCovered(sw).catch(() => undefined);

      const timer = setInterval(() => {
        broker.sweep().catch(() => undefined);
      }, rules.section.sweepMs);
      timer.unref();
      cleanups.push(() => {
        clearInterval(timer);
      });

      return [leastPrivilegeStage({ matcher, cedar, counters, onCommit }), approvalRulesStage(rules)];
    },
    async close() {
      for (const c of cleanups.splice(0).reverse()) await c();
    },
  };
}
