import type { Tier } from '../core/types.js';
import type { SessionState } from '../pipeline/session-state.js';
import { ProvenanceIndex, type SourceRef } from './provenance/index.js';
import type { TrustSettings } from './settings.js';

/** Key of the trust module's slot in `SessionState`. */
export const TRUST_SLOT = 'trust';

/** A flagged injection, kept for approvers and the next consequential call. */
export interface InjectionFlag {
  eventId: string;
  source: Omit<SourceRef, 'eventId'>;
  score: number;
  /** Rule ids that fired, best first (at most 8). */
  rules: string[];
  action: 'flag' | 'quote' | 'strip' | 'block';
  at: number;
}

const MAX_FLAGS = 16;

/**
 * The trust module's per-session state: the taint bookkeeping, the provenance index and recent injection flags.
 *
 * Taint is kept in two parts so that a tier-1 turn can clear what content did without clearing what other modules
 * decided: `content` is the lowest trust of content since the last tier-1 turn; `floor` is the highest taint another
 * module set on `SessionState.taint` (containment of a compromised peer), which only the end of the session clears.
 */
export class SessionTrust {
  readonly index: ProvenanceIndex;
  content: Tier = 1;
  floor: Tier = 1;
  /** The content that first brought the session to its current content taint. */
  taintedBy: Omit<SourceRef, 'eventId'> | undefined;
  /** A flagged injection in the context: consequential calls must get past a person (`injection.approveAfter`). */
  pending: InjectionFlag | undefined;
  readonly flags: InjectionFlag[] = [];
  /** Scan results between a stage's evaluate and its observe, by event id. */
  readonly scans = new Map<
    string,
    { flagged: boolean; score: number; rules: string[]; action: InjectionFlag['action'] }
  >();
  /** Events whose content was larger than the index budget. */
  truncatedEvents = 0;

  constructor(settings: TrustSettings) {
    const p = settings.section.provenance;
    this.index = new ProvenanceIndex({
      maxTrusted: p.maxTrustedEntries,
      maxUntrusted: p.maxUntrustedEntries,
      maxCharsPerEvent: p.maxCharsPerEvent,
    });
  }

  /** The session's taint as the trust module sees it, after noticing raises by other modules. */
  effective(session: SessionState): Tier {
    this.sync(session);
    return Math.max(this.content, this.floor) as Tier;
  }

  /** Content of `tier` entered the context. */
  raise(session: SessionState, tier: Tier, by: Omit<SourceRef, 'eventId'>): void {
    this.sync(session);
    if (tier > this.content) {
      this.content = tier;
      this.taintedBy = by;
    }
    session.taint = Math.max(this.content, this.floor) as Tier;
  }

  /** A tier-1 turn: content taint starts over (raises by other modules stay), and so does a pending injection. */
  resetTier1(session: SessionState): void {
    this.sync(session);
    this.content = 1;
    this.taintedBy = undefined;
    this.pending = undefined;
    session.taint = this.floor;
  }

  /** Records a flag; a flag on content that entered the context also arms the approval of what follows. */
  flag(flag: InjectionFlag, entered: boolean, arm: boolean): void {
    this.flags.push(flag);
    if (this.flags.length > MAX_FLAGS) this.flags.shift();
    if (entered && arm) this.pending = flag;
  }

  /** True when the event's content was flagged as an injection by the content stage. */
  flagged(eventId: string): boolean {
    return this.scans.get(eventId)?.flagged === true;
  }

  private sync(session: SessionState): void {
    const known = Math.max(this.content, this.floor);
    if (session.taint > known) this.floor = session.taint;
  }
}

/** The session's trust state, created on first use. */
export function sessionTrust(session: SessionState, settings: TrustSettings): SessionTrust {
  return session.slot(TRUST_SLOT, () => new SessionTrust(settings));
}
