import { z } from 'zod';

/**
 * `observe:` section (Domain 6): OpenTelemetry export, sequence detectors, alerts and their actions,
 * quarantine, agent inventory, signed agent-to-agent messages with an allowed-edges graph, and cascade
 * containment. Every window and every cache here is bounded: a policy cannot ask Warden to remember forever.
 */

/** Longest window any detector, cache or containment may use: one day. */
export const MAX_WINDOW_SECONDS = 86_400;

const agentRef = z.string().regex(/^(\*|[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127})$/, 'must be an agent id or `*`');

/**
 * A window length. The error says why a missing, infinite or huge window is refused, because an unbounded
 * window is how a detector turns into a memory leak.
 */
function windowSeconds(what: string) {
  const bounded = `${what} must be a finite number of seconds between 1 and ${MAX_WINDOW_SECONDS} (windows are bounded: state older than the window is forgotten)`;
  return z
    .number({ error: bounded })
    .positive({ error: bounded })
    .max(MAX_WINDOW_SECONDS, { error: bounded })
    .describe(`${what}, in seconds (1 to ${MAX_WINDOW_SECONDS}).`);
}

/** Alert severity, lowest to highest. */
export const severitySchema = z.enum(['info', 'low', 'medium', 'high', 'critical']);

/** What an alert does beyond being recorded. */
export const alertActionSchema = z
  .enum(['record', 'notify', 'require-approval', 'quarantine', 'kill'])
  .describe(
    "record: ledger and alerts collection (always); notify: webhook; require-approval: the agent's next consequential actions need approval; quarantine: the agent is quarantined and its recent output contained; kill: the agent kill switch is engaged.",
  );

const eventKindSchema = z.enum([
  'ingest',
  'tool.call',
  'tool.result',
  'message',
  'memory.write',
  'memory.read',
  'credential.issue',
  'credential.revoke',
]);

/** Which events a rule looks at. Every field narrows; an empty matcher matches every tool call. */
export const matcherSchema = z
  .strictObject({
    kinds: z.array(eventKindSchema).min(1).optional().describe('Event kinds (default: tool.call).'),
    tools: z.array(z.string().min(1)).min(1).optional().describe('Tool names.'),
    classes: z
      .array(z.enum(['read', 'write', 'irreversible']))
      .min(1)
      .optional()
      .describe('Tool classes.'),
    outbound: z.boolean().optional().describe('Only tools whose `outbound` flag has this value.'),
    sensitive: z.boolean().optional().describe('Only tools whose `sensitive` flag has this value.'),
    sources: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('For ingest events: content source names.'),
  })
  .describe('Selects events by kind, tool, class, outbound/sensitive flags or source.');

const verdictSchema = z.enum(['allow', 'deny', 'approve', 'halt']);

const ruleCommon = {
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'letters, digits and . _ : - (at most 64)')
    .describe("Unique rule id; a rule with a built-in rule's id replaces it."),
  description: z.string().optional().describe('What the rule is for, shown in alerts.'),
  enabled: z.boolean().default(true).describe('Turn the rule off without deleting it.'),
  severity: severitySchema.optional().describe('Severity of its alerts (each type has a default).'),
  actions: z
    .array(alertActionSchema)
    .min(1)
    .optional()
    .describe('What its alerts do (each type has a default).'),
  agents: z.array(agentRef).min(1).optional().describe('Only these agents (default: every agent).'),
  verdicts: z
    .array(verdictSchema)
    .min(1)
    .optional()
    .describe('Only events decided with these verdicts (each type has a default).'),
};

/** More than `max` matching events per key inside the window (88 comments in 102 seconds). */
export const burstRuleSchema = z.strictObject({
  ...ruleCommon,
  type: z.literal('burst'),
  match: matcherSchema.optional(),
  per: z.enum(['agent', 'session', 'user']).default('agent').describe('Whose events are counted together.'),
  groupBy: z
    .enum(['tool', 'class', 'none'])
    .default('tool')
    .describe('Count each tool, each class, or all matching calls together.'),
  max: z
    .number()
    .int()
    .min(1)
    .describe('Most matching events allowed in the window; one more raises an alert.'),
  windowSeconds: windowSeconds('burst windowSeconds'),
});

