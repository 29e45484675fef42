import type { Command } from 'commander';
import type { Phase } from '../../config/schema.js';
import { WardenError } from '../../core/errors.js';
import type { LastPromotion, PhaseExplanation } from '../../maturity/explain.js';
import type { MaturityService } from '../../maturity/extension.js';
import { isPhase, PHASES, title } from '../../maturity/phases.js';
import type { PromoteOptions, PromotionResult } from '../../maturity/promotion.js';
import { signPromotion } from '../../maturity/signoff.js';
import type { Warden } from '../../warden.js';
import { APPROVER_KEY_ENV, approverKeyHint, readApproverKey } from '../approver-key.js';
import { CliExit, wardenFor, type ConfigOption } from '../context.js';
import { EXIT } from '../exit-codes.js';

async function withMaturity<T>(
  cmd: Command,
  run: (m: MaturityService, warden: Warden) => Promise<T>,
): Promise<T> {
  const warden = await wardenFor(cmd.optsWithGlobals<ConfigOption>());
  try {
    const m = warden.runtime.service<MaturityService>('maturity');
    if (!m) throw new CliExit(EXIT.internal, 'the maturity service is not running');
    return await run(m, warden);
  } catch (error) {
    if (error instanceof WardenError && ['NOT_FOUND', 'INVALID_ARGUMENT'].includes(error.code))
      throw new CliExit(EXIT.failed, error.message);
    throw error;
  } finally {
    await warden.close();
  }
}

function phaseArg(value: string): Phase {
  if (!isPhase(value))
    throw new CliExit(EXIT.usage, `unknown phase ${value}; use one of ${PHASES.join(', ')}`);
  return value;
}

function render(x: PhaseExplanation): string {
  const out: string[] = [];
  out.push(
    `${x.agent} (owner ${x.owner}) is ${title(x.phase)}${x.source === 'config' ? ' (from warden.yaml)' : x.source === 'store' ? ` (recorded; warden.yaml says ${title(x.configPhase)})` : ` (${x.source})`}`,
  );
  out.push(
    `  since ${x.since === undefined ? 'its first action (none yet)' : new Date(x.since).toISOString()}`,
  );
  if (x.lastPromotion) out.push(`  ${lastPromotionText(x.lastPromotion)}`);
  out.push(`  ${x.summary}`);
  out.push('', 'What it may do now:');
  const width = Math.max(13, ...x.tools.map((t) => t.tool.length));
  for (const t of x.tools) out.push(`  ${t.tool.padEnd(width)}  ${t.class.padEnd(12)}  ${t.now}`);
  out.push(`  ${'memory writes'.padEnd(width)}  ${''.padEnd(12)}  ${x.memoryWrites}`);
  out.push('', `Grants: ${x.grants}`);
  if (x.preApproved.length > 0) {
    out.push(
      `Pre-approved classes${x.phase === 'senior' || x.phase === 'principal' ? '' : ' (apply from Senior)'}:`,
    );
    for (const p of x.preApproved) out.push(`  ${p}`);
  }
  if (x.caps.length > 0) {
    out.push(`Caps${x.phase === 'principal' ? '' : ' (apply at Principal)'}, as counted by this process:`);
    for (const c of x.caps)
      out.push(`  ${c.cap}: ${String(c.used)} of ${String(c.limit)} ${c.unit} per ${c.per}`);
  }
  if (x.next) {
    out.push(
      '',
      `Promotion to ${title(x.next.to)}: ${x.next.ok ? 'the evidence is there (a sign-off is still needed)' : 'not yet'}`,
    );
    for (const e of x.next.evidence) out.push(`  ${e.ok ? 'yes' : 'NO '}  ${e.name}: ${e.detail}`);
    for (const m of x.next.missing)
      if (!x.next.evidence.some((e) => m.startsWith(`${e.name}:`))) out.push(`  NO   ${m}`);
  } else {
    out.push('', 'Principal is the last phase.');
  }
  if (x.history.length > 0) {
    out.push('', 'History:');
    for (const h of x.history.slice(-10))
      out.push(
        `  ${new Date(h.at).toISOString()}  ${h.from ? `${title(h.from)} -> ` : ''}${title(h.phase)}  by ${h.by}${h.signed ? ' (signed)' : ''}: ${h.reason}`,
      );
  }
  return out.join('\n');
}

