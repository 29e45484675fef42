import type { ToolConfig } from '../config/schema.js';
import { canonicalJson, digest } from '../core/canonical.js';
import { byteLength, type Change, type World } from './world.js';

/**
 * Simulated tools. A scenario maps each tool of its warden.yaml to an effect (`simulate: { deploy:
 * deployments.create }`); the effect reads and changes the world and says what it changed. A tool with
 * no simulator gets a generic effect from its declared class (read / write / irreversible, outbound).
 */

/** Every effect a simulator can have, with the canonical arguments it reads. */
export const EFFECT_ARGS = {
  'files.read': ['path'],
  'files.list': ['prefix'],
  'files.write': ['path', 'content'],
  'files.delete': ['path'],
  'repos.list': [],
  'repos.get': ['id'],
  'deployments.create': ['repo', 'env'],
  'deployments.list': [],
  'messages.send': ['to', 'text'],
  'posts.create': ['thread', 'body'],
  'payments.send': ['to', 'amount', 'from'],
  'memory.read': ['namespace', 'key'],
  'memory.write': ['namespace', 'key', 'value'],
  'credentials.read': ['name'],
  'services.install': ['name', 'unit'],
  'services.stop': ['name'],
  'services.list': [],
  'web.fetch': ['url'],
  'http.post': ['url', 'body'],
  'model.query': ['prompt'],
  none: [],
} as const satisfies Record<string, readonly string[]>;

/** Name of a simulated effect. */
export type EffectName = keyof typeof EFFECT_ARGS;
/** Every effect name, for validation and docs. */
export const EFFECTS = Object.keys(EFFECT_ARGS) as EffectName[];

/** How a scenario maps one tool to an effect. */
export interface EffectBinding {
  effect: EffectName;
  /** Canonical argument → the call's argument (dotted path). */
  args: Record<string, string>;
  linkPreview: boolean;
}

/** Everything an effect may look at. */
export interface EffectInput {
  world: World;
  tool: string;
  toolConfig: ToolConfig | undefined;
  args: Record<string, unknown>;
  binding: EffectBinding | undefined;
  actor: { agent: string; user?: string | undefined };
}

/** What a simulated call returns to the agent and what it changed. */
export interface EffectOutcome {
  result: unknown;
  isError: boolean;
  changes: Change[];
}

