import { z } from 'zod';
import { actionsSectionSchema, approvalsSectionSchema, grantSchema } from './sections/actions.js';
import { gatewaySectionSchema } from './sections/gateway.js';
import { maturitySectionSchema } from './sections/maturity.js';
import { observeSectionSchema } from './sections/observe.js';
import { trustSectionSchema } from './sections/trust.js';

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;

/** Identifier of an agent, tool or source: letters, digits and `._:@/-`, at most 128 characters. */
export const idSchema = z
  .string()
  .regex(idPattern, 'must start with a letter or digit and use only letters, digits and . _ : @ / -');

/** Maturity phases, least to most autonomous. */
export const phaseSchema = z.enum(['intern', 'junior', 'senior', 'principal']);

/** Consequence class of a tool. */
export const toolClassSchema = z.enum(['read', 'write', 'irreversible']);

/** Trust tier: 1 system and verified user, 2 internal with provenance, 3 external. */
export const tierSchema = z.union([z.literal(1), z.literal(2), z.literal(3)]);

/** One agent. */
export const agentSchema = z.strictObject({
  id: idSchema.describe('Unique agent id; every event names it.'),
  owner: z.string().min(1).describe('The accountable person or team.'),
  description: z.string().default('').describe('What the agent is for.'),
  phase: phaseSchema.default('intern').describe('Maturity phase; decides which gates apply.'),
  roles: z
    .array(z.string().min(1))
    .default([])
    .describe('Roles this agent holds, used by grants and policies.'),
  publicKey: z
    .string()
    .optional()
    .describe('Ed25519 public key (base64 SPKI DER or PEM) for signed messages.'),
  grants: z
    .array(grantSchema)
    .optional()
    .describe('Tools and resources this agent may use (least privilege).'),
});

/** One tool. */
export const toolSchema = z.strictObject({
  name: idSchema.describe('Tool name as the agent calls it.'),
  class: toolClassSchema.describe(
    'read: no side effects; write: changes state; irreversible: cannot be undone.',
  ),
  description: z.string().optional(),
  server: idSchema.optional().describe('MCP server or integration the tool belongs to.'),
  authoritative: z
    .boolean()
    .default(false)
    .describe('Results of this tool are sources of truth for parameter verification.'),
  tier: tierSchema
    .optional()
    .describe("Trust tier of this tool's results (default 3, or 2 when authoritative)."),
  identifiers: z
    .array(z.string().min(1))
    .optional()
    .describe(
      'Argument names (dotted paths allowed) that must trace to the user or an authoritative result.',
    ),
  credentials: z.boolean().default(false).describe('The tool uses credentials the gateway injects.'),
  sensitive: z
    .boolean()
    .optional()
    .describe('Overrides whether the tool counts as sensitive for taint policy.'),
  outbound: z.boolean().default(false).describe('The tool sends data outside (messages, posts, HTTP).'),
});

/** One content source. */
export const sourceSchema = z.strictObject({
  name: idSchema.describe('Source name used in ingest events (user, system, web, email, ...).'),
  tier: tierSchema.describe('1 system and verified user, 2 internal with provenance, 3 external.'),
  description: z.string().optional(),
});

/** Where Warden keeps its ledger and state. */
export const storeSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional()
      .describe('PostgreSQL URL; WARDEN_DATABASE_URL overrides it. Absent: embedded SQLite.'),
    path: z.string().default('.warden/warden.db').describe('SQLite file, relative to the config file.'),
    synchronous: z
      .enum(['normal', 'full'])
      .default('normal')
      .describe(
        'SQLite durability. normal: a commit survives a crash of the process, not of the OS or power. full: an fsync per commit, survives power loss, slower.',
      ),
  })
  .default({ path: '.warden/warden.db', synchronous: 'normal' });

/** Ledger options. */
export const ledgerSchema = z
  .strictObject({
    redact: z
      .array(z.string().min(1))
      .default([])
      .describe('Extra regular expressions whose matches are replaced by [REDACTED] in the ledger.'),
    redactKeys: z
      .array(z.string().min(1))
      .default([])
      .describe('Extra argument names whose values are always redacted.'),
    batchSize: z.number().int().min(1).max(10_000).default(500),
    flushMs: z.number().int().min(1).max(60_000).default(50),
    maxPending: z
      .number()
      .int()
      .min(1000)
      .max(10_000_000)
      .default(200_000)
      .describe('Records kept in memory while the store is unreachable; beyond it decisions deny.'),
  })
  .default({ redact: [], redactKeys: [], batchSize: 500, flushMs: 50, maxPending: 200_000 });

/** Pipeline behaviour. */
export const pipelineSchema = z
  .strictObject({
    stageTimeoutMs: z
      .number()
      .int()
      .min(1)
      .max(60_000)
      .default(2_000)
      .describe('A stage that takes longer is cancelled and the event denied.'),
  })
  .default({ stageTimeoutMs: 2_000 });

/** The whole `warden.yaml`. */
export const wardenConfigSchema = z.strictObject({
  version: z.literal(1).describe('Schema version of this file.'),
  agents: z.array(agentSchema).min(1, 'declare at least one agent'),
  tools: z.array(toolSchema).default([]),
  sources: z
    .array(sourceSchema)
    .default([])
    .describe('Content sources; `system` and `user` are tier 1 unless declared.'),
  store: storeSchema,
  ledger: ledgerSchema,
  pipeline: pipelineSchema,
  trust: trustSectionSchema.optional(),
  actions: actionsSectionSchema.optional(),
  approvals: approvalsSectionSchema.optional(),
  maturity: maturitySectionSchema.optional(),
  observe: observeSectionSchema.optional(),
  gateway: gatewaySectionSchema.optional(),
});

/** A validated configuration (defaults applied). */
export type WardenConfig = z.infer<typeof wardenConfigSchema>;
/** One validated agent. */
export type AgentConfig = z.infer<typeof agentSchema>;
/** One validated tool. */
export type ToolConfig = z.infer<typeof toolSchema>;
/** One validated source. */
export type SourceConfig = z.infer<typeof sourceSchema>;
/** Maturity phase name. */
export type Phase = z.infer<typeof phaseSchema>;
/** Tool class name. */
export type ToolClass = z.infer<typeof toolClassSchema>;
/** What a user writes (before defaults). */
export type WardenConfigInput = z.input<typeof wardenConfigSchema>;
