import type { Command } from 'commander';
import type { ApprovalView, Approvals, VoteOptions } from '../../actions/approvals/approvals.js';
import type { ApprovalStatus } from '../../actions/approvals/digest.js';
import { signVote, type SignedBy, type VoteDecision } from '../../actions/approvals/signed-votes.js';
import { WardenError } from '../../core/errors.js';
import type { Warden } from '../../warden.js';
import { APPROVER_KEY_ENV, approverKeyHint, readApproverKey } from '../approver-key.js';
import { CliExit, wardenFor, type ConfigOption } from '../context.js';
import { EXIT } from '../exit-codes.js';

const KEY_OPTION = `the approver's Ed25519 private key (PKCS#8 PEM) to sign the vote with (default: $${APPROVER_KEY_ENV})`;

const STATUSES = new Set(['open', 'pending', 'granted', 'denied', 'expired', 'cancelled', 'consumed']);

async function withApprovals<T>(
  cmd: Command,
  run: (api: Approvals, warden: Warden) => Promise<T>,
): Promise<T> {
  const warden = await wardenFor(cmd.optsWithGlobals<ConfigOption>());
  try {
    const api = warden.runtime.service<Approvals>('approvals.api');
    if (!api)
      throw new CliExit(EXIT.internal, 'the approvals service is not running (actions module not loaded)');
    return await run(api, warden);
  } catch (error) {
    // A refusal (unknown id, not eligible, expired, tampered, already decided) is an answer, not a crash.
    if (
      error instanceof WardenError &&
      ['APPROVAL_INVALID', 'NOT_FOUND', 'INVALID_ARGUMENT'].includes(error.code)
    ) {
      throw new CliExit(EXIT.failed, `${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`);
    }
    throw error;
  } finally {
    await warden.close();
  }
}