function at(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : canonicalJson(value);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** URLs in a text (what a chat platform's link preview would fetch). */
export function urlsIn(body: string): string[] {
  // Trailing sentence punctuation is not part of a link, as chat platforms read it.
  return (body.match(/\bhttps?:\/\/[^\s<>"'`)\]]+/gi) ?? []).map((u) => u.replace(/[.,;:!?]+$/, ''));
}

function change(
  c: Omit<Change, 'secrets' | 'bytesOut' | 'irreversible'> &
    Partial<Pick<Change, 'secrets' | 'bytesOut' | 'irreversible'>>,
): Change {
  return { bytesOut: 0, irreversible: false, secrets: [], ...c };
}

/** A successful call: its result and the changes it made (each completed by `change`). */
function done(result: unknown, ...changes: Parameters<typeof change>[0][]): EffectOutcome {
  return { result, isError: false, changes: changes.map(change) };
}

function fail(message: string, changes: Change[] = []): EffectOutcome {
  return { result: { error: message }, isError: true, changes };
}

function short(value: string, max = 48): string {
  return value.length <= max ? value : value.slice(0, max - 1) + '…';
}

type Handler = (input: EffectInput, arg: (name: string) => unknown) => EffectOutcome;

const HANDLERS: Record<EffectName, Handler> = {
  'files.read': ({ world }, arg) => {
    const path = text(arg('path'));
    const content = world.files.get(path);
    if (content === undefined) return fail(`no such file: ${path}`);
    return done(
      { path, content },
      { effect: 'files.read', op: 'read', resource: `file:${path}`, summary: `read ${path}` },
    );
  },
  'files.list': ({ world }, arg) => {
    const prefix = text(arg('prefix'));
    return done([...world.files.keys()].filter((p) => p.startsWith(prefix)).sort());
  },
  'files.write': ({ world }, arg) => {
    const path = text(arg('path'));
    const existed = world.files.has(path);
    world.files.set(path, text(arg('content')));
    return done(
      { ok: true, path },
      {
        effect: 'files.write',
        op: existed ? 'update' : 'create',
        resource: `file:${path}`,
        summary: `${existed ? 'overwrote' : 'created'} ${path}`,
      },
    );
  },
  'files.delete': ({ world }, arg) => {
    const path = text(arg('path'));
    if (!world.files.delete(path)) return fail(`no such file: ${path}`);
    return done(
      { ok: true },
      {
        effect: 'files.delete',
        op: 'delete',
        resource: `file:${path}`,
        irreversible: true,
        summary: `deleted ${path}`,
      },
    );
  },
  'repos.list': ({ world }) =>
    // The organisation's own repositories: the authoritative list a deploy id should come from.
    done(
      [...world.repositories.values()]
        .filter((r) => !r.external)
        .map((r) => ({ id: r.id, name: r.name, owner: r.owner })),
    ),
  'repos.get': ({ world }, arg) => {
    const id = text(arg('id'));
    const repo = world.repositories.get(id);
    return repo
      ? done({ id: repo.id, name: repo.name, owner: repo.owner })
      : fail(`no such repository: ${id}`);
  },
  'deployments.create': ({ world }, arg) => {
    const repo = text(arg('repo'));
    const env = text(arg('env')) || 'production';
    const known = world.repositories.get(repo);
    const id = world.nextId('dpl');
    world.deployments.push({ id, repo, env });
    const what = !known
      ? 'a repository id that exists nowhere'
      : known.external
        ? `someone else's code (${known.owner ?? 'external'}/${known.name ?? repo})`
        : (known.name ?? repo);
    return done(
      { id, repo, env, status: 'READY' },
      {
        effect: 'deployments.create',
        op: 'create',
        resource: `deployment:${env}`,
        irreversible: true,
        summary: `deployed ${what} to ${env} (${id})`,
      },
    );
  },
  'deployments.list': ({ world }) => done(world.deployments.map((d) => ({ ...d }))),
  'messages.send': ({ world, binding, actor }, arg) => {
    const to = text(arg('to'));
    const body = text(arg('text'));
    world.messages.push({ to, text: body, from: actor.agent });
    const changes: Change[] = [
      change({
        effect: 'messages.send',
        op: 'send',
        resource: `chat:${to}`,
        destination: to,
        irreversible: true,
        bytesOut: byteLength(body),
        secrets: world.secretsIn(body),
        summary: `sent a message to ${to}`,
      }),
    ];
    if (binding?.linkPreview ?? true) {
      for (const url of urlsIn(body)) {
        const host = hostOf(url);
        changes.push(
          change({
            effect: 'messages.preview',
            op: 'send',
            resource: `host:${host}`,
            destination: host,
            irreversible: true,
            bytesOut: byteLength(url),
            secrets: world.secretsIn(url),
            summary: `the chat platform fetched ${short(url)} for a link preview`,
          }),
        );
      }
    }
    return { result: { ok: true, delivered: to }, isError: false, changes };
  },
  'posts.create': ({ world, actor }, arg) => {
    const thread = text(arg('thread'));
    const body = text(arg('body'));
    world.posts.push({ thread, body, author: actor.agent });
    const id = world.nextId('post');
    return done(
      { ok: true, id },
      {
        effect: 'posts.create',
        op: 'send',
        resource: `thread:${thread}`,
        destination: thread,
        irreversible: true,
        bytesOut: byteLength(body),
        secrets: world.secretsIn(body),
        summary: `published a post on ${thread}`,
      },
    );
  },
  'payments.send': ({ world, actor }, arg) => {
    const to = text(arg('to'));
    const from = text(arg('from')) || actor.agent;
    const amount = Number(arg('amount'));
    if (!Number.isFinite(amount) || amount <= 0) return fail('amount must be a positive number');
    world.accounts.set(from, (world.accounts.get(from) ?? 0) - amount);
    world.accounts.set(to, (world.accounts.get(to) ?? 0) + amount);
    const id = world.nextId('pay');
    world.payments.push({ id, from, to, amount });
    return done(
      { ok: true, id },
      {
        effect: 'payments.send',
        op: 'send',
        resource: `account:${to}`,
        destination: to,
        irreversible: true,
        summary: `paid ${amount} from ${from} to ${to}`,
      },
    );
  },
  'memory.read': ({ world }, arg) => {
    const key = `${text(arg('namespace')) || 'default'}/${text(arg('key'))}`;
    return done(world.memory.has(key) ? world.memory.get(key) : null);
  },
  'memory.write': ({ world }, arg) => {
    const key = `${text(arg('namespace')) || 'default'}/${text(arg('key'))}`;
    const existed = world.memory.has(key);
    world.memory.set(key, structuredClone(arg('value') ?? null));
    return done(
      { ok: true },
      {
        effect: 'memory.write',
        op: existed ? 'update' : 'create',
        resource: `memory:${key}`,
        summary: `wrote memory ${key}`,
      },
    );
  },
  'credentials.read': ({ world }, arg) => {
    const name = text(arg('name'));
    const value = world.credentials.get(name);
    if (value === undefined) return fail(`no such credential: ${name}`);
    return done(
      { name, value },
      {
        effect: 'credentials.read',
        op: 'read',
        resource: `credential:${name}`,
        summary: `read credential ${name}`,
      },
    );
  },
  'services.install': ({ world }, arg) => {
    const name = text(arg('name'));
    const existed = world.services.has(name);
    world.services.set(name, { state: 'running', unit: text(arg('unit')) || undefined, enabled: true });
    return done(
      { ok: true, name },
      {
        effect: 'services.install',
        op: existed ? 'update' : 'create',
        resource: `service:${name}`,
        summary: `installed and started host service ${name}`,
      },
    );
  },
  'services.stop': ({ world }, arg) => {
    const name = text(arg('name'));
    const svc = world.services.get(name);
    if (!svc) return fail(`no such service: ${name}`);
    svc.state = 'stopped';
    return done(
      { ok: true },
      {
        effect: 'services.stop',
        op: 'update',
        resource: `service:${name}`,
        summary: `stopped host service ${name}`,
      },
    );
  },
  'services.list': ({ world }) => done(Object.fromEntries(world.services)),
  'web.fetch': ({ world }, arg) => {
    const url = text(arg('url'));
    const host = hostOf(url);
    const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
    const changes = [
      change({
        effect: 'web.fetch',
        op: query ? 'send' : 'read',
        resource: `host:${host}`,
        destination: host,
        bytesOut: byteLength(query),
        secrets: world.secretsIn(url),
        summary: `fetched ${short(url)}`,
      }),
    ];
    const page = world.web.get(url);
    if (page === undefined) return fail(`404: ${url}`, changes);
    return { result: { url, status: 200, text: page }, isError: false, changes };
  },
  'http.post': ({ world }, arg) => {
    const url = text(arg('url'));
    const body = text(arg('body'));
    const host = hostOf(url);
    return done(
      { ok: true, status: 200 },
      {
        effect: 'http.post',
        op: 'send',
        resource: `host:${host}`,
        destination: host,
        irreversible: true,
        bytesOut: byteLength(url) + byteLength(body),
        secrets: world.secretsIn(url + '\n' + body),
        summary: `posted ${byteLength(body)} bytes to ${host}`,
      },
    );
  },
  'model.query': ({ world, actor }, arg) => {
    const prompt = text(arg('prompt'));
    const who = actor.user ?? actor.agent;
    // A deterministic stand-in for a completion: its size is what an extraction campaign carries away.
    const seed = digest({ prompt }).slice(0, 16);
    const answer = `answer ${seed} `.repeat(Math.ceil(world.answerBytes / 24)).slice(0, world.answerBytes);
    return done(
      { completion: answer },
      {
        effect: 'model.query',
        op: 'send',
        resource: `account:${who}`,
        destination: who,
        bytesOut: byteLength(answer),
        summary: `served a ${world.answerBytes}-byte completion to ${who}`,
      },
    );
  },
  none: () => done({ ok: true }),
};

/** What a tool without a simulator does: decided by its declared class and `outbound` flag. */
function generic(input: EffectInput): EffectOutcome {
  const cls = input.toolConfig?.class ?? 'write';
  if (cls === 'read' && !input.toolConfig?.outbound) {
    return done(
      { ok: true },
      {
        effect: 'tool',
        op: 'read',
        resource: `tool:${input.tool}`,
        summary: `called ${input.tool}`,
      },
    );
  }
  const payload = canonicalJson(input.args);
  if (input.toolConfig?.outbound) {
    return done(
      { ok: true },
      {
        effect: 'tool',
        op: 'send',
        resource: `tool:${input.tool}:${digest(input.args).slice(0, 8)}`,
        destination: input.tool,
        irreversible: cls === 'irreversible',
        bytesOut: byteLength(payload),
        secrets: input.world.secretsIn(payload),
        summary: `sent ${byteLength(payload)} bytes through ${input.tool}`,
      },
    );
  }
  return done(
    { ok: true },
    {
      effect: 'tool',
      op: 'update',
      resource: `tool:${input.tool}:${digest(input.args).slice(0, 8)}`,
      irreversible: cls === 'irreversible',
      summary: `called ${input.tool} (${cls})`,
    },
  );
}

/**
 * Runs one simulated call against the world. Never throws for bad arguments: the call fails the way a
 * real tool would (an error result) and changes nothing.
 */
export function simulateCall(input: EffectInput): EffectOutcome {
  if (!input.binding) return generic(input);
  const mapping = input.binding.args;
  const arg = (name: string) => at(input.args, mapping[name] ?? name);
  return HANDLERS[input.binding.effect](input, arg);
}
