import type { Phase } from '../config/schema.js';

/**
 * The four maturity phases, least to most autonomous (seed: CSA Agentic Trust Framework).
 * - intern: read-only; nothing that changes anything runs.
 * - junior: supervised; every change needs a person's approval.
 * - senior: selective autonomy; pre-approved action classes run alone, every other change escalates.
 * - principal: bounded autonomy; changes run alone inside explicit caps, beyond a cap they escalate.
 */
export const PHASES: readonly Phase[] = ['intern', 'junior', 'senior', 'principal'];

/** Position of a phase (intern 0 .. principal 3). */
export function rankOf(phase: Phase): number {
  return PHASES.indexOf(phase);
}

/** Whether a value is a phase name. */
export function isPhase(value: unknown): value is Phase {
  return typeof value === 'string' && (PHASES as readonly string[]).includes(value);
}

/** The phase above, or undefined at principal. */
export function nextPhase(phase: Phase): Phase | undefined {
  return PHASES[rankOf(phase) + 1];
}

/** The phase below, or intern at intern. */
export function previousPhase(phase: Phase): Phase {
  return PHASES[Math.max(0, rankOf(phase) - 1)] as Phase;
}

/** The phase's name with a capital, for messages. */
export function title(phase: Phase): string {
  return phase.charAt(0).toUpperCase() + phase.slice(1);
}

/** One line on what a phase means at run time. */
export function summary(phase: Phase): string {
  switch (phase) {
    case 'intern':
      return 'read-only: write and irreversible tools and memory writes are denied';
    case 'junior':
      return "supervised: every write or irreversible tool call and every memory write needs a person's approval";
    case 'senior':
      return 'selective autonomy: pre-approved action classes run alone; every other change needs approval';
    case 'principal':
      return 'bounded autonomy: changes run alone inside the caps; beyond a cap they need approval';
  }
}
