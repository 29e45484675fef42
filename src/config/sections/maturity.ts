import { z } from 'zod';
import { durationSchema, whereSchema } from './actions.js';

/**
 * `maturity:` section: what each phase lets an agent do alone, and what promotion needs. Owned by the
 * maturity module. Phases: intern (read-only), junior (every change approved), senior (pre-approved
 * classes alone), principal (alone inside explicit caps).
 */

/** An action class a Senior may run without a person: tool calls (optionally narrowed) or memory writes. */
export const preApprovedSchema = z
  .strictObject({
    tool: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe('Tool name, glob or list.'),
    server: z.string().min(1).optional().describe('Only calls to this MCP server.'),
    where: whereSchema.optional(),
    memory: z
      .string()
      .min(1)
      .optional()
      .describe('Memory namespace (or glob) whose writes are pre-approved.'),
  })
  .refine(
    (p) => (p.tool === undefined) !== (p.memory === undefined),
    'give exactly one of `tool` or `memory`',
  )
  .refine(
    (p) => p.memory === undefined || (p.where === undefined && p.server === undefined),
    '`where` and `server` apply to tools only',
  )
  .describe('A pre-approved action class (Senior): runs without a person.');

/** A cap on what a Principal does alone in a sliding window; beyond it the action needs approval. */
export const capSchema = z
  .strictObject({
    name: z.string().min(1).max(128).describe('Name shown when the cap is reached.'),
    tools: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Tool names or globs counted (default: all).'),
    classes: z
      .array(z.enum(['write', 'irreversible']))
      .min(1)
      .optional()
      .describe('Tool classes counted (default: write and irreversible).'),
    where: whereSchema.optional(),
    count: z.number().int().min(0).optional().describe('At most this many matching actions per window.'),
    sum: z.string().min(1).optional().describe('Argument (dotted path) whose values are summed; with `max`.'),
    distinct: z
      .string()
      .min(1)
      .optional()
      .describe('Argument (dotted path) whose distinct values are counted (blast radius); with `max`.'),
    max: z.number().min(0).optional().describe('Largest sum, or most distinct values, per window.'),
    per: durationSchema.describe('Window length (sliding).'),
  })
  .superRefine((c, ctx) => {
    const measures = [c.count !== undefined, c.sum !== undefined, c.distinct !== undefined].filter(
      Boolean,
    ).length;
    if (measures !== 1)
      ctx.addIssue({ code: 'custom', message: 'give exactly one of `count`, `sum` or `distinct`' });
    if ((c.sum !== undefined || c.distinct !== undefined) && c.max === undefined) {
      ctx.addIssue({ code: 'custom', message: '`sum` and `distinct` need `max`' });
    }
    if (c.count !== undefined && c.max !== undefined)
      ctx.addIssue({ code: 'custom', message: '`count` takes no `max`' });
  })
  .describe(
    "A Principal's cap: count, sum of an argument or distinct values of an argument per sliding window.",
  );

const perAgentSchema = z.strictObject({
  preApproved: z
    .array(preApprovedSchema)
    .default([])
    .describe('Added to `senior.preApproved` for this agent.'),
  caps: z.array(capSchema).default([]).describe('Added to `principal.caps` for this agent.'),
});

/** `maturity:` section. */
export const maturitySectionSchema = z
  .strictObject({
    promotion: z
      .strictObject({
        minDays: z
          .strictObject({
            intern: z.number().min(14).default(14).describe('Days at Intern before promotion (at least 14).'),
            junior: z.number().min(0).default(14).describe('Days at Junior before promotion to Senior.'),
            senior: z.number().min(0).default(30).describe('Days at Senior before promotion to Principal.'),
          })
          .default({ intern: 14, junior: 14, senior: 30 })
          .describe('Minimum time at each phase before promotion.'),
        signoffRoles: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'When set, the sign-off must come from an approver (approvals.approvers) holding one of these roles. Empty: any listed approver (any name when approvals.approvers is empty).',
          ),
        requireSignedSignoff: z
          .boolean()
          .default(false)
          .describe(
            "true: every promotion sign-off must be signed with the signer's key (their publicKey in approvals.approvers). false: only signers with a publicKey must sign (and everyone when approvals.requireSignedVotes is true).",
          ),
        evidence: z
          .array(z.string().min(1))
          .optional()
          .describe(
            'Evidence checks to run (default: every registered check: time-at-phase, no-critical-alerts, ...).',
          ),
      })
      .default({
        minDays: { intern: 14, junior: 14, senior: 30 },
        signoffRoles: [],
        requireSignedSignoff: false,
      })
      .describe('What promotion needs.'),
    senior: z
      .strictObject({ preApproved: z.array(preApprovedSchema).default([]) })
      .default({ preApproved: [] })
      .describe('Senior agents: pre-approved action classes run alone; every other change escalates.'),
    principal: z
      .strictObject({ caps: z.array(capSchema).default([]) })
      .default({ caps: [] })
      .describe(
        'Principal agents: changes run alone inside these caps; beyond a cap they need approval. No caps: like Senior.',
      ),
    agents: z
      .record(z.string().min(1), perAgentSchema)
      .default({})
      .describe('Per-agent additions to the pre-approved classes and caps, by agent id.'),
    demotion: z
      .strictObject({
        onCritical: z
          .enum(['previous', 'intern'])
          .default('previous')
          .describe('A critical alert demotes the agent one phase (previous) or straight to intern.'),
      })
      .default({ onCritical: 'previous' }),
    refreshMs: z
      .number()
      .int()
      .min(1_000)
      .max(3_600_000)
      .default(30_000)
      .describe('Full refresh of the phase cache, in case a pub/sub message was lost.'),
  })
  .describe('Maturity phases and promotion rules.');

/** Parsed `maturity:` section. */
export type MaturitySection = z.infer<typeof maturitySectionSchema>;
/** Parsed pre-approved class. */
export type PreApproved = z.infer<typeof preApprovedSchema>;
/** Parsed cap. */
export type Cap = z.infer<typeof capSchema>;
