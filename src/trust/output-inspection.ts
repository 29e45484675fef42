import { reason } from '../core/decision.js';
import type { Reason } from '../core/types.js';
import type { Redactor } from '../observe/redact.js';
import { STAGE_ORDER, type Stage } from '../pipeline/stage.js';
import type { ProvenanceIndex } from './provenance/index.js';
import { urlKeyOf } from './provenance/normalise.js';
import { sessionTrust } from './session-trust.js';
import type { DomainAllowList, TrustSettings } from './settings.js';
import { combine } from './taint-stage.js';

/** Why a URL was refused. */
export type LeakKind = 'secret' | 'private-value' | 'credentials-in-url';

/** One refused URL. Never holds the URL itself: it carries the data being protected. */
export interface UrlFinding {
  host: string;
  kind: LeakKind;
  /** Where in the URL the data sat. */
  where: 'query' | 'path' | 'fragment' | 'userinfo' | 'subdomain';
}

/** What URL inspection needs to know about the session. */
export interface InspectionContext {
  allow: DomainAllowList;
  index: ProvenanceIndex;
  redactor: Redactor;
  phraseWords: number;
}

const ABSOLUTE_URL_RE = /\b(?:https?|ftp|wss?):\/\/[^\s<>"'`()[\]{}|\\^]{1,4096}/giu;
const RELATIVE_SRC_RE =
  /\b(?:src|href|srcset|action|poster|background)\s*=\s*\\?["']?(\/\/[^\s"'<>\\]{1,4096})/gi;
const MARKDOWN_IMAGE_RE =
  /!\[[^\]\n]{0,1000}\]\(\s*<?([^\s)<>]{1,4096})>?(?:\s+(?:"[^"\n]{0,500}"|'[^'\n]{0,500}'))?\s*\)/g;
// A backslash may precede the quote: HTML inside a JSON string.
const HTML_IMAGE_RE = /<img\b[^>]{0,2000}?\bsrc\s*=\s*\\?["']?([^"'\s>\\]{1,4096})/gi;
const BASE64_RE = /^[A-Za-z0-9+/_-]{16,}={0,2}$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2}){8,}$/;
const MAX_URLS = 64;
const MAX_PIECES = 64;
/** The redactor truncates at 64 KiB; secrets are checked in windows below that, overlapping so none is cut. */
const SECRET_WINDOW = 60_000;
const SECRET_OVERLAP = 1_024;

/** Absolute URLs in text, and protocol-relative ones in `src=`/`href=` attributes. At most 64. */
export function extractUrls(text: string): string[] {
  const out: string[] = [];
  if (!text.includes('//')) return out;
  ABSOLUTE_URL_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = ABSOLUTE_URL_RE.exec(text)) !== null && out.length < MAX_URLS)
    out.push(m[0].replace(/[.,;:!?'"*_~]+$/, ''));
  RELATIVE_SRC_RE.lastIndex = 0;
  while ((m = RELATIVE_SRC_RE.exec(text)) !== null && out.length < MAX_URLS)
    out.push('https:' + (m[1] ?? ''));
  ABSOLUTE_URL_RE.lastIndex = 0;
  RELATIVE_SRC_RE.lastIndex = 0;
  return out;
}

/** True when the text holds a secret: a credential pattern or an injected credential the redactor knows. */
export function containsSecret(redactor: Redactor, text: string): boolean {
  for (let i = 0; i < text.length; i += SECRET_WINDOW - SECRET_OVERLAP) {
    const w = text.slice(i, i + SECRET_WINDOW);
    if (redactor.text(w) !== w) return true;
    if (i + SECRET_WINDOW >= text.length) break;
  }
  return false;
}

function decodedVariants(piece: string): string[] {
  const out = [piece];
  if (piece.length >= 16 && BASE64_RE.test(piece)) {
    const b = Buffer.from(piece.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    if (b.length > 0 && printable(b)) out.push(b);
  }
  if (HEX_RE.test(piece)) {
    const h = Buffer.from(piece, 'hex').toString('utf8');
    if (printable(h)) out.push(h);
  }
  return out;
}

function printable(s: string): boolean {
  let ok = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x09 || c >= 0xa0) ok++;
  }
  return ok / s.length > 0.9 && !s.includes('\ufffd');
}

/**
 * Inspects one URL. A URL toward a host on the allow-list passes; so does one the session was given verbatim by a
 * tier-1, authoritative or tier-2 source (it carries nothing the agent assembled). Otherwise every piece that can
 * carry data (query names and values, path segments, fragment, user info, subdomain labels), and its base64 or hex
 * decoding, is checked for secrets and for private values the session has seen.
 */
export function inspectUrl(raw: string, ic: InspectionContext): UrlFinding | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.hostname === '' || !/^(?:https?|ftp|wss?):$/.test(u.protocol)) return undefined;
  const host = u.hostname.toLowerCase();
  if (ic.allow.allows(host)) return undefined;
  const given = urlKeyOf(u);
  if (given !== undefined) {
    const p = ic.index.key(given).provenance;
    if (p === 'tier1' || p === 'authoritative' || p === 'tier2') return undefined;
  }
  if (u.password !== '') return { host, kind: 'credentials-in-url', where: 'userinfo' };
  const pieces: [string, UrlFinding['where']][] = [];
  if (u.username !== '') pieces.push([decode(u.username), 'userinfo']);
  for (const [k, v] of u.searchParams) {
    pieces.push([k, 'query']);
    if (v !== '') pieces.push([v, 'query']);
  }
  if (u.hash.length > 1) pieces.push([decode(u.hash.slice(1)), 'fragment']);
  for (const seg of u.pathname.split('/')) if (seg !== '') pieces.push([decode(seg), 'path']);
  const labels = host.split('.');
  for (const l of labels.slice(0, -2)) pieces.push([l, 'subdomain']);
  // Secrets: one pass over the decoded URL (each piece on its own would cost a pass each).
  if (containsSecret(ic.redactor, decode(raw))) {
    const where = pieces.find(([p]) => containsSecret(ic.redactor, p))?.[1] ?? 'query';
    return { host, kind: 'secret', where };
  }
  for (const [piece, where] of pieces.slice(0, MAX_PIECES)) {
    const variants = decodedVariants(piece);
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[i] ?? '';
      if (i > 0 && containsSecret(ic.redactor, variant)) return { host, kind: 'secret', where };
      if (ic.index.carriesPrivate(variant, ic.phraseWords) !== undefined)
        return { host, kind: 'private-value', where };
    }
  }
  return undefined;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A span of text holding an image that would send data off the allow-list when rendered. */
