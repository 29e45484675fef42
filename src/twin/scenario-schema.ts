import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { describeZodIssue, parseConfig, validateConfig } from '../config/load.js';
import type { WardenConfig } from '../config/schema.js';
import { ConfigError, WardenError } from '../core/errors.js';
import type { RiskId } from '../core/types.js';
import { EFFECTS, type EffectName } from './simulated-tools.js';

/**
 * The `*.scenario.yaml` format: a scripted agent (or several) run against simulated tools under a real
 * warden.yaml, with blast-radius caps and the decisions the controls are expected to make.
 *
 * Validation is in two passes so errors stay readable: zod checks the top level, then each script step
 * is dispatched on the one key that says what it is (`call`, `ingest`, ...) and checked with that kind's
 * strict schema. Every problem comes back as { path, message, fix }.
 */

/** File name suffix of a scenario. */
export const SCENARIO_SUFFIX = '.scenario.yaml';
/** Largest scenario file read; a scenario is a script a person writes. */
export const MAX_SCENARIO_BYTES = 2 * 1024 * 1024;
/** Largest number of events one scenario may expand to (repeats included). */
export const MAX_PLANNED_STEPS = 100_000;
const MAX_ALIASES = 100;

/** One problem in a scenario file. */
export interface ScenarioIssue {
  path: string;
  message: string;
  fix?: string;
}

/** A scenario that cannot be run. Each issue names the path in the file, the problem and the fix. */
export class ScenarioError extends WardenError {
  readonly issues: ScenarioIssue[];
  readonly file: string | undefined;

  constructor(message: string, issues: ScenarioIssue[], file?: string) {
    super('SCENARIO_INVALID', message, { hint: 'see docs/twin.md for the scenario format' });
    this.name = 'ScenarioError';
    this.issues = issues;
    this.file = file;
  }
}