function ago(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

function statusText(v: ApprovalView): string {
  const s = v.request.status === 'pending' && v.expired ? 'expired' : v.request.status;
  return s.toUpperCase() + (v.verified ? '' : ' (SEAL FAILED)');
}

function oneLine(v: ApprovalView, now: number): string {
  const r = v.request;
  const left = r.expiresAt - now;
  const when =
    r.status === 'pending' || r.status === 'granted'
      ? left > 0
        ? `expires in ${ago(left)}`
        : 'expired'
      : `created ${ago(now - r.createdAt)} ago`;
  const why = r.reasons[0]?.message ?? '';
  return `${r.id}  ${statusText(v).padEnd(9)} ${String(v.approvals)}/${String(v.quorum)}  ${r.agent}  ${r.tool}${r.server ? `@${r.server}` : ''}  ${when}${why ? `  ${why}` : ''}`;
}

/** A provenance record in words when it has the trust module's shape, else as JSON. */
function provenanceText(p: unknown): string {
  const x = p as {
    provenance?: unknown;
    private?: unknown;
    source?: { kind?: unknown; name?: unknown; eventId?: unknown };
  } | null;
  if (!x || typeof x.provenance !== 'string') return JSON.stringify(p);
  const src =
    x.source && typeof x.source.kind === 'string'
      ? ` from ${x.source.kind} ${typeof x.source.name === 'string' ? x.source.name : ''}`.trimEnd()
      : '';
  const ev =
    x.source && typeof x.source.eventId === 'string' ? ` (event ${x.source.eventId.slice(0, 8)})` : '';
  return `${x.provenance}${src}${ev}${x.private === true ? ', private' : ''}`;
}

function show(v: ApprovalView, now: number): string {
  const r = v.request;
  const out: string[] = [];
  out.push(`Request  ${r.id}`);
  out.push(`Status   ${statusText(v)}  (${String(v.approvals)} of ${String(v.quorum)} approvals)`);
  out.push(
    `Created  ${new Date(r.createdAt).toISOString()}   expires ${new Date(r.expiresAt).toISOString()}${r.expiresAt > now ? ` (in ${ago(r.expiresAt - now)})` : ' (passed)'}`,
  );
  out.push(
    `Agent    ${r.agent} (owner ${r.policy.owner})  session ${r.session}${r.user ? `  user ${r.user}` : ''}${r.task ? `  task ${r.task}` : ''}${r.tenant ? `  tenant ${r.tenant}` : ''}`,
  );
  out.push(
    `Action   ${r.tool}${r.server ? ` on ${r.server}` : ''}${r.toolClass ? `  [${r.toolClass}]` : ''}  (${r.kind})`,
  );
  out.push(`Digest   ${r.digest}  (bound to these exact arguments)`);
  out.push('', 'Why a person must look:');
  for (const x of r.reasons) out.push(`  - ${x.message}  [${x.control}, ${x.risk}]`);
  out.push('', 'Arguments (facts, as redacted for review) and where each value came from:');
  const args =
    r.args !== null && typeof r.args === 'object' && !Array.isArray(r.args)
      ? (r.args as Record<string, unknown>)
      : { '(value)': r.args };
  for (const [k, val] of Object.entries(args)) {
    const prov = r.provenance?.[k];
    out.push(`  ${k} = ${JSON.stringify(val)}`);
    out.push(
      `      provenance: ${r.provenance === null ? 'unknown (the trust module is not running)' : prov === undefined ? 'none recorded' : provenanceText(prov)}`,
    );
  }
  if (r.provenance) {
    for (const [k, p] of Object.entries(r.provenance))
      if (k.includes('.')) out.push(`  ${k}: provenance ${provenanceText(p)}`);
  }
  out.push('', "The agent's own rationale (its words, not verified):");
  out.push(
    r.rationale === null
      ? '  (none given)'
      : r.rationale
          .split('\n')
          .map((l) => `  | ${l}`)
          .join('\n'),
  );
  out.push(
    '',
    `Needs    quorum ${String(r.policy.quorum)}${r.policy.roles.length ? `; roles ${r.policy.roles.map((l) => l.join(' or ')).join(' and ')}` : ''}${r.policy.rules.length ? `; rules ${r.policy.rules.join(', ')}` : ''}; owner ${r.policy.selfApproval === 'forbid' ? 'may not' : 'may'} approve`,
  );
  for (const vote of r.votes) {
    out.push(
      `Vote     ${vote.by} ${vote.decision === 'approve' ? 'approved' : 'denied'} at ${new Date(vote.at).toISOString()}${vote.note ? `: ${vote.note}` : ''}`,
    );
    out.push(`         ${signedText(vote.by, vote.signed)}`);
  }
  if (r.status === 'cancelled' && r.resolvedBy?.[0] !== undefined)
    out.push(`Cancel   by ${r.resolvedBy[0]}, ${signedText(r.resolvedBy[0], r.cancelSigned)}`);
  if (r.note && r.status !== 'pending') out.push(`Note     ${r.note}`);
  if (r.consumedAt)
    out.push(`Used     by event ${r.consumedBy ?? '?'} at ${new Date(r.consumedAt).toISOString()}`);
  if (!v.verified)
    out.push(
      '',
      'WARNING: this request does not match its seal (edited in the store, or forged). Warden refuses to act on it.',
    );
  return out.join('\n');
}

/** Who signed a vote, as `show` prints it. */
function signedText(by: string, signed: SignedBy | undefined): string {
  return signed
    ? `signed by ${by} (${signed.fingerprint}) at ${new Date(signed.signedAt).toISOString()}`
    : 'unsigned';
}

/** A line confirming who signed the vote just cast, or nothing for an unsigned one. */
function signedLine(v: ApprovalView, by: string): string {
  const signed =
    v.request.status === 'cancelled'
      ? v.request.cancelSigned
      : v.request.votes.find((x) => x.by === by)?.signed;
  return signed ? `${signedText(by, signed)}\n` : '';
}

/**
 * Casts a vote (approve, deny, cancel), signed when a key file is given. The request is resolved first so
 * the signature names its full id and digest; the API checks the signature and records any refusal.
 */
async function castVote(
  api: Approvals,
  warden: Warden,
  id: string,
  by: string,
  decision: VoteDecision,
  note: string | undefined,
  opts: { key?: string },
): Promise<ApprovalView> {
  const signer = readApproverKey(opts.key);
  let target = id;
  const options: VoteOptions = {};
  if (signer) {
    const { fields } = await api.statement(id, by, decision, note, warden.runtime.clock.now());
    target = fields.requestId;
    options.signature = signVote(signer.key, fields);
  }
  try {
    if (decision === 'approve') return await api.approve(target, by, note, options);
    if (decision === 'deny') return await api.deny(target, by, note ?? '', options);
    return await api.cancel(target, by, note ?? '', options);
  } catch (error) {
    // Only signature refusals carry a hint; say what to do in terms of this command.
    if (error instanceof WardenError && error.code === 'APPROVAL_INVALID' && error.hint !== undefined) {
      const hint = approverKeyHint(warden.policy.config, by, signer, decision);
      if (hint !== undefined)
        throw new WardenError('APPROVAL_INVALID', error.message, { hint, cause: error });
    }
    throw error;
  }
}

/** `warden approvals list | show | approve | deny | cancel`. */
export function registerApprovals(program: Command): void {
  const approvals = program
    .command('approvals')
    .description('list and decide human-approval requests (durable, bound to the exact call, expiring)');

  approvals
    .command('list')
    .description('list requests, newest first (open ones by default)')
    .option('--all', 'every request, not only open ones')
    .option(
      '--status <status>',
      'only this status: open, pending, granted, denied, expired, cancelled, consumed',
    )
    .option('--agent <id>', 'only this agent')
    .option('--json', 'print JSON')
    .action(
      async (opts: { all?: boolean; status?: string; agent?: string; json?: boolean }, cmd: Command) => {
        if (opts.status !== undefined && !STATUSES.has(opts.status))
          throw new CliExit(EXIT.usage, `unknown status ${opts.status}`);
        await withApprovals(cmd, async (api, warden) => {
          const status = (opts.status ?? (opts.all ? undefined : 'open')) as
            ApprovalStatus | 'open' | undefined;
          const list = await api.list({
            ...(status ? { status } : {}),
            ...(opts.agent ? { agent: opts.agent } : {}),
          });
          if (opts.json) {
            process.stdout.write(JSON.stringify(list) + '\n');
            return;
          }
          const now = warden.runtime.clock.now();
          if (list.length === 0)
            process.stdout.write(`no ${status ?? ''} approval requests\n`.replace('  ', ' '));
          for (const v of list) process.stdout.write(oneLine(v, now) + '\n');
        });
      },
    );

  approvals
    .command('show')
    .description(
      "show one request: the call, the reasons, each argument with its provenance, and the agent's rationale apart",
    )
    .argument('<id>', 'request id (or a unique prefix of 8+ characters)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withApprovals(cmd, async (api, warden) => {
        const v = await api.get(id);
        process.stdout.write((opts.json ? JSON.stringify(v) : show(v, warden.runtime.clock.now())) + '\n');
      });
    });

  approvals
    .command('approve')
    .description('approve a request as NAME; it is granted once the quorum of eligible approvers is reached')
    .argument('<id>', 'request id')
    .requiredOption('--as <name>', 'who approves (an entry of approvals.approvers)')
    .option('--note <text>', 'a note kept with the vote')
    .option('--key <file>', KEY_OPTION)
    .action(async (id: string, opts: { as: string; note?: string; key?: string }, cmd: Command) => {
      await withApprovals(cmd, async (api, warden) => {
        const v = await castVote(api, warden, id, opts.as, 'approve', opts.note, opts);
        process.stdout.write(
          v.request.status === 'granted'
            ? `granted ${v.request.id}: ${v.request.agent} may now run ${v.request.tool} once with exactly these arguments (until ${new Date(v.request.expiresAt).toISOString()})\n`
            : `recorded ${opts.as}'s approval of ${v.request.id}: ${String(v.approvals)} of ${String(v.quorum)}; waiting for more approvers\n`,
        );
        process.stdout.write(signedLine(v, opts.as));
      });
    });

  approvals
    .command('deny')
    .description('deny a request as NAME, with a reason')
    .argument('<id>', 'request id')
    .requiredOption('--as <name>', 'who denies')
    .requiredOption('--reason <text>', 'why')
    .option('--key <file>', KEY_OPTION)
    .action(async (id: string, opts: { as: string; reason: string; key?: string }, cmd: Command) => {
      await withApprovals(cmd, async (api, warden) => {
        const v = await castVote(api, warden, id, opts.as, 'deny', opts.reason, opts);
        process.stdout.write(
          `denied ${v.request.id} (${v.request.agent} ${v.request.tool}): ${opts.reason}\n`,
        );
        process.stdout.write(signedLine(v, opts.as));
      });
    });

  approvals
    .command('cancel')
    .description('withdraw an open request')
    .argument('<id>', 'request id')
    .requiredOption('--as <name>', 'who cancels')
    .requiredOption('--reason <text>', 'why')
    .option('--key <file>', KEY_OPTION)
    .action(async (id: string, opts: { as: string; reason: string; key?: string }, cmd: Command) => {
      await withApprovals(cmd, async (api, warden) => {
        const v = await castVote(api, warden, id, opts.as, 'cancel', opts.reason, opts);
        process.stdout.write(`cancelled ${v.request.id}\n` + signedLine(v, opts.as));
      });
    });
}