export interface ImageSpan {
  start: number;
  end: number;
  host: string;
}

/**
 * Markdown and HTML images toward hosts off the allow-list whose URL carries data: a query, a fragment, or a
 * piece that holds a secret or a private session value. Rendering such an image sends the data without a click.
 */
export function offendingImages(text: string, ic: InspectionContext): ImageSpan[] {
  const spans: ImageSpan[] = [];
  if (!text.includes('![') && !/<img/i.test(text)) return spans;
  for (const re of [MARKDOWN_IMAGE_RE, HTML_IMAGE_RE]) {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null && spans.length < MAX_URLS) {
      const raw = m[1] ?? '';
      const url = raw.startsWith('//') ? 'https:' + raw : raw;
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        continue;
      }
      const host = u.hostname.toLowerCase();
      if (host === '' || ic.allow.allows(host)) continue;
      const carries = u.search.length > 1 || u.hash.length > 1 || inspectUrl(url, ic) !== undefined;
      if (carries) spans.push({ start: m.index, end: m.index + m[0].length, host });
    }
    re.lastIndex = 0;
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** Replaces offending images with a visible marker. */
export function stripImages(text: string, spans: readonly ImageSpan[]): string {
  let out = '';
  let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    out += text.slice(at, s.start) + `[image removed by warden: ${s.host}]`;
    at = s.end;
  }
  return out + text.slice(at);
}

