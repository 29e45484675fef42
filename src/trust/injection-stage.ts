import { randomUUID } from 'node:crypto';
import { deny, reason } from '../core/decision.js';
import type { Decision } from '../core/types.js';
import { STAGE_ORDER, type Stage, type StageContext } from '../pipeline/stage.js';
import type { InjectionScan } from './injection/index.js';
import { offendingImages, stripImages, type InspectionContext } from './output-inspection.js';
import { sessionTrust } from './session-trust.js';
import type { TrustSettings } from './settings.js';
import { describeSource } from './taint-stage.js';
import { labelOf } from './tiers.js';

/** The injection detector the stage uses (the one in `trust/injection/`, or a stand-in in tests). */
export interface InjectionDetector {
  scan(text: string, options: { threshold?: number; maxChars?: number }): InjectionScan;
  neutralise(text: string, scan: InjectionScan, mode: 'quote' | 'strip', source: string): string;
}

/**
 * Text of content for scanning: strings as they are, other values as JSON written with bounds (depth 64, the
 * character budget), so hostile nesting or cycles give a clear, shorter text instead of a stack overflow.
 */
export function textOf(content: unknown, maxChars: number): string {
  if (typeof content === 'string') return content;
  const parts: string[] = [];
  let used = 0;
  const put = (s: string): boolean => {
    if (used >= maxChars) return false;
    const piece = s.length > maxChars - used ? s.slice(0, maxChars - used) : s;
    parts.push(piece);
    used += piece.length;
    return used < maxChars;
  };
  const seen = new Set<object>();
  const write = (v: unknown, depth: number): boolean => {
    if (v === null || v === undefined) return put('null');
    switch (typeof v) {
      case 'string':
        return put(JSON.stringify(v));
      case 'number':
        return put(Number.isFinite(v) ? String(v) : 'null');
      case 'boolean':
        return put(v ? 'true' : 'false');
      case 'bigint':
        return put(JSON.stringify(v.toString()));
      case 'object': {
        if (depth >= 64 || seen.has(v)) return put('"[truncated]"');
        seen.add(v);
        let ok: boolean;
        if (Array.isArray(v)) {
          ok = put('[');
          v.forEach((x: unknown, i) => {
            if (ok && i > 0) ok = put(',');
            if (ok) ok = write(x, depth + 1);
          });
          ok = ok && put(']');
        } else if (v instanceof Date) {
          ok = put(JSON.stringify(Number.isNaN(v.getTime()) ? null : v.toISOString()));
        } else {
          ok = put('{');
          let first = true;
          for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
            if (!ok) break;
            if (typeof x === 'function' || x === undefined) continue;
            ok = (first || put(',')) && put(JSON.stringify(k) + ':') && write(x, depth + 1);
            first = false;
          }
          ok = ok && put('}');
        }
        seen.delete(v);
        return ok;
      }
      default:
        return put('null');
    }
  };
  write(content, 0);
  return parts.join('');
}

const MAX_PENDING_SCANS = 64;

/**
 * Content inspection for what enters the context (Domain 2, ASI01): prompt-injection detection in untrusted
 * content, and images in tool results that would send data off the allow-list when rendered.
 *
 * `trust.injection.action` decides what a flagged injection does:
 * - `flag`: the verdict stays `allow` and the content is unchanged; the findings go to the ledger as a
 *   `trust.injection` record that names the event; the session is tainted 3, the content's values lose any
 *   authority, and consequential calls need approval (`injection.approveAfter`: the next one, or all of them until
 *   the next tier-1 turn);
 * - `quote` / `strip`: as `flag`, and the decision's `content` is the neutralised text to use instead;
 * - `block`: `deny`; the content must not enter the context.
 */