/** Who signed off a sign-off, and how: with their key (which one, when) or by name only. */
function signedOffText(by: string, signed: { fingerprint: string; signedAt: number } | undefined): string {
  return signed
    ? `signed off by ${by}, signed with ${by}'s key ${signed.fingerprint} at ${new Date(signed.signedAt).toISOString()}`
    : `signed off by ${by}, unsigned (a name, no key)`;
}

function lastPromotionText(p: LastPromotion): string {
  return `last promoted ${title(p.from)} -> ${title(p.to)} at ${new Date(p.at).toISOString()}, ${signedOffText(p.by, p.signed)}`;
}

function renderPromotion(r: PromotionResult, hint: string | undefined): string {
  const out = [
    r.ok
      ? `${r.agent} promoted from ${title(r.from)} to ${title(r.to)}`
      : `promotion of ${r.agent} to ${title(r.to)} refused; missing:`,
  ];
  if (!r.ok) {
    for (const m of r.missing) out.push(`  - ${m}`);
    if (hint !== undefined) out.push(`hint: ${hint}`);
  } else {
    for (const e of r.evidence) out.push(`  yes  ${e.name}: ${e.detail}`);
    if (r.signoff) out.push(signedOffText(r.signoff.by, r.signoff.signed));
  }
  return out.join('\n');
}

/** `warden phase show | promote | demote`. */
export function registerPhase(program: Command): void {
  const phase = program
    .command('phase')
    .description('maturity phases: what an agent may do now, promotion with evidence, demotion');

  phase
    .command('show')
    .description('explain what the agent may do now and why, and what its next promotion needs')
    .argument('<agent>', 'agent id')
    .option('--json', 'print JSON')
    .action(async (agent: string, opts: { json?: boolean }, cmd: Command) => {
      await withMaturity(cmd, async (m) => {
        const x = await m.explain(agent);
        process.stdout.write((opts.json ? JSON.stringify(x) : render(x)) + '\n');
      });
    });

  phase
    .command('promote')
    .description('promote one phase up when the evidence is there; exits 1 listing what is missing otherwise')
    .argument('<agent>', 'agent id')
    .requiredOption('--to <phase>', 'junior, senior or principal (one step up)')
    .requiredOption('--signoff <name>', 'the person signing off (an entry of approvals.approvers)')
    .option('--note <text>', 'kept in the history and the ledger (and covered by the signature)')
    .option(
      '--key <file>',
      `the signer's Ed25519 private key (PKCS#8 PEM) to sign the sign-off with (default: $${APPROVER_KEY_ENV})`,
    )
    .option('--json', 'print JSON')
    .action(
      async (
        agent: string,
        opts: { to: string; signoff: string; note?: string; key?: string; json?: boolean },
        cmd: Command,
      ) => {
        const to = phaseArg(opts.to);
        const signer = readApproverKey(opts.key);
        await withMaturity(cmd, async (m, warden) => {
          const options: PromoteOptions = {};
          if (signer) {
            // Signed over the evidence as it stands now; promote() runs it again and must find the same.
            const { fields } = await m.statement(agent, to, opts.signoff, opts.note);
            options.signature = signPromotion(signer.key, fields);
          }
          const r = await m.promote(agent, to, opts.signoff, opts.note, options);
          const hint =
            r.hint === undefined
              ? undefined
              : (approverKeyHint(warden.policy.config, opts.signoff, signer, 'promote') ?? r.hint);
          process.stdout.write(
            (opts.json ? JSON.stringify(hint === undefined ? r : { ...r, hint }) : renderPromotion(r, hint)) +
              '\n',
          );
          if (!r.ok) throw new CliExit(EXIT.failed);
        });
      },
    );

  phase
    .command('demote')
    .description('demote to a lower phase (no evidence needed)')
    .argument('<agent>', 'agent id')
    .requiredOption('--to <phase>', 'a lower phase')
    .requiredOption('--by <name>', 'who demotes')
    .requiredOption('--reason <text>', 'why')
    .action(async (agent: string, opts: { to: string; by: string; reason: string }, cmd: Command) => {
      const to = phaseArg(opts.to);
      await withMaturity(cmd, async (m) => {
        const r = await m.demote(agent, to, opts.by, opts.reason);
        process.stdout.write(`${agent} demoted from ${title(r.from)} to ${title(r.to)}\n`);
      });
    });
}
