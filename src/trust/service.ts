import type { Tier, ToolCall } from '../core/types.js';
import type { SessionState } from '../pipeline/session-state.js';
import type { Policy } from '../config/policy.js';
import { identifierArgs } from './identifiers.js';
import type { Provenance, SourceRef } from './provenance/index.js';
import { sessionTrust, type InjectionFlag } from './session-trust.js';
import type { TrustSettings } from './settings.js';

/** Where a value came from, for approvers (ASI09: facts, not the agent's story). */
export interface ValueProvenance {
  /** `tier1`: a user or system message; `authoritative`: an authoritative tool result; `tier2`/`tier3`: content of that tier; `unverified`: nowhere; `trivial`: empty or boolean. */
  provenance: Provenance;
  /** The event the value was (best) seen in. */
  source?: SourceRef;
  /** Seen in private content (tier 1 or 2, or a private tool or source). */
  private: boolean;
}

/** One argument of a call with its provenance. */
export interface ArgumentReport extends ValueProvenance {
  arg: string;
  /** The tool's identifier arguments are the ones the verification gate checks. */
  identifier: boolean;
}

/** The session's trust state in one object. */
export interface TaintReport {
  taint: Tier;
  taintedBy?: Omit<SourceRef, 'eventId'>;
  pendingInjection?: InjectionFlag;
  recentInjections: InjectionFlag[];
  indexedKeys: number;
}

/** The `trust` runtime service. */
export interface TrustService {
  /** Where a value was seen in this session. Objects and arrays report their least trusted leaf. */
  provenanceOf(session: SessionState, value: unknown): ValueProvenance;
  /** Each top-level argument of a call with its provenance, identifiers marked. */
  argumentsOf(session: SessionState, call: ToolCall): ArgumentReport[];
  /** The session's taint and what caused it. */
  taintOf(session: SessionState): TaintReport;
  /** Raises the session's taint (containment of a compromised peer). It never lowers it. */
  raiseTaint(session: SessionState, tier: Tier): void;
}

/** Builds the service over the compiled settings. */
export function createTrustService(settings: TrustSettings, policy: Policy): TrustService {
  const provenanceOf = (session: SessionState, value: unknown): ValueProvenance => {
    const m = sessionTrust(session, settings).index.lookup(value);
    const out: ValueProvenance = { provenance: m.provenance, private: m.private };
    if (m.source) out.source = m.source;
    return out;
  };
  return {
    provenanceOf,
    argumentsOf(session, call) {
      const tool = policy.tool(call.tool, call.server);
      const ids = new Set(
        tool
          ? identifierArgs(call.args, settings.tool(tool).identifiers).map(
              (a) => a.path.split('.')[0] ?? a.path,
            )
          : [],
      );
      return Object.entries(call.args).map(([arg, value]) => ({
        arg,
        identifier: ids.has(arg),
        ...provenanceOf(session, value),
      }));
    },
    taintOf(session) {
      const st = sessionTrust(session, settings);
      const r: TaintReport = {
        taint: st.effective(session),
        recentInjections: [...st.flags],
        indexedKeys: st.index.size,
      };
      if (st.taintedBy) r.taintedBy = st.taintedBy;
      if (st.pending) r.pendingInjection = st.pending;
      return r;
    },
    raiseTaint(session, tier) {
      if (tier > session.taint) session.taint = tier;
    },
  };
}
