import { z } from 'zod';
import { parsePublicKey, publicKeyFingerprint } from '../../observe/messages/keys.js';

/**
 * Configuration of Domain 3 (tool use and action controls): per-agent grants (least privilege), the
 * `actions:` section (Cedar policies, who can extend grants) and the `approvals:` section (who approves
 * what, quorum, expiry). Owned by the actions module.
 */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses `500ms`, `30s`, `10m`, `1h`, `1d`, `2w` (or a number of milliseconds) into milliseconds. */
export function durationToMs(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (!m) throw new TypeError(`not a duration: ${value}`);
  return Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
}

/** A duration: milliseconds, or text such as `30s`, `10m`, `1h`, `1d`, `2w`. Parsed to milliseconds. */
export const durationSchema = z
  .union([
    z.number().int().min(1).describe('Milliseconds.'),
    z
      .string()
      .regex(
        /^\s*\d+(ms|s|m|h|d|w)\s*$/,
        'must be a number followed by ms, s, m, h, d or w (for example `1h`)',
      )
      .describe('A number and a unit: ms, s, m, h, d, w.'),
  ])
  .transform((v) => durationToMs(v))
  .refine((ms) => ms >= 1 && ms <= 366 * 86_400_000, 'must be between 1 ms and 366 days');

const scalarSchema = z.union([z.string(), z.number(), z.boolean()]);