const MAX_STRINGS = 512;

/** String leaves of tool arguments with their paths. Bounded in count, depth and characters. */
export function stringLeaves(args: unknown, maxChars: number): { path: string; text: string }[] {
  const state = { out: [] as { path: string; text: string }[], budget: maxChars };
  collectStrings(args, '', 0, state);
  return state.out;
}

function collectStrings(
  v: unknown,
  path: string,
  depth: number,
  st: { out: { path: string; text: string }[]; budget: number },
): void {
  if (st.out.length >= MAX_STRINGS || st.budget <= 0 || depth > 16) return;
  if (typeof v === 'string') {
    const text = v.length > st.budget ? v.slice(0, st.budget) : v;
    st.budget -= text.length;
    st.out.push({ path, text });
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) collectStrings(v[i], `${path}[${i}]`, depth + 1, st);
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v))
      collectStrings((v as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, depth + 1, st);
  }
}

/**
 * Output inspection before delivery (Domain 2, ASI01). For every tool call: links and images in any argument that
 * send secrets or private session values to hosts off the allow-list are refused (the link-preview exfiltration
 * case). For outbound tools (`outbound: true`): secrets in clear anywhere in the arguments are refused.
 */
export function outputStage(settings: TrustSettings): Stage {
  const o = settings.section.output;
  return {
    name: 'trust-output',
    order: STAGE_ORDER.trust + 10,
    kinds: ['tool.call'],
    evaluate(ctx) {
      if (!o.enabled || ctx.event.kind !== 'tool.call' || !ctx.tool) return undefined;
      const tool = settings.tool(ctx.tool);
      const leaves = stringLeaves(ctx.event.call.args, settings.section.provenance.maxCharsPerEvent);
      const st = sessionTrust(ctx.session, settings);
      const ic: InspectionContext = {
        allow: settings.allowList,
        index: st.index,
        redactor: ctx.runtime.redactor,
        phraseWords: o.phraseWords,
      };
      const leaks: (UrlFinding & { arg: string })[] = [];
      const secrets: string[] = [];
      for (const leaf of leaves) {
        if (leaf.text.includes('//')) {
          for (const url of extractUrls(leaf.text)) {
            const f = inspectUrl(url, ic);
            if (f) {
              leaks.push({ ...f, arg: leaf.path });
              break;
            }
          }
        }
        if (tool.outbound && containsSecret(ctx.runtime.redactor, leaf.text)) secrets.push(leaf.path);
      }
      const denials: Reason[] = [];
      const approvals: Reason[] = [];
      if (leaks.length > 0) {
        const hosts = [...new Set(leaks.map((l) => l.host))];
        (o.exfiltration === 'deny' ? denials : approvals).push(
          reason(
            'exfiltration',
            2,
            'ASI01',
            `a link in ${leaks[0]?.arg ?? 'the arguments'} would carry ${leaks[0]?.kind === 'private-value' ? 'private session data' : 'a secret'} to ${hosts.join(', ')}, which is not on the output allow-list`,
            {
              tool: tool.config.name,
              leaks: leaks.slice(0, 16),
            },
          ),
        );
      }
      if (secrets.length > 0) {
        (o.secrets === 'deny' ? denials : approvals).push(
          reason(
            'secret-leak',
            2,
            'ASI01',
            `${tool.config.name} sends data out and ${secrets.slice(0, 4).join(', ')} holds a secret in clear`,
            {
              tool: tool.config.name,
              args: secrets.slice(0, 16),
            },
          ),
        );
      }
      return combine(denials, approvals, {
        who: ctx.agent ? [ctx.agent.owner] : [],
        missing:
          'remove the secret or private data from the message, or add the destination to trust.output.allowDomains',
      });
    },
  };
}