/** A consequential call whose identifier values were never returned by a lookup in the session. */
export const unverifiedTargetRuleSchema = z.strictObject({
  ...ruleCommon,
  type: z.literal('unverified-target'),
  match: matcherSchema
    .optional()
    .describe('Consequential calls to check (default: write and irreversible tools).'),
  identifiers: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe(
      "Argument names to check (default: the tool's `identifiers`, else every identifier-like string argument).",
    ),
  trustUserInput: z
    .boolean()
    .default(true)
    .describe('Values the user (tier 1 content) wrote count as looked up.'),
  maxValuesPerSession: z
    .number()
    .int()
    .min(16)
    .max(100_000)
    .default(2_000)
    .describe('Looked-up values remembered per session.'),
});

/** Many identities with near-identical tool-sequence fingerprints (many-account extraction, ASI03/ASI10). */
export const fingerprintRuleSchema = z.strictObject({
  ...ruleCommon,
  type: z.literal('fingerprint'),
  match: matcherSchema.optional(),
  by: z
    .enum(['user', 'agent'])
    .default('user')
    .describe('What an identity is: the acting user (falling back to the agent) or the agent.'),
  n: z.number().int().min(1).max(5).default(3).describe('Length of the tool-sequence n-grams.'),
  minEvents: z
    .number()
    .int()
    .min(2)
    .max(100_000)
    .default(20)
    .describe('Events an identity needs in the window before it is compared.'),
  similarity: z
    .number()
    .min(0.5)
    .max(1)
    .default(0.9)
    .describe('Estimated Jaccard similarity of n-gram sets that counts as the same behaviour.'),
  minIdentities: z
    .number()
    .int()
    .min(2)
    .max(10_000)
    .default(5)
    .describe('Distinct identities sharing a fingerprint that raise an alert.'),
  windowSeconds: windowSeconds('fingerprint windowSeconds'),
});

/** Data read from a sensitive source, then an outbound call in the same session. */
export const sensitiveOutboundRuleSchema = z.strictObject({
  ...ruleCommon,
  type: z.literal('sensitive-outbound'),
  sensitiveTools: z
    .array(z.string().min(1))
    .optional()
    .describe('Extra tools whose results are sensitive (besides `sensitive: true` tools).'),
  sensitiveSources: z
    .array(z.string().min(1))
    .optional()
    .describe('Content sources whose content is sensitive.'),
  tiers: z
    .array(z.union([z.literal(1), z.literal(2), z.literal(3)]))
    .default([2])
    .describe('Result or content tiers that count as private (default: tier 2, internal).'),
  outboundTools: z
    .array(z.string().min(1))
    .optional()
    .describe('Extra outbound tools (besides `outbound: true` tools).'),
  windowSeconds: windowSeconds('sensitive-outbound windowSeconds'),
});

/** An agent calling a tool it has never used, after a learning period. */
export const novelToolRuleSchema = z.strictObject({
  ...ruleCommon,
  type: z.literal('novel-tool'),
  learnEvents: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(100)
    .describe('Tool calls seen per agent before novel tools alert.'),
  learnSeconds: z
    .number()
    .min(0)
    .max(30 * MAX_WINDOW_SECONDS)
    .default(0)
    .describe('Time since the agent was first seen before novel tools alert.'),
  maxToolsPerAgent: z
    .number()
    .int()
    .min(8)
    .max(100_000)
    .default(1_024)
    .describe('Known tools remembered per agent.'),
});

/** `first` then `then` inside the window, in one session or one agent. */
export const sequenceRuleSchema = z.strictObject({
  ...ruleCommon,
  type: z.literal('sequence'),
  first: matcherSchema.describe('The earlier event.'),
  then: matcherSchema.describe('The later event that raises the alert.'),
  per: z.enum(['session', 'agent']).default('session'),
  windowSeconds: windowSeconds('sequence windowSeconds'),
});

/** One detector rule in `observe.detectors.rules`. */
export const detectorRuleSchema = z.discriminatedUnion('type', [
  burstRuleSchema,
  unverifiedTargetRuleSchema,
  fingerprintRuleSchema,
  sensitiveOutboundRuleSchema,
  novelToolRuleSchema,
  sequenceRuleSchema,
]);