/** An operator form of an argument constraint. Every operator given must hold. */
export const whereOperatorSchema = z
  .strictObject({
    equals: scalarSchema.optional().describe('The value, compared as text (so 500 and "500" are equal).'),
    oneOf: z.array(scalarSchema).min(1).optional().describe('One of these values, compared as text.'),
    glob: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Glob: `*` any run of characters except `/`, `**` any run, `?` one character except `/`, `\\` escapes.',
      ),
    prefix: z.string().min(1).optional().describe('The value starts with this text.'),
    regex: z
      .string()
      .min(1)
      .optional()
      .describe('A JavaScript regular expression the whole value must match (anchored).'),
    ignoreCase: z
      .boolean()
      .optional()
      .describe('Compare equals/oneOf/glob/prefix/regex case-insensitively (hosts, e-mail).'),
    min: z.number().optional().describe('A number (or numeric text) at least this.'),
    max: z.number().optional().describe('A number (or numeric text) at most this.'),
    present: z.boolean().optional().describe('true: the argument must be given; false: it must be absent.'),
  })
  .superRefine((o, ctx) => {
    const ops = ['equals', 'oneOf', 'glob', 'prefix', 'regex', 'min', 'max', 'present'] as const;
    if (!ops.some((k) => o[k] !== undefined)) {
      ctx.addIssue({ code: 'custom', message: `give at least one of ${ops.join(', ')}` });
    }
    if (o.min !== undefined && o.max !== undefined && o.min > o.max) {
      ctx.addIssue({
        code: 'custom',
        message: `min ${o.min} is greater than max ${o.max}: nothing can match`,
      });
    }
    if (o.regex !== undefined) {
      try {
        new RegExp(o.regex, 'u');
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          path: ['regex'],
          message: `not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    if (o.present === false && ops.some((k) => k !== 'present' && o[k] !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: '`present: false` cannot be combined with a value constraint',
      });
    }
  })
  .describe('Operator form: equals, oneOf, glob, prefix, regex, min, max, present (all given must hold).');

/**
 * A constraint on one argument: a value (text containing `*` is a glob, anything else must be equal, compared
 * as text), a list (any one of them), or an operator object.
 */
export const whereValueSchema = z
  .union([scalarSchema, z.array(scalarSchema).min(1), whereOperatorSchema])
  .describe(
    'A value or glob (`acme/*`), a list of allowed values, or an operator object such as `{ max: 500 }`.',
  );

/** Constraints on a call's arguments, by argument name (dotted paths reach nested members: `target.repo`). */
export const whereSchema = z
  .record(z.string().min(1).max(256), whereValueSchema)
  .describe('Argument constraints by name (dotted paths for nested members). All must hold.');

const toolPatternSchema = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe('Tool name, a glob over tool names (`github.*`, `*`), or a list of them.');

/** A rate limit: at most `count` matching calls per sliding `per` window. */
export const rateSchema = z
  .strictObject({
    count: z.number().int().min(1).max(1_000_000).describe('Calls allowed in one window.'),
    per: durationSchema.describe('Window length (sliding), e.g. `1h`.'),
  })
  .describe(
    'At most `count` calls per sliding window `per` (counted per agent, in this process and its replicas).',
  );

/** One grant in an agent's `grants:` list (Domain 3, least privilege). */
export const grantSchema = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('A name for this grant, shown in reasons and reviews.'),
    tool: toolPatternSchema,
    server: z.string().min(1).optional().describe('Only calls to this MCP server or integration.'),
    where: whereSchema.optional(),
    rate: rateSchema.optional(),
    effect: z
      .enum(['allow', 'deny'])
      .default('allow')
      .describe(
        'allow: the agent may make matching calls; deny: matching calls are refused whatever else allows them.',
      ),
    until: z
      .string()
      .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date or date-time')
      .optional()
      .describe('The grant lapses at this date-time (ISO 8601); after it the grant matches nothing.'),
    reason: z
      .string()
      .max(1000)
      .optional()
      .describe('Why the grant exists (or, for a deny, why the call is refused).'),
  })
  .describe(
    'A grant of one tool (or tool pattern) to an agent, optionally narrowed to resources and rate-limited.',
  );

/** Where Cedar policies come from: inline text or a file relative to warden.yaml. */
export const cedarSchema = z
  .strictObject({
    policies: z.string().min(1).optional().describe('Cedar policy text.'),
    file: z.string().min(1).optional().describe('A .cedar file, relative to warden.yaml.'),
  })
  .refine(
    (c) => (c.policies === undefined) !== (c.file === undefined),
    'give exactly one of `policies` or `file`',
  )
  .describe(
    'Cedar policies for conditions grants cannot express. principal Agent::"<id>" (in Role::"<role>"), action Action::"<tool>" (in Action::"<class>"), resource Tool::"<tool>", context { args, phase, taint, now, session, user?, task?, tenant?, server? }.',
  );

/** `actions:` section: policy-language rules and escalation contacts for least privilege. */
export const actionsSectionSchema = z
  .strictObject({
    cedar: cedarSchema.optional(),
    grantors: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "People or roles who can extend an agent's grants; named in escalations (default: the agent's owner).",
      ),
    undeclaredGrants: z
      .enum(['all-declared-tools', 'none'])
      .default('all-declared-tools')
      .describe(
        'What an agent without a `grants:` key may call: every declared tool (subject to the other gates; `warden validate` warns) or nothing. `grants: []` always means nothing.',
      ),
  })
  .describe('Least privilege: Cedar policies and who extends grants.');

/** One approval rule: which calls it covers and what their approval needs. */
export const approvalRuleSchema = z
  .strictObject({
    name: z.string().min(1).max(128).optional().describe('Name shown in approval requests.'),
    tools: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Tool names or globs this rule covers (default: all).'),
    agents: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Agent ids or globs this rule covers (default: all).'),
    classes: z
      .array(z.enum(['read', 'write', 'irreversible']))
      .min(1)
      .optional()
      .describe('Tool classes this rule covers (default: all).'),
    where: whereSchema.optional(),
    require: z
      .boolean()
      .default(false)
      .describe(
        'true: matching calls always need approval, whatever the phase; false: the rule only says who approves.',
      ),
    roles: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Approvers must hold one of these roles (from `approvals.approvers`).'),
    quorum: z.number().int().min(1).max(10).default(1).describe('Distinct approvers needed.'),
    expiresAfter: durationSchema
      .optional()
      .describe('Overrides `approvals.expiresAfter` for matching calls (the shortest wins).'),
  })
  .describe(
    'Approval rule. Every matching rule applies: highest quorum, shortest expiry, approver eligible under each.',
  );

/** A person who may approve. */
export const approverSchema = z
  .strictObject({
    name: z.string().min(1).max(128).describe('The name given to `--as` / `by`.'),
    roles: z.array(z.string().min(1)).default([]).describe("Roles, matched against rules' `roles`."),
    publicKey: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Ed25519 public key (base64 SPKI DER or PEM) from `warden keys generate NAME --approver`. When set, every vote by this approver must be signed with the matching private key.',
      ),
  })
  .superRefine((a, ctx) => {
    if (a.publicKey === undefined) return;
    try {
      parsePublicKey(a.publicKey);
    } catch (error) {
      // Checked at load so a bad key stops Warden, instead of refusing every vote this approver makes.
      ctx.addIssue({
        code: 'custom',
        path: ['publicKey'],
        message: `${a.name}'s publicKey is not usable (${error instanceof Error ? error.message : String(error)}); paste the publicKey printed by \`warden keys generate ${a.name} --approver\` (base64 SPKI DER or PEM, Ed25519)`,
      });
    }
  });

