import { z } from 'zod';

/*
 * Local copies of the tier and class enums: `schema.ts` imports this file, so importing them back would be a cycle
 * that leaves them undefined while the schema is built.
 */
const tier = z.union([z.literal(1), z.literal(2), z.literal(3)]);
const toolClass = z.enum(['read', 'write', 'irreversible']);

/** A domain pattern for the output allow-list: `example.com` (that host and its subdomains) or `*.example.com` (subdomains only). */
const domainPattern = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(\*\.)?[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*\.?$/i,
    'must be a host name such as example.com or *.example.com',
  );

/** Session taint: what tier 2 and tier 3 content in the context take away. */
export const taintSchema = z
  .strictObject({
    resetOnTier1: z
      .boolean()
      .default(true)
      .describe(
        'A tier-1 turn (user or system content) starts a clean slate: the taint goes back to 1. Raises by other modules stay.',
      ),
    sensitiveClasses: z
      .array(toolClass)
      .default(['write', 'irreversible'])
      .describe(
        "Tool classes that count as sensitive under taint. A tool's own `sensitive:` overrides this.",
      ),
    credentialTools: z
      .boolean()
      .default(true)
      .describe('Tools declared with `credentials: true` are sensitive.'),
    tier2: z
      .enum(['allow', 'approve', 'deny'])
      .default('approve')
      .describe(
        'A sensitive tool called while tier-2 content is in the context (no tier-1 turn since): tier 2 may inform reads but not trigger actions.',
      ),
    tier3: z
      .enum(['approve', 'deny'])
      .default('deny')
      .describe('A sensitive tool called while tier-3 content is in the context.'),
    credentialIssueAt: z
      .union([z.literal(2), z.literal(3)])
      .default(3)
      .describe('`credential.issue` is denied while the taint is at or above this tier.'),
    messageTier: tier
      .default(2)
      .describe("Tier of an agent-to-agent message payload (it enters the receiving agent's context)."),
  })
  .prefault({})
  .describe(
    'Session taint: the lowest-trust tier in the context since the last tier-1 turn, and what it restricts.',
  );

/** The verification gate (Domain 3): identifier arguments of consequential calls must trace to a trusted source. */
export const verificationSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Run the verification gate.'),
    classes: z
      .array(toolClass)
      .default(['write', 'irreversible'])
      .describe(
        'Tool classes whose calls are verified. Tools that declare `identifiers:` are verified whatever their class.',
      ),
    inferIdentifiers: z
      .boolean()
      .default(true)
      .describe(
        'When a tool declares no `identifiers:`, treat arguments that look like ids, accounts, IBANs, emails, URLs, paths or amounts as identifiers.',
      ),
    tier2: z
      .enum(['allow', 'approve', 'deny'])
      .default('approve')
      .describe(
        'An identifier found only in tier-2 content (not in a tier-1 message or an authoritative result).',
      ),
    tainted: z
      .enum(['approve', 'deny'])
      .default('deny')
      .describe('An identifier found only in tier-3 content.'),
    unverified: z
      .enum(['approve', 'deny'])
      .default('deny')
      .describe('An identifier found nowhere in this session (assumed or hallucinated).'),
    proseWords: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(24)
      .describe(
        'Authority covers records, not prose: in results of authoritative tools, a line of more than this many words counts as tier-2 content (it verifies nothing and taints the session 2). 0 turns this off.',
      ),
    escalateTo: z
      .array(z.string().min(1))
      .default([])
      .describe("Who is named in the escalation signal; empty means the agent's owner."),
  })
  .prefault({})
  .describe('Parameter verification before consequential calls.');

/** Limits of the per-session provenance index. */
export const provenanceSchema = z
  .strictObject({
    maxTrustedEntries: z
      .number()
      .int()
      .min(100)
      .max(1_000_000)
      .default(20_000)
      .describe(
        'Keys from tier-1 content and authoritative results kept per session; past it the oldest eighth is dropped.',
      ),
    maxUntrustedEntries: z
      .number()
      .int()
      .min(100)
      .max(1_000_000)
      .default(20_000)
      .describe(
        'Keys from tier-2 and tier-3 content kept per session, in their own map so a flood cannot evict trusted values.',
      ),
    maxCharsPerEvent: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(256 * 1024)
      .describe(
        'Characters of one ingest or result that are indexed; the rest is not (its values then do not verify).',
      ),
  })
  .prefault({})
  .describe('Provenance index: which values the session has seen and where from.');

