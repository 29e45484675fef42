import { z } from 'zod';

/*
 * The `gateway:` section. Kept free of imports from `../schema.js` (which imports this file) so the two
 * modules do not form an evaluation cycle; the few shared shapes are restated here.
 */

const MiB = 1024 * 1024;

/** Name of an upstream server: it prefixes namespaced tools (`server__tool`) and pin ids (`server/tool`). */
export const gatewayServerNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
    'must start with a letter or digit and use only letters, digits, _ and - (at most 64)',
  )
  .refine((s) => !s.includes('__'), 'must not contain `__` (the namespace separator)')
  .describe('Server name: letters, digits, _ and -, at most 64, no `__`.');

const envNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be an environment variable name')
  .describe('Environment variable name.');

/**
 * A value handed to an upstream server (an environment variable or an HTTP header). A plain string is a
 * literal written in warden.yaml (so it is not a secret); `fromEnv` and `fromStore` are secrets: the gateway
 * reads them at start, adds them to the ledger redactor and strips them from what the model sees.
 */
export const secretValueSchema = z
  .union([
    z.string().describe('A literal value, visible in warden.yaml; use it for non-secret settings only.'),
    z
      .strictObject({
        fromEnv: envNameSchema.describe(
          "Read the value from this variable of the gateway's own environment.",
        ),
        prefix: z
          .string()
          .max(64)
          .optional()
          .describe('Text put before the value, e.g. `Bearer ` for an Authorization header.'),
      })
      .describe("A secret taken from the gateway's environment; the client never sees or supplies it."),
    z
      .strictObject({
        fromStore: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/)
          .describe('Id of a document in the store collection `secrets` whose body is `{ value: string }`.'),
        prefix: z.string().max(64).optional().describe('Text put before the value, e.g. `Bearer `.'),
      })
      .describe("A secret kept in Warden's store (collection `secrets`)."),
  ])
  .describe('A literal, `{ fromEnv: NAME }` or `{ fromStore: id }`.');

/** One upstream MCP server behind the gateway. */
export const gatewayServerSchema = z
  .strictObject({
    name: gatewayServerNameSchema,
    command: z
      .string()
      .min(1)
      .optional()
      .describe('Executable of a stdio server (exclusive with `url`). Run without a shell.'),
    args: z.array(z.string()).default([]).describe('Arguments of `command`.'),
    cwd: z.string().optional().describe('Working directory of `command`, relative to the config file.'),
    env: z
      .record(envNameSchema, secretValueSchema)
      .default({})
      .describe(
        'Environment of `command` on top of a minimal safe set (HOME, PATH, ...). The gateway does not pass its whole environment.',
      ),
    url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Endpoint of a streamable-HTTP server (exclusive with `command`).'),
    headers: z
      .record(z.string().min(1), secretValueSchema)
      .default({})
      .describe('HTTP headers sent to `url` (credentials go here).'),
    tier: z
      .union([z.literal(1), z.literal(2), z.literal(3)])
      .optional()
      .describe(
        'A ceiling on trust for this server: its tool results and resources are never labelled more trusted than this tier (tiers can only be lowered). Use 3 for a server that relays outside content.',
      ),
    timeoutMs: z
      .number()
      .int()
      .min(100)
      .max(24 * 3600_000)
      .optional()
      .describe('Overrides `gateway.requestTimeoutMs` for this server.'),
  })
  .superRefine((s, ctx) => {
    if ((s.command === undefined) === (s.url === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one of `command` (stdio) or `url` (streamable HTTP)',
        path: ['command'],
      });
    }
  })
  .describe(
    'An upstream MCP server: `{ name, command, args, env }` for stdio or `{ name, url, headers }` for HTTP.',
  );

/** How the gateway asks for a human decision when the pipeline says `approve`. */
export const gatewayApprovalsSchema = z
  .strictObject({
    via: z
      .enum(['auto', 'elicitation', 'queue'])
      .default('auto')
      .describe(
        '`elicitation` asks the person in the MCP client (elicitation/create); `queue` waits for `warden approvals approve`; `auto` elicits when the client declared the capability, else queues.',
      ),
    timeoutMs: z
      .number()
      .int()
      .min(1_000)
      .max(24 * 3600_000)
      .default(15 * 60_000)
      .describe('How long a held call waits for a decision before it is refused.'),
    as: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        'Approver name recorded for decisions made in the MCP client (must be in approvals.approvers when that list is set). Default: `mcp-client:<client name>`.',
      ),
    progressIntervalMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(10_000)
      .describe(
        'While a call waits, progress notifications are sent this often (when the client asked for progress) so its timeout does not fire.',
      ),
  })
  .default({ via: 'auto', timeoutMs: 15 * 60_000, progressIntervalMs: 10_000 })
  .describe('Human approval of held calls.');

