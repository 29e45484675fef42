import { reason } from '../core/decision.js';
import type { Reason } from '../core/types.js';
import { STAGE_ORDER, type Stage } from '../pipeline/stage.js';
import { identifierArgs } from './identifiers.js';
import type { Match, Provenance, SourceRef } from './provenance/index.js';
import { sessionTrust } from './session-trust.js';
import type { TrustSettings } from './settings.js';
import { combine, describeSource } from './taint-stage.js';

/** One identifier argument's provenance, as evidence and for approvers. Never holds the value. */
export interface ArgumentProvenance {
  arg: string;
  provenance: Provenance;
  source?: SourceRef;
}

function evidenceOf(arg: string, m: Match): ArgumentProvenance {
  const a: ArgumentProvenance = { arg, provenance: m.provenance };
  if (m.source) a.source = { ...m.source };
  return a;
}

/**
 * The verification gate (Domain 3, ASI02): before a consequential call, each identifier argument is traced in the
 * session's provenance index. Found in a tier-1 message or an authoritative result: it passes. Found only in tier-2
 * content: `verification.tier2` (approve by default). Found only in tier-3 content: tainted, `verification.tainted`
 * (deny by default). Found nowhere: unverified, `verification.unverified` (deny by default, with an escalation
 * signal) — the hallucinated-repository-id case. Cost: a few map reads per identifier argument.
 */
export function verificationStage(settings: TrustSettings): Stage {
  const v = settings.section.verification;
  return {
    name: 'verification',
    order: STAGE_ORDER.verification,
    kinds: ['tool.call'],
    evaluate(ctx) {
      if (ctx.event.kind !== 'tool.call' || !ctx.tool) return undefined;
      const tool = settings.tool(ctx.tool);
      if (!tool.verify) return undefined;
      const ids = identifierArgs(ctx.event.call.args, tool.identifiers);
      if (ids.length === 0) return undefined;
      const index = sessionTrust(ctx.session, settings).index;
      const unverified: ArgumentProvenance[] = [];
      const tainted: ArgumentProvenance[] = [];
      const internal: ArgumentProvenance[] = [];
      for (const id of ids) {
        const m = index.lookup(id.value);
        switch (m.provenance) {
          case 'unverified':
            unverified.push(evidenceOf(id.path, m));
            break;
          case 'tier3':
            tainted.push(evidenceOf(id.path, m));
            break;
          case 'tier2':
            internal.push(evidenceOf(id.path, m));
            break;
          default:
            break;
        }
      }
      if (unverified.length + tainted.length + internal.length === 0) return undefined;
      const name = tool.config.name;
      const denials: Reason[] = [];
      const approvals: Reason[] = [];
      const list = (xs: ArgumentProvenance[]) => [...new Set(xs.map((x) => x.arg))].join(', ');
      if (unverified.length > 0) {
        (v.unverified === 'deny' ? denials : approvals).push(
          reason(
            'verification',
            3,
            'ASI02',
            `unverified parameter: ${list(unverified)} of ${name} was not found in a user message or an authoritative result in this task`,
            {
              tool: name,
              arguments: unverified.slice(0, 16),
            },
          ),
        );
      }
      if (tainted.length > 0) {
        (v.tainted === 'deny' ? denials : approvals).push(
          reason(
            'verification',
            3,
            'ASI01',
            `tainted parameter: ${list(tainted)} of ${name} comes only from untrusted content (${describeSource(tainted[0]?.source)})`,
            {
              tool: name,
              arguments: tainted.slice(0, 16),
            },
          ),
        );
      }
      if (internal.length > 0 && v.tier2 !== 'allow') {
        (v.tier2 === 'deny' ? denials : approvals).push(
          reason(
            'verification',
            2,
            'ASI01',
            `${list(internal)} of ${name} comes only from tier-2 content (${describeSource(internal[0]?.source)}), which may not trigger actions by itself`,
            {
              tool: name,
              arguments: internal.slice(0, 16),
            },
          ),
        );
      }
      const missing = [...unverified, ...tainted, ...internal].map((x) => x.arg);
      return combine(denials, approvals, {
        who: v.escalateTo.length > 0 ? v.escalateTo : ctx.agent ? [ctx.agent.owner] : [],
        missing: `confirm ${[...new Set(missing)].join(', ')} with the user, or look ${missing.length > 1 ? 'them' : 'it'} up with an authoritative tool in this task`,
      });
    },
  };
}