/** `observe.detectors`. */
export const detectorsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Run the sequence detectors.'),
    builtins: z
      .boolean()
      .default(true)
      .describe(
        'Include the built-in rules (unverified-target, burst, fingerprint, sensitive-outbound, novel-tool).',
      ),
    disable: z.array(z.string().min(1)).default([]).describe('Ids of built-in rules to turn off.'),
    maxKeysPerRule: z
      .number()
      .int()
      .min(16)
      .max(1_000_000)
      .default(10_000)
      .describe(
        'Keys (sessions, agents, identities) each rule remembers; the least recently used are evicted.',
      ),
    maxEventsPerWindow: z
      .number()
      .int()
      .min(8)
      .max(100_000)
      .default(1_000)
      .describe('Events each key keeps per window; a burst `max` may not exceed it.'),
    sweepMs: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(1_000)
      .describe('How often deferred work (fingerprint clustering) runs.'),
    rules: z.array(detectorRuleSchema).default([]).describe('Your rules; same id as a built-in replaces it.'),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.rules.forEach((r, i) => {
      if (seen.has(r.id))
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id \`${r.id}\`` });
      seen.add(r.id);
      if (r.type === 'burst' && r.max >= d.maxEventsPerWindow) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'max'],
          message: `burst max ${r.max} needs a window of ${r.max + 1} events but maxEventsPerWindow is ${d.maxEventsPerWindow}; lower max or raise maxEventsPerWindow`,
        });
      }
    });
  });

/** `observe.telemetry`: OpenTelemetry export. */
export const telemetrySchema = z.strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('Set false to turn export off even when OTEL_EXPORTER_OTLP_ENDPOINT is set.'),
  otlpEndpoint: z
    .url()
    .optional()
    .describe(
      'OTLP/HTTP base URL (traces go to /v1/traces under it) or a URL ending in /v1/traces. Default: OTEL_EXPORTER_OTLP_ENDPOINT.',
    ),
  headers: z
    .record(z.string(), z.string())
    .default({})
    .describe('Extra HTTP headers for the collector (an API key, for instance).'),
  serviceName: z.string().min(1).default('warden').describe('The `service.name` resource attribute.'),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(5_000)
    .describe('Longest one export request may take.'),
  maxQueueSize: z
    .number()
    .int()
    .min(16)
    .max(1_000_000)
    .default(4_096)
    .describe('Spans buffered before new ones are dropped.'),
  scheduledDelayMs: z
    .number()
    .int()
    .min(10)
    .max(60_000)
    .default(1_000)
    .describe('How often buffered spans are exported.'),
});

/** `observe.alerts`. */
export const alertsSchema = z.strictObject({
  webhook: z
    .strictObject({
      url: z.url().describe('Receives a POST with the alert as JSON.'),
      headers: z.record(z.string(), z.string()).default({}).describe('Extra HTTP headers (authorisation).'),
      timeoutMs: z
        .number()
        .int()
        .min(50)
        .max(60_000)
        .default(2_000)
        .describe('Longest one delivery attempt may take.'),
      retries: z.number().int().min(0).max(10).default(3).describe('Retries after a failed attempt.'),
      backoffMs: z
        .number()
        .int()
        .min(1)
        .max(60_000)
        .default(500)
        .describe('First retry delay; doubles each retry.'),
      queueSize: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(1_000)
        .describe('Alerts waiting for delivery; beyond it the oldest are dropped and counted.'),
      minSeverity: severitySchema.default('low').describe('Least severe alert sent.'),
    })
    .optional(),
  cooldownSeconds: z
    .number()
    .min(0)
    .max(MAX_WINDOW_SECONDS)
    .default(300)
    .describe('The same rule does not alert twice for the same key within this time.'),
  maxPerMinute: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(600)
    .describe('Alerts raised per minute; beyond it they are counted, not raised.'),
  holdSeconds: z
    .number()
    .positive()
    .max(30 * MAX_WINDOW_SECONDS)
    .default(3_600)
    .describe('How long a `require-approval` action holds the agent (or until the alert is closed).'),
});