/** `approvals:` section: who approves what, quorum, expiry. */
export const approvalsSectionSchema = z
  .strictObject({
    expiresAfter: durationSchema.default(3_600_000).describe('How long a request stays open (default 1h).'),
    approvers: z
      .array(approverSchema)
      .default([])
      .describe(
        'People who may approve. When empty, any name may approve (self-approval rules still apply).',
      ),
    selfApproval: z
      .enum(['forbid', 'allow'])
      .default('forbid')
      .describe("forbid: the agent's owner cannot approve its requests."),
    rules: z.array(approvalRuleSchema).default([]),
    maxPendingPerAgent: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(100)
      .describe(
        'Open requests one agent may have; beyond it new requests are denied (approval flooding, ASI09).',
      ),
    keyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .default('WARDEN_APPROVAL_KEY')
      .describe(
        'Environment variable holding the HMAC key that seals requests; absent: a key kept in the store.',
      ),
    sweepMs: z
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(30_000)
      .describe('How often expired requests are marked expired and announced.'),
    requireSignedVotes: z
      .boolean()
      .default(false)
      .describe(
        'true: every approver must declare a publicKey and sign every vote (approve, deny, cancel). false: only approvers with a publicKey must sign.',
      ),
    signedVoteMaxAge: durationSchema
      .default(300_000)
      .describe('How long a vote signature stays acceptable after it was made (default 5m).'),
  })
  .superRefine((s, ctx) => {
    // One key behind two names would let one person count twice towards a quorum.
    const owners = new Map<string, string>();
    s.approvers.forEach((a, i) => {
      if (a.publicKey === undefined) return;
      let fingerprint: string;
      try {
        fingerprint = publicKeyFingerprint(a.publicKey);
      } catch {
        return; // reported by the approver's own check
      }
      const first = owners.get(fingerprint);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['approvers', i, 'publicKey'],
          message: `${a.name} has the same publicKey as ${first} (${fingerprint}), so one key would count as two approvers; give each approver their own key (\`warden keys generate ${a.name} --approver\`)`,
        });
      } else owners.set(fingerprint, a.name);
    });
    if (!s.requireSignedVotes) return;
    if (s.approvers.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['requireSignedVotes'],
        message:
          'requireSignedVotes is true but approvals.approvers is empty, so anyone could vote unsigned; list the approvers, each with a publicKey from `warden keys generate NAME --approver`',
      });
    }
    s.approvers.forEach((a, i) => {
      if (a.publicKey !== undefined) return;
      ctx.addIssue({
        code: 'custom',
        path: ['approvers', i, 'publicKey'],
        message: `${a.name} has no publicKey, but approvals.requireSignedVotes is true; add the publicKey printed by \`warden keys generate ${a.name} --approver\`, or remove ${a.name} from approvals.approvers`,
      });
    });
  })
  .describe('Human approval: approvers, rules, quorum, expiry, signed votes.');

/** Parsed grant. */
export type Grant = z.infer<typeof grantSchema>;
/** Parsed `where:` constraints. */
export type Where = z.infer<typeof whereSchema>;
/** Parsed one argument constraint. */
export type WhereValue = z.infer<typeof whereValueSchema>;
/** Parsed `approvals:` section. */
export type ApprovalsSection = z.infer<typeof approvalsSectionSchema>;
/** Parsed approval rule. */
export type ApprovalRule = z.infer<typeof approvalRuleSchema>;
/** Parsed `actions:` section. */
export type ActionsSection = z.infer<typeof actionsSectionSchema>;
