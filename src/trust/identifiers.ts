/**
 * Which arguments of a call are identifiers (the values that pick the target of an action: an account, a
 * recipient, a repository, a file, an amount). Declared per tool in `tools[].identifiers` as argument names or
 * dotted paths; when a tool declares none, names and value shapes decide.
 */

/** One identifier argument of a call. */
export interface IdentifierArg {
  /** Dotted path of the argument (`recipient`, `payment.iban`, `attachments.file_id`). */
  path: string;
  value: unknown;
}

/** How a tool's identifiers are found: declared paths, inference, or none (declared empty). */
export type IdentifierSpec =
  { kind: 'declared'; paths: readonly (readonly string[])[] } | { kind: 'inferred' } | { kind: 'none' };

/** Parses `tools[].identifiers` entries: `a.b`, `items[].id`, `items[0].id` and `items.*.id` all mean the same path. */
export function compileIdentifiers(declared: readonly string[] | undefined, infer: boolean): IdentifierSpec {
  if (declared === undefined) return infer ? { kind: 'inferred' } : { kind: 'none' };
  if (declared.length === 0) return { kind: 'none' };
  const paths = declared.map((d) =>
    d
      .replace(/\[\d*\]/g, '')
      .split('.')
      .filter((s) => s.length > 0 && s !== '*'),
  );
  return { kind: 'declared', paths: paths.filter((p) => p.length > 0) };
}

const MAX_LEAVES = 64;
const MAX_DEPTH = 6;

/** The identifier arguments of a call, in argument order. Bounded: at most 64 values. */
export function identifierArgs(args: Record<string, unknown>, spec: IdentifierSpec): IdentifierArg[] {
  const out: IdentifierArg[] = [];
  if (spec.kind === 'none') return out;
  if (spec.kind === 'declared') {
    for (const path of spec.paths) collectDeclared(args, path, 0, path.join('.'), out, 0);
    return out;
  }
  collectInferred(args, '', undefined, out, 0);
  return out;
}

function collectDeclared(
  v: unknown,
  path: readonly string[],
  i: number,
  name: string,
  out: IdentifierArg[],
  depth: number,
): void {
  if (out.length >= MAX_LEAVES || depth > MAX_DEPTH + path.length) return;
  if (Array.isArray(v)) {
    for (const item of v) collectDeclared(item, path, i, name, out, depth + 1);
    return;
  }
  if (i === path.length) {
    if (v !== null && typeof v === 'object') {
      for (const child of Object.values(v as Record<string, unknown>))
        collectDeclared(child, path, i, name, out, depth + 1);
    } else if (v !== undefined) {
      out.push({ path: name, value: v });
    }
    return;
  }
  if (v === null || typeof v !== 'object') return;
  const seg = path[i] ?? '';
  if (!Object.hasOwn(v, seg)) return;
  collectDeclared((v as Record<string, unknown>)[seg], path, i + 1, name, out, depth + 1);
}

function collectInferred(
  v: unknown,
  path: string,
  key: string | undefined,
  out: IdentifierArg[],
  depth: number,
): void {
  if (out.length >= MAX_LEAVES || depth > MAX_DEPTH) return;
  if (Array.isArray(v)) {
    for (const item of v) collectInferred(item, path, key, out, depth + 1);
    return;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      collectInferred(child, path === '' ? k : `${path}.${k}`, k, out, depth + 1);
    }
    return;
  }
  if (v === null || v === undefined || typeof v === 'boolean') return;
  const byName = key !== undefined && isIdentifierName(key);
  const byShape = typeof v === 'string' && looksLikeIdentifier(v);
  if (byName || byShape) out.push({ path, value: v });
}

const ID_WORDS = new Set(['id', 'ids', 'uuid', 'guid']);
const NAME_WORDS = new Set([
  'iban',
  'ibans',
  'bic',
  'swift',
  'account',
  'accounts',
  'acct',
  'accountnumber',
  'accountno',
  'routingnumber',
  'cardnumber',
  'card',
  'email',
  'emails',
  'mail',
  'recipient',
  'recipients',
  'to',
  'cc',
  'bcc',
  'url',
  'urls',
  'uri',
  'link',
  'links',
  'href',
  'endpoint',
  'webhook',
  'domain',
  'host',
  'hostname',
  'path',
  'paths',
  'filepath',
  'filename',
  'file',
  'files',
  'dir',
  'directory',
  'folder',
  'amount',
  'amounts',
  'price',
  'repo',
  'repository',
  'username',
  'user',
  'users',
  'channel',
  'phone',
  'phonenumber',
  'address',
  'addresses',
  'sha',
  'commit',
  'branch',
  'payee',
  'beneficiary',
  'wallet',
  'destination',
  'dest',
  'target',
]);

const nameCache = new Map<string, boolean>();

/** True for argument names that look like identifiers: `*_id`, `repoId`, `iban`, `recipient_email`, `file_path`, `amount`. */
export function isIdentifierName(key: string): boolean {
  const cached = nameCache.get(key);
  if (cached !== undefined) return cached;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
  const last = words[words.length - 1] ?? '';
  const last2 = words.slice(-2).join('');
  const hit = ID_WORDS.has(last) || NAME_WORDS.has(last) || NAME_WORDS.has(last2);
  if (nameCache.size < 10_000) nameCache.set(key, hit);
  return hit;
}

const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@.]{2,63}$/;
const URL_RE = /^[a-z][a-z0-9+.-]{0,31}:\/\/\S+$/i;
const IBAN_RE = /^[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_RE = /^[0-9a-f]{16,128}$/i;
const DIGITS_RE = /^\+?[\d\s().-]{6,40}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const PATH_RE = /^(?:~|\.{1,2})?\/[^\s]{1,1024}$|^[A-Za-z]:\\[^\n]{1,1024}$|^[\w.-]{1,255}\/[\w./-]{1,1024}$/;
const FILE_RE = /^[\w-]{1,200}\.[A-Za-z][A-Za-z0-9]{0,7}$/;

/** True for values shaped like identifiers whatever their argument name: emails, URLs, IBANs, UUIDs, long numbers, paths. */
export function looksLikeIdentifier(v: string): boolean {
  if (v.length < 3 || v.length > 2048) return false;
  const t = v.trim();
  if (EMAIL_RE.test(t) || URL_RE.test(t) || UUID_RE.test(t) || HEX_RE.test(t)) return true;
  if (IBAN_RE.test(t)) return true;
  if (DATE_RE.test(t)) return false;
  if (DIGITS_RE.test(t) && (t.match(/\d/g)?.length ?? 0) >= 6) return true;
  return PATH_RE.test(t) || FILE_RE.test(t);
}