/** Output inspection before delivery: exfiltration through links and images, secrets in clear. */
export const outputSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Inspect outbound tool arguments and shown tool results.'),
    allowDomains: z
      .array(domainPattern)
      .default([])
      .describe(
        'Hosts links and images may carry session data to. `example.com` covers its subdomains; `*.example.com` only the subdomains.',
      ),
    exfiltration: z
      .enum(['approve', 'deny'])
      .default('deny')
      .describe(
        'A link or image toward a host off the allow-list whose URL carries secrets or private session values.',
      ),
    secrets: z
      .enum(['approve', 'deny'])
      .default('deny')
      .describe(
        'Secrets (credential patterns, injected credentials) in clear in the arguments of an outbound tool.',
      ),
    resultImages: z
      .enum(['allow', 'strip', 'deny'])
      .default('strip')
      .describe(
        'Markdown or HTML images in a tool result that point off the allow-list with data in the URL: strip them from the content, withhold the result, or let them through.',
      ),
    privateTools: z
      .array(z.string().min(1))
      .default([])
      .describe('Tools whose results are private even when their tier is 3 (an inbox, a CRM).'),
    privateSources: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Content sources that are private even when their tier is 3. Tier 1 and 2 content is always private.',
      ),
    phraseWords: z
      .number()
      .int()
      .min(2)
      .max(64)
      .default(4)
      .describe('A run of this many words of private text in a URL counts as private data.'),
  })
  .prefault({})
  .describe('Inspection of what leaves through tools and what results show.');

/** Injection detection in untrusted content. */
export const injectionSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Scan untrusted content for prompt injection.'),
    action: z
      .enum(['flag', 'quote', 'strip', 'block'])
      .default('flag')
      .describe(
        'flag: allow, record the findings, taint the session 3 and require approval (`approveAfter`); quote/strip: the same, with neutralised content; block: deny.',
      ),
    tiers: z.array(tier).default([3]).describe('Tiers of content that are scanned.'),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('Score at or above which content is flagged (detector default when absent).'),
    maxChars: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(256 * 1024)
      .describe('Characters scanned per ingest or result.'),
    approveAfter: z
      .enum(['off', 'next', 'turn'])
      .default('turn')
      .describe(
        'After a flagged injection enters the context, consequential calls need approval even when the tool is not sensitive: `next` for the next one, `turn` for every one until the next tier-1 turn, `off` never.',
      ),
    scanTrusted: z
      .boolean()
      .default(true)
      .describe(
        'Also scan results of authoritative and echo tools: they do not taint the session, so a flag is what would. Flagged, they lose their authority.',
      ),
  })
  .prefault({})
  .describe('Prompt-injection detection in untrusted content (ASI01).');

/** Per-tool trust details that do not belong in `tools:` (field-level authority, privacy). */
export const trustToolSchema = z
  .strictObject({
    authoritativeFields: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Result fields (key names or dotted paths) whose values are authoritative even if the tool is not (ids, senders, timestamps set by the system).',
      ),
    untrustedFields: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Result fields that hold third-party free text even in an authoritative tool; their values count as tier 3 and label the result tier 3.',
      ),
    private: z
      .boolean()
      .optional()
      .describe('Results of this tool are private (same as listing it in `output.privateTools`).'),
    echo: z
      .boolean()
      .default(false)
      .describe(
        'Results only acknowledge the call (echo its arguments plus system fields such as a new id): they do not taint the session, and their values vouch for nothing except `authoritativeFields`.',
      ),
  })
  .describe('Trust details of one tool, keyed by tool name (or server/name).');

/**
 * `trust:` section: how content tiers and session taint turn into decisions (Domain 2), and the verification
 * gate of Domain 3. Every field has a default; an absent section means the defaults.
 */
export const trustSectionSchema = z
  .strictObject({
    taint: taintSchema,
    verification: verificationSchema,
    provenance: provenanceSchema,
    output: outputSchema,
    injection: injectionSchema,
    tools: z
      .record(z.string().min(1), trustToolSchema)
      .default({})
      .describe('Per-tool trust details, keyed by tool name (or server/name).'),
  })
  .describe('Input trust boundaries: taint policy, verification, output inspection, injection detection.');

/** Parsed `trust:` section. */
export type TrustSection = z.infer<typeof trustSectionSchema>;
/** One tool's entry under `trust.tools`. */
export type TrustToolSection = z.infer<typeof trustToolSchema>;
