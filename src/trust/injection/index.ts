/**
 * Prompt-injection detection for Tier 3 content (Domain 2, ASI01): a rule and feature scanner that runs on the
 * CPU in bounded time, and neutralisation of what it finds.
 */
export {
  scanForInjection,
  combineScores,
  excerptOf,
  DEFAULT_INJECTION_THRESHOLD,
  DEFAULT_MAX_CHARS,
  INJECTION_RULES_VERSION,
  MAX_FINDINGS,
} from './scan.js';
export { neutraliseContent, REMOVED_MARKER_PREFIX } from './neutralise.js';
export type { NeutraliseMode, NeutraliseOptions } from './neutralise.js';
export { normalise, toOriginal } from './normalise.js';
export type { Normalised, Invisible, InvisibleKind } from './normalise.js';
export { INJECTION_FAMILIES } from './types.js';
export type { InjectionFamily, InjectionFinding, InjectionScan, InjectionScanOptions } from './types.js';