/** `observe.messages`: signed agent-to-agent envelopes. */
export const messagesSchema = z.strictObject({
  requireSignature: z.boolean().default(true).describe('Deny messages without a valid signed envelope.'),
  maxSkewSeconds: z
    .number()
    .min(0)
    .max(3_600)
    .default(30)
    .describe('How far in the future an envelope time may be.'),
  maxAgeSeconds: z
    .number()
    .positive()
    .max(MAX_WINDOW_SECONDS)
    .default(300)
    .describe('How old an envelope may be.'),
  nonceCacheSize: z
    .number()
    .int()
    .min(1_000)
    .max(10_000_000)
    .default(100_000)
    .describe('Nonces remembered in memory (the store keeps the window too).'),
  persistNonces: z
    .boolean()
    .default(true)
    .describe('Record nonces in the store so a replay is caught across restarts and replicas.'),
});

/** `observe.inventory`. */
export const inventorySchema = z.strictObject({
  flushMs: z
    .number()
    .int()
    .min(50)
    .max(60_000)
    .default(1_000)
    .describe('How often inventory changes are written (batched, never per event).'),
  maxAgents: z
    .number()
    .int()
    .min(16)
    .max(1_000_000)
    .default(10_000)
    .describe('Agents tracked in memory, configured and seen.'),
  maxToolsPerAgent: z.number().int().min(8).max(10_000).default(256),
  maxPeersPerAgent: z.number().int().min(8).max(10_000).default(256),
  shadowAlert: z
    .boolean()
    .default(true)
    .describe('Alert when an agent that is not configured shows up in traffic.'),
});

/** `observe.containment`: cascade containment when an agent is quarantined or killed. */
export const containmentSchema = z.strictObject({
  enabled: z.boolean().default(true),
  windowSeconds: windowSeconds('containment windowSeconds').default(3_600),
  maxDepth: z
    .number()
    .int()
    .min(1)
    .max(5)
    .default(2)
    .describe('Hops through consumers that are contained in turn.'),
  holdSeconds: z
    .number()
    .positive()
    .max(30 * MAX_WINDOW_SECONDS)
    .default(3_600)
    .describe("How long consumers' consequential actions need approval."),
  maxTrackedPerAgent: z
    .number()
    .int()
    .min(16)
    .max(100_000)
    .default(1_000)
    .describe('Consumptions remembered per producing agent.'),
});

/** `observe:` section: telemetry, sequence detectors, inter-agent edges, containment (Domain 6). */
export const observeSectionSchema = z
  .strictObject({
    telemetry: telemetrySchema.optional().describe('OpenTelemetry export over OTLP/HTTP.'),
    detectors: detectorsSchema
      .optional()
      .describe("Sequence detectors over each session's and agent's events."),
    alerts: alertsSchema.optional().describe('Alert delivery, deduplication and holds.'),
    quarantine: z
      .strictObject({
        mode: z
          .enum(['approve', 'deny'])
          .default('approve')
          .describe("A quarantined agent's consequential calls need approval, or are denied."),
      })
      .optional(),
    inventory: inventorySchema.optional().describe('Agent inventory and shadow-agent discovery.'),
    messages: messagesSchema.optional().describe('Verification of signed agent-to-agent messages.'),
    edges: z
      .array(
        z.strictObject({
          from: agentRef.describe('Sending agent id, or `*`.'),
          to: agentRef.describe('Receiving agent id, or `*`.'),
        }),
      )
      .default([])
      .describe('Who may message whom; a message along an edge not listed is denied.'),
    containment: containmentSchema.optional(),
  })
  .describe('Observability and incident response.');

/** Parsed `observe:` section. */
export type ObserveSection = z.infer<typeof observeSectionSchema>;
/** One parsed detector rule. */
export type DetectorRuleConfig = z.infer<typeof detectorRuleSchema>;
/** A parsed matcher. */
export type MatcherConfig = z.infer<typeof matcherSchema>;
/** Alert severity. */
export type Severity = z.infer<typeof severitySchema>;
/** Alert action. */
export type AlertAction = z.infer<typeof alertActionSchema>;