export function injectionStage(settings: TrustSettings, detector: InjectionDetector): Stage {
  const inj = settings.section.injection;
  const out = settings.section.output;
  return {
    name: 'trust-content',
    order: STAGE_ORDER.trust + 5,
    kinds: ['ingest', 'tool.result', 'message'],
    evaluate(ctx) {
      const e = ctx.event;
      if (e.kind !== 'ingest' && e.kind !== 'tool.result' && e.kind !== 'message') return undefined;
      const label = labelOf(e, ctx.tool ? settings.tool(ctx.tool) : undefined, settings, ctx.policy);
      if (!label) return undefined;
      // Authoritative and echo results do not taint, so a flag is the only thing that would restrict what follows.
      const scanIt =
        inj.enabled && (inj.tiers.includes(label.tier) || (inj.scanTrusted && label.taint < label.tier));
      const images = e.kind === 'tool.result' && out.enabled && out.resultImages !== 'allow';
      if (!scanIt && !images) return undefined;
      const content =
        e.kind === 'ingest' ? e.content.text : e.kind === 'message' ? e.message.payload : e.result;
      const original = textOf(content, Math.max(inj.maxChars, settings.section.provenance.maxCharsPerEvent));
      let text = original;
      const st = sessionTrust(ctx.session, settings);
      if (scanIt) {
        const options: { threshold?: number; maxChars?: number } = { maxChars: inj.maxChars };
        if (inj.threshold !== undefined) options.threshold = inj.threshold;
        const scan = detector.scan(text, options);
        if (scan.flagged) {
          const rules = [
            ...new Set([...scan.findings].sort((a, b) => b.score - a.score).map((f) => f.rule)),
          ].slice(0, 8);
          if (st.scans.size >= MAX_PENDING_SCANS) st.scans.clear();
          st.scans.set(ctx.eventId, { flagged: true, score: scan.score, rules, action: inj.action });
          const where = describeSource(label.source);
          if (inj.action === 'block') {
            return deny(
              reason(
                'injection',
                2,
                'ASI01',
                `prompt injection detected in ${where} (score ${scan.score.toFixed(2)}); the content is blocked`,
                {
                  score: scan.score,
                  rules,
                  families: scan.families,
                },
              ),
            );
          }
          if (inj.action === 'quote' || inj.action === 'strip')
            text = detector.neutralise(text, scan, inj.action, where);
        }
      }
      if (images) {
        const ic: InspectionContext = {
          allow: settings.allowList,
          index: st.index,
          redactor: ctx.runtime.redactor,
          phraseWords: out.phraseWords,
        };
        const spans = offendingImages(text, ic);
        if (spans.length > 0) {
          const hosts = [...new Set(spans.map((s) => s.host))];
          if (out.resultImages === 'deny') {
            return deny(
              reason(
                'exfiltration',
                2,
                'ASI01',
                `the result shows images that would send data to ${hosts.join(', ')} when rendered`,
                {
                  tool: e.call.tool,
                  hosts: hosts.slice(0, 16),
                },
              ),
            );
          }
          text = stripImages(text, spans);
        }
      }
      return text === original ? undefined : { verdict: 'allow', reasons: [], content: text };
    },
    observe(ctx, decision) {
      record(ctx, decision, settings);
    },
  };
}

/** After the decision: a flagged injection taints the session, arms the next-call approval and goes to the ledger. */
function record(ctx: StageContext, decision: Decision, settings: TrustSettings): void {
  const st = sessionTrust(ctx.session, settings);
  const scan = st.scans.get(ctx.eventId);
  if (!scan) return;
  st.scans.delete(ctx.eventId);
  const e = ctx.event;
  if (e.kind !== 'ingest' && e.kind !== 'tool.result' && e.kind !== 'message') return;
  const label = labelOf(e, ctx.tool ? settings.tool(ctx.tool) : undefined, settings, ctx.policy);
  if (!label) return;
  const entered = decision.verdict === 'allow' || decision.verdict === 'approve';
  st.flag(
    {
      eventId: ctx.eventId,
      source: label.source,
      score: scan.score,
      rules: scan.rules,
      action: scan.action,
      at: ctx.now,
    },
    entered,
    settings.section.injection.approveAfter !== 'off',
  );
  // A flagged injection is tier-3 content whatever its source said.
  st.raise(ctx.session, 3, label.source);
  const a = ctx.event.actor;
  ctx.runtime.ledger.enqueue({
    id: randomUUID(),
    ts: ctx.now,
    mono: process.hrtime.bigint().toString(),
    type: 'trust.injection',
    agent: a.agent,
    session: a.session,
    user: a.user ?? null,
    task: a.task ?? null,
    tool: e.kind === 'tool.result' ? e.call.tool : null,
    verdict: decision.verdict,
    data: ctx.runtime.redactor.value({
      event: ctx.eventId,
      action: scan.action,
      score: scan.score,
      rules: scan.rules,
      source: label.source,
    }),
  });
}
