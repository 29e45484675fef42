import { detectorsSchema, type DetectorRuleConfig } from '../../config/sections/observe.js';

/**
 * The built-in rules, one per pattern the seed names. They are ordinary rule configs: a rule in
 * `observe.detectors.rules` with the same id replaces one, `observe.detectors.disable` drops one.
 */
export const BUILTIN_RULES: readonly DetectorRuleConfig[] = [
  {
    id: 'unverified-target',
    type: 'unverified-target',
    enabled: true,
    description:
      'A write or irreversible call whose identifiers no lookup in the session returned (the deployment with zero lookups).',
    trustUserInput: true,
    maxValuesPerSession: 2_000,
  },
  {
    id: 'burst',
    type: 'burst',
    enabled: true,
    description:
      'More than 30 calls of one write or irreversible tool by one agent in 60 s (88 comments in 102 seconds).',
    match: { classes: ['write', 'irreversible'] },
    per: 'agent',
    groupBy: 'tool',
    max: 30,
    windowSeconds: 60,
  },
  {
    id: 'fingerprint',
    type: 'fingerprint',
    enabled: true,
    description:
      'Many users with near-identical tool-sequence fingerprints within an hour (many-account extraction).',
    by: 'user',
    n: 3,
    minEvents: 20,
    similarity: 0.9,
    minIdentities: 5,
    windowSeconds: 3_600,
  },
  {
    id: 'sensitive-outbound',
    type: 'sensitive-outbound',
    enabled: true,
    description:
      'Sensitive or private (tier 2) data read, then an outbound call in the same session within an hour.',
    tiers: [2],
    windowSeconds: 3_600,
  },
  {
    id: 'novel-tool',
    type: 'novel-tool',
    enabled: true,
    description: 'An agent calls a tool it has never used after 100 calls.',
    learnEvents: 100,
    learnSeconds: 0,
    maxToolsPerAgent: 1_024,
  },
];

/** The parsed `observe.detectors` section with defaults. */
export type DetectorsConfig = ReturnType<typeof detectorsSchema.parse>;

/** The rules that run: built-ins (unless turned off or replaced) followed by the policy's own rules. */
export function effectiveRules(d: DetectorsConfig): DetectorRuleConfig[] {
  if (!d.enabled) return [];
  const own = new Set(d.rules.map((r) => r.id));
  const disabled = new Set(d.disable);
  const builtins = d.builtins ? BUILTIN_RULES.filter((r) => !own.has(r.id) && !disabled.has(r.id)) : [];
  return [...builtins, ...d.rules];
}