/** Options of the HTTP listener (`warden gateway --listen host:port`). */
export const gatewayHttpSchema = z
  .strictObject({
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~/-]*$/)
      .default('/mcp')
      .describe('URL path of the MCP endpoint.'),
    token: secretValueSchema
      .optional()
      .describe(
        'When set, clients must send `Authorization: Bearer <token>`. Strongly advised when listening beyond loopback.',
      ),
    allowedHosts: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Host header values accepted (DNS-rebinding defence). Default: loopback names when bound to loopback, any otherwise.',
      ),
    allowedOrigins: z
      .array(z.string().min(1))
      .optional()
      .describe(
        'Origin header values accepted from browsers. Default: none (requests with an Origin header are refused).',
      ),
    maxSessions: z.number().int().min(1).max(100_000).default(1_000).describe('Concurrent client sessions.'),
  })
  .default({ path: '/mcp', maxSessions: 1_000 })
  .describe('HTTP listener options.');

/** `gateway:` section: upstream MCP servers and how the gateway fronts them. Owned by the gateway module. */
export const gatewaySectionSchema = z
  .strictObject({
    agent: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/)
      .optional()
      .describe('Agent the gateway acts for when `--agent` is not given. Must be one of `agents`.'),
    servers: z
      .array(gatewayServerSchema)
      .default([])
      .describe(
        'Upstream servers used by `warden gateway` when neither `-- <command>` nor `--upstream` is given.',
      ),
    namespace: z
      .enum(['auto', 'always'])
      .default('auto')
      .describe(
        '`auto` prefixes tool and prompt names with `server__` only when two servers offer the same name; `always` prefixes every name.',
      ),
    unknownTools: z
      .enum(['hide', 'show'])
      .default('hide')
      .describe(
        'Tools that are not declared in `tools:` are hidden from tools/list (`hide`) or listed (`show`); calls to them are denied either way.',
      ),
    poisoned: z
      .enum(['hide', 'warn'])
      .default('hide')
      .describe(
        'A tool whose definition the scanner flags (poisoning, shadowing) is hidden and its calls denied (`hide`), or only reported (`warn`).',
      ),
    pinning: z
      .enum(['first-use', 'review', 'off'])
      .default('first-use')
      .describe(
        'Tool definitions are pinned by hash: at first sight (`first-use`), or only by `warden gateway pins approve` (`review`: new tools stay hidden until approved). A changed definition is hidden and denied until re-approved. `off` disables pinning.',
      ),
    approvals: gatewayApprovalsSchema,
    http: gatewayHttpSchema,
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(256 * MiB)
      .default(4 * MiB)
      .describe(
        'Largest message accepted from the client; larger ones are refused (HTTP 413) or close the stdio connection.',
      ),
    maxUpstreamMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * MiB)
      .default(16 * MiB)
      .describe(
        'Largest message accepted from an upstream server. Over stdio a larger one is treated as a crash of that server; over HTTP a larger reply or event fails that call.',
      ),
    startTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(3600_000)
      .default(60_000)
      .describe(
        'Longest wait for an upstream to answer initialize after it is launched (a server started through npx may first download itself); the longer of this and the request timeout applies.',
      ),
    requestTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(24 * 3600_000)
      .default(120_000)
      .describe(
        'An upstream that does not answer a request within this time is sent a cancellation and the client an error.',
      ),
    restart: z
      .strictObject({
        maxRestarts: z
          .number()
          .int()
          .min(0)
          .max(1_000)
          .default(5)
          .describe('Restarts of a crashed stdio server allowed per `windowMs`.'),
        windowMs: z
          .number()
          .int()
          .min(1_000)
          .max(24 * 3600_000)
          .default(60_000)
          .describe('Window of `maxRestarts`.'),
      })
      .default({ maxRestarts: 5, windowMs: 60_000 })
      .describe('Supervision of crashed stdio servers: restarted on the next request, within a budget.'),
    maxTools: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(5_000)
      .describe(
        'Most tools (and prompts, resources) read from one server; beyond it the list is cut and a warning logged.',
      ),
  })
  .superRefine((g, ctx) => {
    const seen = new Set<string>();
    g.servers.forEach((s, i) => {
      if (seen.has(s.name))
        ctx.addIssue({
          code: 'custom',
          message: `duplicate server name \`${s.name}\``,
          path: ['servers', i, 'name'],
        });
      seen.add(s.name);
    });
  })
  .describe('MCP gateway: upstream servers and options.');

/** Parsed `gateway:` section. */
export type GatewaySection = z.infer<typeof gatewaySectionSchema>;
/** One parsed upstream server. */
export type GatewayServerConfig = z.infer<typeof gatewayServerSchema>;
/** A parsed secret or literal value. */
export type SecretValue = z.infer<typeof secretValueSchema>;

/** The section with every default applied, for a config that has no `gateway:` at all. */
export function gatewayDefaults(): GatewaySection {
  return gatewaySectionSchema.parse({});
}