/** Formats a ScenarioError for a terminal: one line per issue. */
export function formatScenarioError(error: ScenarioError): string {
  const lines = [error.message + ':'];
  for (const issue of error.issues)
    lines.push(`  - ${issue.path}: ${issue.message}${issue.fix ? ` (fix: ${issue.fix})` : ''}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Small building blocks

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** Parses `250ms`, `1.16s`, `2m`, `1h` or a number of milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = DURATION.exec(value.trim());
  if (!m) return Number.NaN;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

const durationSchema = z
  .union([
    z.number().nonnegative(),
    z.string().regex(DURATION, 'must be a duration like 250ms, 1.5s, 2m or 1h'),
  ])
  .transform((v) => parseDuration(v));

const VERDICTS = ['allow', 'deny', 'approve', 'halt'] as const;
const RISKS = [
  'ASI01',
  'ASI02',
  'ASI03',
  'ASI04',
  'ASI05',
  'ASI06',
  'ASI07',
  'ASI08',
  'ASI09',
  'ASI10',
] as const;

/** Accepts one value or a list, always yields a list (avoids zod unions and their vague errors). */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(item).min(1));
}

const verdictSchema = z.enum(VERDICTS);
const riskSchema = z.enum(RISKS);
const tierSchema = z.union([z.literal(1), z.literal(2), z.literal(3)]);
const nameSchema = z.string().min(1).max(256);

/** What one decision is expected to be. `from`/`to` select repeat iterations (1-based, inclusive). */
const expectationSchema = z.strictObject({
  from: z.number().int().min(1).optional(),
  to: z.number().int().min(1).optional(),
  verdict: oneOrMany(verdictSchema).describe(
    'allow, deny, approve (held for a person) or halt (kill switch)',
  ),
  control: oneOrMany(z.string().min(1))
    .optional()
    .describe('the control that must give a reason (any reason matches)'),
  risk: oneOrMany(riskSchema).optional().describe('the ASI id that reason must cite'),
});

/**
 * `expect: deny`, `expect: [allow, approve]` (any of them), `expect: { verdict: deny, control: verification }`
 * or a list of ranged expectations.
 */
const expectListSchema = z.preprocess((v) => {
  if (typeof v === 'string') return [{ verdict: v }];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return [{ verdict: v }];
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return [v];
  return v;
}, z.array(expectationSchema).min(1));

/** One expected decision, normalised. */
export type StepExpectation = z.infer<typeof expectationSchema>;

// ---------------------------------------------------------------------------------------------------
// Steps

const commonStepFields = {
  label: z.string().min(1).max(200).optional().describe('How the step is named in reports.'),
  agent: nameSchema.optional().describe('The acting agent (default: defaults.agent, or the only agent).'),
  session: nameSchema
    .optional()
    .describe('A session name; steps with the same agent and session share context.'),
  user: nameSchema.optional(),
  task: nameSchema.optional(),
  tenant: nameSchema.optional(),
  after: durationSchema.optional().describe('Advance the scripted clock by this much before the step.'),
  at: durationSchema.optional().describe('Run the step at this offset from the scenario start.'),
};

const ingestSchema = z.strictObject({
  source: nameSchema,
  text: z.string(),
  tier: tierSchema.optional(),
  ref: z.string().optional(),
});

const callSchema = z.strictObject({
  tool: nameSchema,
  args: z.record(z.string(), z.unknown()).default({}),
  server: nameSchema.optional(),
  rationale: z.string().optional(),
  callId: nameSchema.optional(),
});

const messageSchema = z.strictObject({
  from: nameSchema,
  to: nameSchema.optional(),
  payload: z.string(),
  envelope: z.record(z.string(), z.unknown()).optional().describe('A literal envelope, passed as is.'),
  sign: z
    .union([z.literal(false), nameSchema])
    .optional()
    .describe(
      "Sign the message with this agent's twin-generated key (see `keys:`); false sends it unsigned.",
    ),
  tamper: z
    .boolean()
    .optional()
    .describe('Change the payload after signing (the signature no longer matches).'),
  replay: z
    .boolean()
    .optional()
    .describe('Send the previous signed envelope of this sender again, unchanged.'),
});

const memorySchema = z.strictObject({
  op: z.enum(['write', 'read']),
  namespace: nameSchema,
  key: nameSchema,
  value: z.unknown().optional(),
  goalAltering: z.boolean().optional(),
});

const credentialSchema = z.strictObject({
  op: z.enum(['issue', 'revoke']),
  name: nameSchema,
  scope: z.string().optional(),
});

const killSchema = z.strictObject({
  scope: z.enum(['global', 'agent', 'session']),
  target: nameSchema.optional(),
  reason: z.string().min(1).default('twin scenario operator'),
  by: z.string().min(1).default('twin-operator'),
});

const quarantineSchema = z.strictObject({
  agent: nameSchema,
  reason: z.string().min(1).default('twin scenario operator'),
  by: z.string().min(1).default('twin-operator'),
  mode: z.enum(['approve', 'deny']).optional(),
});

const reviewSchema = z.strictObject({
  decision: z.enum(['approve', 'deny']).describe('What the person decides on the held call.'),
  by: z
    .string()
    .min(1)
    .default('twin-reviewer')
    .describe("Who decides (not the agent's owner when self-approval is forbidden)."),
  note: z.string().optional(),
  step: z
    .string()
    .min(1)
    .optional()
    .describe('Label of the held step (default: the latest held step not reviewed yet).'),
  resubmit: z
    .boolean()
    .default(true)
    .describe('After a grant, the agent submits the exact call again (it runs once).'),
});

const STEP_KINDS = [
  'ingest',
  'call',
  'message',
  'memory',
  'credential',
  'wait',
  'kill',
  'release',
  'quarantine',
  'unquarantine',
  'review',
  'repeat',
] as const;
/** What a script step does. */
export type StepKind = (typeof STEP_KINDS)[number];

const stepSchemas = {
  ingest: z.strictObject({ ...commonStepFields, ingest: ingestSchema, expect: expectListSchema.optional() }),
  call: z.strictObject({
    ...commonStepFields,
    call: callSchema,
    result: z
      .unknown()
      .optional()
      .describe('The tool result, given inline (otherwise the simulator produces it).'),
    error: z.boolean().optional().describe('The call fails: its result is recorded as an error.'),
    resultTier: tierSchema.optional(),
    expect: expectListSchema.optional(),
    expectResult: expectListSchema.optional().describe('Expected decision on the recorded result.'),
  }),
  message: z.strictObject({
    ...commonStepFields,
    message: messageSchema,
    expect: expectListSchema.optional(),
  }),
  memory: z.strictObject({ ...commonStepFields, memory: memorySchema, expect: expectListSchema.optional() }),
  credential: z.strictObject({
    ...commonStepFields,
    credential: credentialSchema,
    expect: expectListSchema.optional(),
  }),
  wait: z.strictObject({ label: commonStepFields.label, wait: durationSchema }),
  kill: z.strictObject({
    label: commonStepFields.label,
    after: commonStepFields.after,
    at: commonStepFields.at,
    kill: killSchema,
  }),
  release: z.strictObject({
    label: commonStepFields.label,
    after: commonStepFields.after,
    at: commonStepFields.at,
    release: killSchema,
  }),
  quarantine: z.strictObject({
    label: commonStepFields.label,
    after: commonStepFields.after,
    at: commonStepFields.at,
    quarantine: quarantineSchema,
  }),
  unquarantine: z.strictObject({
    label: commonStepFields.label,
    after: commonStepFields.after,
    at: commonStepFields.at,
    unquarantine: quarantineSchema,
  }),
  review: z.strictObject({
    label: commonStepFields.label,
    after: commonStepFields.after,
    at: commonStepFields.at,
    review: reviewSchema,
    expect: expectListSchema.optional().describe('Expected decision on the resubmitted call.'),
  }),
} as const;

type Common = {
  label?: string | undefined;
  agent?: string | undefined;
  session?: string | undefined;
  user?: string | undefined;
  task?: string | undefined;
  tenant?: string | undefined;
  after?: number | undefined;
  at?: number | undefined;
};

/** A validated step other than `repeat`. */
export type LeafStep =
  | (z.infer<(typeof stepSchemas)['ingest']> & { kind: 'ingest' })
  | (z.infer<(typeof stepSchemas)['call']> & { kind: 'call' })
  | (z.infer<(typeof stepSchemas)['message']> & { kind: 'message' })
  | (z.infer<(typeof stepSchemas)['memory']> & { kind: 'memory' })
  | (z.infer<(typeof stepSchemas)['credential']> & { kind: 'credential' })
  | (z.infer<(typeof stepSchemas)['wait']> & Common & { kind: 'wait' })
  | (z.infer<(typeof stepSchemas)['kill']> & Common & { kind: 'kill' })
  | (z.infer<(typeof stepSchemas)['release']> & Common & { kind: 'release' })
  | (z.infer<(typeof stepSchemas)['quarantine']> & Common & { kind: 'quarantine' })
  | (z.infer<(typeof stepSchemas)['unquarantine']> & Common & { kind: 'unquarantine' })
  | (z.infer<(typeof stepSchemas)['review']> & Common & { kind: 'review' });

/** A repeated block of steps: `{{i}}` in any string of the steps is the iteration (1-based), `{{n}}` the count. */
export interface RepeatStep {
  kind: 'repeat';
  label?: string | undefined;
  count: number;
  /** Time between the starts of two iterations, ms. */
  every?: number | undefined;
  after?: number | undefined;
  at?: number | undefined;
  /** Raw steps, validated once with a sample iteration; templated and validated again at plan time. */
  steps: unknown[];
  /** The validated sample (iteration 1), for kinds and checks. */
  sample: LeafStep[];
}

/** A validated script step. */
export type ScriptStep = LeafStep | RepeatStep;

const repeatSchema = z.strictObject({
  label: commonStepFields.label,
  repeat: z.number().int().min(1).max(MAX_PLANNED_STEPS),
  every: durationSchema.optional(),
  after: commonStepFields.after,
  at: commonStepFields.at,
  steps: z.array(z.unknown()).min(1, 'a repeat needs at least one step'),
});

// ---------------------------------------------------------------------------------------------------
// The world, simulators, caps and scenario-level expectations

const worldSchema = z
  .strictObject({
    files: z.record(z.string(), z.string()).default({}).describe('path → content'),
    repositories: z
      .array(
        z.strictObject({
          id: z.string().min(1),
          name: z.string().optional(),
          owner: z.string().optional(),
          /** Exists publicly but is not the organisation's (a hallucinated id may hit one). */
          external: z.boolean().default(false),
        }),
      )
      .default([]),
    deployments: z
      .array(
        z.strictObject({
          id: z.string().min(1),
          repo: z.string().min(1),
          env: z.string().default('production'),
        }),
      )
      .default([]),
    messages: z
      .array(z.strictObject({ to: z.string().min(1), text: z.string(), from: z.string().optional() }))
      .default([]),
    posts: z
      .array(z.strictObject({ thread: z.string().min(1), body: z.string(), author: z.string().optional() }))
      .default([]),
    accounts: z.record(z.string(), z.number()).default({}).describe('account → balance, for payments'),
    memory: z.record(z.string(), z.unknown()).default({}).describe('"namespace/key" → value'),
    credentials: z
      .record(z.string(), z.string())
      .default({})
      .describe('name → secret value (leaks are detected by value)'),
    services: z
      .record(
        z.string(),
        z.strictObject({
          state: z.enum(['running', 'stopped']).default('running'),
          unit: z.string().optional(),
          enabled: z.boolean().default(true),
        }),
      )
      .default({}),
    web: z.record(z.string(), z.string()).default({}).describe('URL → page text'),
    model: z
      .strictObject({ answerBytes: z.number().int().min(1).max(1_000_000).default(1_500) })
      .default({ answerBytes: 1_500 })
      .describe('The simulated model behind `model.query`.'),
  })
  .default({
    files: {},
    repositories: [],
    deployments: [],
    messages: [],
    posts: [],
    accounts: {},
    memory: {},
    credentials: {},
    services: {},
    web: {},
    model: { answerBytes: 1_500 },
  });

/** The world a scenario starts from. */
export type WorldInput = z.infer<typeof worldSchema>;

const simulateEntrySchema = z.preprocess(
  (v) => (typeof v === 'string' ? { effect: v } : v),
  z.strictObject({
    effect: z.enum(EFFECTS as unknown as [EffectName, ...EffectName[]]),
    args: z
      .record(z.string(), z.string().min(1))
      .default({})
      .describe("Canonical argument → the call's argument name (dotted path), when they differ."),
    linkPreview: z
      .boolean()
      .default(true)
      .describe('messages.send: the platform fetches every URL in the text.'),
  }),
);

/** How one tool is simulated. */
export type SimulateEntry = z.infer<typeof simulateEntrySchema>;

const capsSchema = z
  .strictObject({
    irreversible: z.number().int().min(0).optional().describe('Irreversible actions executed.'),
    resources: z.number().int().min(0).optional().describe('Distinct resources changed or sent to.'),
    bytesOut: z.number().int().min(0).optional().describe('Bytes leaving to external parties.'),
    approvals: z.number().int().min(0).optional().describe('Approval requests asked of people.'),
    secrets: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Distinct world credentials found in outbound data.'),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), { message: 'set at least one cap' });

/** Blast-radius caps. */
export type Caps = z.infer<typeof capsSchema>;

const alertExpectationSchema = z.strictObject({
  rule: z.string().min(1).optional().describe('Alert rule name; `*` matches any run of characters.'),
  severity: oneOrMany(z.enum(['info', 'low', 'medium', 'high', 'critical'])).optional(),
  agent: z.string().min(1).optional(),
  min: z.number().int().min(0).default(1),
  max: z.number().int().min(0).optional(),
});

/** An expected alert. */
export type AlertExpectation = z.infer<typeof alertExpectationSchema>;

const topSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,79}$/, 'must be lower-case letters, digits and dashes')
    .optional()
    .describe('Scenario id (default: the file name without .scenario.yaml).'),
  title: z.string().min(1).max(80),
  incident: z.string().optional().describe('What happened in the real incident, in a few sentences.'),
  risks: oneOrMany(riskSchema).optional(),
  config: z
    .unknown()
    .optional()
    .describe('warden.yaml: inline mapping, or a path relative to the scenario file.'),
  keys: z
    .array(nameSchema)
    .default([])
    .describe('Agents the twin generates Ed25519 keys for (signed messages).'),
  world: worldSchema,
  simulate: z.record(z.string(), simulateEntrySchema).default({}),
  clock: z
    .strictObject({
      start: z
        .union([z.iso.datetime({ offset: true }), z.number().int().min(0)])
        .default('2026-03-02T09:00:00Z'),
      tick: durationSchema.default(1_000).describe('Clock advance before a step that sets no `after`/`at`.'),
    })
    .default({ start: '2026-03-02T09:00:00Z', tick: 1_000 }),
  defaults: z
    .strictObject({
      agent: nameSchema.optional(),
      session: nameSchema.optional(),
      user: nameSchema.optional(),
      task: nameSchema.optional(),
    })
    .default({}),
  script: z.array(z.unknown()).min(1, 'a scenario needs at least one step'),
  caps: capsSchema,
  expect: z
    .strictObject({
      alerts: z.array(alertExpectationSchema).default([]),
    })
    .default({ alerts: [] }),
  baseline: z
    .boolean()
    .default(false)
    .describe('Also run the script with controls off, to show the damage prevented.'),
});

/** A validated scenario, ready to run. */
export interface Scenario {
  id: string;
  title: string;
  incident: string | undefined;
  risks: RiskId[];
  config: WardenConfig;
  keys: string[];
  world: WorldInput;
  simulate: Record<string, SimulateEntry>;
  clock: { start: number; tick: number };
  defaults: {
    agent?: string | undefined;
    session?: string | undefined;
    user?: string | undefined;
    task?: string | undefined;
  };
  script: ScriptStep[];
  caps: Caps;
  expect: { alerts: AlertExpectation[] };
  baseline: boolean;
}

/** A scenario and where it came from. */
export interface LoadedScenario {
  scenario: Scenario;
  /** Absolute path, or undefined when parsed from text. */
  file: string | undefined;
  baseDir: string;
}

// ---------------------------------------------------------------------------------------------------
// Issue formatting

function pathOf(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(root)' : out;
}

function describe(prefix: string, issue: z.core.$ZodIssue): ScenarioIssue {
  return describeZodIssue(issue, pathOf(prefix, issue.path), 'docs/twin.md');
}

function issuesOf(prefix: string, error: z.ZodError): ScenarioIssue[] {
  return error.issues.map((i) => describe(prefix, i));
}

// ---------------------------------------------------------------------------------------------------
// Steps: dispatch on the kind key

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Replaces `{{i}}` and `{{n}}` in every string of a value. */
export function template(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string')
    return value.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => vars[name] ?? whole);
  if (Array.isArray(value)) return value.map((v) => template(v, vars));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = template(v, vars);
    return out;
  }
  return value;
}

/** Validates one leaf step (not a repeat). Returns the step or pushes issues. */
export function parseLeafStep(raw: unknown, path: string, issues: ScenarioIssue[]): LeafStep | undefined {
  if (!isRecord(raw)) {
    issues.push({
      path,
      message: 'a step must be a mapping',
      fix: 'write e.g. `- call: { tool: read_file, args: { path: a.txt } }`',
    });
    return undefined;
  }
  const kinds = STEP_KINDS.filter((k) => k in raw);
  if (kinds.length !== 1) {
    issues.push({
      path,
      message:
        kinds.length === 0
          ? 'the step does not say what it does'
          : `the step has several kinds (${kinds.join(', ')})`,
      fix: `give exactly one of ${STEP_KINDS.filter((k) => k !== 'repeat').join(', ')} (or repeat, at the top level)`,
    });
    return undefined;
  }
  const kind = kinds[0] as StepKind;
  if (kind === 'repeat') {
    issues.push({
      path,
      message: 'repeats cannot be nested',
      fix: "flatten the inner repeat into the outer one's steps",
    });
    return undefined;
  }
  const parsed = stepSchemas[kind].safeParse(raw);
  if (!parsed.success) {
    issues.push(...issuesOf(path, parsed.error));
    return undefined;
  }
  const step = { ...parsed.data, kind } as LeafStep;
  if (step.kind === 'kill' || step.kind === 'release') {
    const k = step.kind === 'kill' ? step.kill : step.release;
    if (k.scope !== 'global' && k.target === undefined) {
      issues.push({
        path: `${path}.${step.kind}.target`,
        message: `a ${k.scope} kill switch needs a target`,
        fix: `name the ${k.scope} id`,
      });
    }
  }
  if ('at' in step && step.at !== undefined && 'after' in step && step.after !== undefined) {
    issues.push({ path, message: 'a step cannot have both `at` and `after`', fix: 'keep one of them' });
  }
  return step;
}

function parseStep(raw: unknown, path: string, issues: ScenarioIssue[]): ScriptStep | undefined {
  if (isRecord(raw) && 'repeat' in raw) {
    const parsed = repeatSchema.safeParse(raw);
    if (!parsed.success) {
      issues.push(...issuesOf(path, parsed.error));
      return undefined;
    }
    const r = parsed.data;
    const sample: LeafStep[] = [];
    r.steps.forEach((s, j) => {
      const leaf = parseLeafStep(template(s, { i: '1', n: String(r.repeat) }), `${path}.steps[${j}]`, issues);
      if (leaf) sample.push(leaf);
    });
    if (r.at !== undefined && r.after !== undefined)
      issues.push({ path, message: 'a repeat cannot have both `at` and `after`', fix: 'keep one of them' });
    return {
      kind: 'repeat',
      label: r.label,
      count: r.repeat,
      every: r.every,
      after: r.after,
      at: r.at,
      steps: r.steps,
      sample,
    };
  }
  return parseLeafStep(raw, path, issues);
}

// ---------------------------------------------------------------------------------------------------
// Whole file

/** Parses and validates scenario text. `file` (absolute) names it in errors and anchors relative paths. */
export function parseScenario(text: string, file?: string): LoadedScenario {
  const origin = file ?? 'scenario';
  const baseDir = file ? dirname(file) : process.cwd();
  if (Buffer.byteLength(text, 'utf8') > MAX_SCENARIO_BYTES) {
    throw new ScenarioError(
      `${origin} is too large`,
      [
        {
          path: '(file)',
          message: `larger than ${MAX_SCENARIO_BYTES} bytes`,
          fix: 'use `repeat` instead of copying steps',
        },
      ],
      file,
    );
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      `${origin} is not valid YAML`,
      doc.errors.map((e) => ({
        path: e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(file)',
        message: e.message.split('\n')[0] ?? e.message,
        fix: 'fix the YAML syntax at that position',
      })),
      file,
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (cause) {
    throw new ScenarioError(
      `${origin} could not be expanded`,
      [
        {
          path: '(file)',
          message: cause instanceof Error ? cause.message : String(cause),
          fix: 'use fewer YAML aliases',
        },
      ],
      file,
    );
  }
  return validateScenario(raw, { file, baseDir });
}

/** Validates an already-parsed scenario object. */
export function validateScenario(
  raw: unknown,
  where: { file?: string | undefined; baseDir: string },
): LoadedScenario {
  const origin = where.file ?? 'scenario';
  if (!isRecord(raw)) {
    throw new ScenarioError(
      `${origin} must be a mapping`,
      [
        {
          path: '(root)',
          message: 'expected a mapping with title, config, script and caps',
          fix: 'start from an example in examples/*.scenario.yaml',
        },
      ],
      where.file,
    );
  }
  const top = topSchema.safeParse(raw);
  if (!top.success)
    throw new ScenarioError(`${origin} does not validate`, issuesOf('', top.error), where.file);
  const t = top.data;
  const issues: ScenarioIssue[] = [];

  const config = loadScenarioConfig(t.config, where.baseDir, issues);
  const script: ScriptStep[] = [];
  t.script.forEach((s, i) => {
    const step = parseStep(s, `script[${i}]`, issues);
    if (step) script.push(step);
  });

  const id = t.id ?? idFromFile(where.file);
  if (id === undefined)
    issues.push({
      path: 'id',
      message: 'a scenario parsed from text needs an id',
      fix: 'add `id: my-scenario`',
    });
  const start = typeof t.clock.start === 'number' ? t.clock.start : Date.parse(t.clock.start);

  if (config) crossCheck(t, script, config, issues);
  if (issues.length > 0 || !config || id === undefined)
    throw new ScenarioError(`${origin} does not validate`, issues, where.file);

  const planned = countPlanned(script);
  if (planned > MAX_PLANNED_STEPS) {
    throw new ScenarioError(
      `${origin} does not validate`,
      [
        {
          path: 'script',
          message: `expands to ${planned} events; the limit is ${MAX_PLANNED_STEPS}`,
          fix: 'lower the repeat counts',
        },
      ],
      where.file,
    );
  }
  return {
    scenario: {
      id,
      title: t.title,
      incident: t.incident?.trim(),
      risks: t.risks ?? [],
      config,
      keys: t.keys,
      world: t.world,
      simulate: t.simulate,
      clock: { start, tick: t.clock.tick },
      defaults: t.defaults,
      script,
      caps: t.caps,
      expect: t.expect,
      baseline: t.baseline,
    },
    file: where.file,
    baseDir: where.baseDir,
  };
}

/** Reads and validates a scenario file. Throws ScenarioError (or WardenError for an unreadable file). */
export function loadScenarioFile(path: string): LoadedScenario {
  const file = resolve(path);
  let size: number;
  try {
    size = statSync(file).size;
  } catch (cause) {
    throw new ScenarioError(
      `cannot read ${file}`,
      [
        {
          path: '(file)',
          message: cause instanceof Error ? cause.message : String(cause),
          fix: 'check the path',
        },
      ],
      file,
    );
  }
  if (size > MAX_SCENARIO_BYTES) {
    throw new ScenarioError(
      `${file} is too large`,
      [
        {
          path: '(file)',
          message: `${size} bytes; the limit is ${MAX_SCENARIO_BYTES}`,
          fix: 'use `repeat` instead of copying steps',
        },
      ],
      file,
    );
  }
  return parseScenario(readFileSync(file, 'utf8'), file);
}

function idFromFile(file: string | undefined): string | undefined {
  if (!file) return undefined;
  const base = basename(file)
    .replace(/\.scenario\.ya?ml$/, '')
    .replace(/\.ya?ml$/, '');
  const id = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return id === '' ? undefined : id;
}

function loadScenarioConfig(
  raw: unknown,
  baseDir: string,
  issues: ScenarioIssue[],
): WardenConfig | undefined {
  const prefixed = (error: ConfigError, prefix: string) =>
    error.issues.map((i) => ({
      path: i.path === '(root)' ? prefix : `${prefix}.${i.path}`,
      message: i.message,
      ...(i.fix ? { fix: i.fix } : {}),
    }));
  try {
    if (typeof raw === 'string') {
      const path = resolve(baseDir, raw);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (cause) {
        issues.push({
          path: 'config',
          message: `cannot read ${path} (${cause instanceof Error ? cause.message : String(cause)})`,
          fix: 'give a path relative to the scenario file, or an inline mapping',
        });
        return undefined;
      }
      return parseConfig(text, path);
    }
    if (isRecord(raw)) return validateConfig(raw, 'config');
    issues.push({
      path: 'config',
      message: raw === undefined ? 'missing' : 'must be a mapping (inline warden.yaml) or a path',
      fix: 'add `config: ./warden.yaml` or an inline `config:` mapping',
    });
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) {
      issues.push(
        ...(error.issues.length > 0
          ? prefixed(error, 'config')
          : [{ path: 'config', message: error.message }]),
      );
      return undefined;
    }
    if (error instanceof WardenError) {
      issues.push({ path: 'config', message: error.message, ...(error.hint ? { fix: error.hint } : {}) });
      return undefined;
    }
    throw error;
  }
}

function leafSteps(script: ScriptStep[]): { step: LeafStep; path: string }[] {
  const out: { step: LeafStep; path: string }[] = [];
  script.forEach((s, i) => {
    if (s.kind === 'repeat')
      s.sample.forEach((l, j) => out.push({ step: l, path: `script[${i}].steps[${j}]` }));
    else out.push({ step: s, path: `script[${i}]` });
  });
  return out;
}

function countPlanned(script: ScriptStep[]): number {
  let n = 0;
  for (const s of script) n += s.kind === 'repeat' ? s.count * s.steps.length : 1;
  return n;
}

function crossCheck(
  t: z.infer<typeof topSchema>,
  script: ScriptStep[],
  config: WardenConfig,
  issues: ScenarioIssue[],
): void {
  const agents = new Set(config.agents.map((a) => a.id));
  const tools = new Set(config.tools.map((x) => x.name));
  for (const [tool] of Object.entries(t.simulate)) {
    if (!tools.has(tool))
      issues.push({
        path: `simulate.${tool}`,
        message: `tool \`${tool}\` is not declared in the config`,
        fix: 'declare it under config.tools, or remove the simulator',
      });
  }
  t.keys.forEach((k, i) => {
    if (!agents.has(k))
      issues.push({
        path: `keys[${i}]`,
        message: `agent \`${k}\` is not in the config`,
        fix: 'list agents declared under config.agents',
      });
  });
  if (t.defaults.agent === undefined && config.agents.length > 1) {
    for (const { step, path } of leafSteps(script)) {
      const needsAgent =
        step.kind === 'ingest' ||
        step.kind === 'call' ||
        step.kind === 'memory' ||
        step.kind === 'credential';
      if (needsAgent && step.agent === undefined) {
        issues.push({
          path,
          message: 'the config has several agents and this step does not say which one acts',
          fix: 'add `agent:` to the step or `defaults.agent`',
        });
      }
    }
  }
  for (const { step, path } of leafSteps(script)) {
    if (
      step.kind === 'message' &&
      step.message.sign !== undefined &&
      step.message.sign !== false &&
      !t.keys.includes(step.message.sign)
    ) {
      issues.push({
        path: `${path}.message.sign`,
        message: `no twin key for \`${step.message.sign}\``,
        fix: `add ${step.message.sign} to \`keys:\``,
      });
    }
    if (step.kind === 'message' && step.message.envelope !== undefined && step.message.sign !== undefined) {
      issues.push({
        path: `${path}.message`,
        message: 'give either `envelope` or `sign`, not both',
        fix: 'keep one of them',
      });
    }
  }
}
