import type { WorldInput } from './scenario-schema.js';

/**
 * The digital twin's world model: the things an agent's tools would change (files, repositories,
 * deployments, messages and posts, payments, memory, credentials, host services, web pages). Simulated
 * tools read and change it; nothing real is touched. Every change is described as a `Change` so the run
 * can add up its blast radius.
 */

/** What one simulated call did (or, in a Warden run, would have done had it been allowed). */
export interface Change {
  /** The simulated effect, e.g. `deployments.create`, or `tool` for a tool without a simulator. */
  effect: string;
  /** `read` changes nothing; `send` moves data to someone; the rest change state. */
  op: 'read' | 'create' | 'update' | 'delete' | 'send';
  /** The resource, as `kind:id` (e.g. `deployment:production`, `host:attacker.example`). */
  resource: string;
  /** The organisation cannot undo it. */
  irreversible: boolean;
  /** Bytes that left to a party outside the organisation. */
  bytesOut: number;
  /** Who received the data, for `send`. */
  destination?: string;
  /** Names of world credentials whose values appear in data that left. */
  secrets: string[];
  /** One line a person understands. */
  summary: string;
}

/** A repository the world knows. `external` ones exist publicly but are not the organisation's. */
export interface Repository {
  id: string;
  name?: string | undefined;
  owner?: string | undefined;
  external: boolean;
}

/** A host service (systemd unit, launch agent...). */
export interface HostService {
  state: 'running' | 'stopped';
  unit?: string | undefined;
  enabled: boolean;
}

/** The world's state as plain data, for reports. */
export interface WorldSnapshot {
  files: Record<string, string>;
  repositories: Repository[];
  deployments: { id: string; repo: string; env: string }[];
  messages: { to: string; text: string; from?: string | undefined }[];
  posts: { thread: string; body: string; author?: string | undefined }[];
  accounts: Record<string, number>;
  payments: { id: string; from: string; to: string; amount: number }[];
  memory: Record<string, unknown>;
  credentials: string[];
  services: Record<string, HostService>;
  inbox: { from: string; to: string; payload: string }[];
}

/** Size of a string in UTF-8 bytes. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The mutable world of one scenario run. Each run gets its own copy. */
export class World {
  readonly files = new Map<string, string>();
  readonly repositories = new Map<string, Repository>();
  readonly deployments: { id: string; repo: string; env: string }[] = [];
  readonly messages: { to: string; text: string; from?: string | undefined }[] = [];
  readonly posts: { thread: string; body: string; author?: string | undefined }[] = [];
  readonly accounts = new Map<string, number>();
  readonly payments: { id: string; from: string; to: string; amount: number }[] = [];
  readonly memory = new Map<string, unknown>();
  readonly credentials = new Map<string, string>();
  readonly services = new Map<string, HostService>();
  readonly web = new Map<string, string>();
  /** Agent-to-agent messages delivered. */
  readonly inbox: { from: string; to: string; payload: string }[] = [];
  readonly answerBytes: number;
  private readonly counters = new Map<string, number>();

  constructor(input: WorldInput) {
    for (const [k, v] of Object.entries(input.files)) this.files.set(k, v);
    for (const r of input.repositories) this.repositories.set(r.id, { ...r });
    this.deployments.push(...input.deployments.map((d) => ({ ...d })));
    this.messages.push(...input.messages.map((m) => ({ ...m })));
    this.posts.push(...input.posts.map((p) => ({ ...p })));
    for (const [k, v] of Object.entries(input.accounts)) this.accounts.set(k, v);
    for (const [k, v] of Object.entries(input.memory)) this.memory.set(k, structuredClone(v));
    for (const [k, v] of Object.entries(input.credentials)) this.credentials.set(k, v);
    for (const [k, v] of Object.entries(input.services)) this.services.set(k, { ...v });
    for (const [k, v] of Object.entries(input.web)) this.web.set(k, v);
    this.answerBytes = input.model.answerBytes;
  }

  /** A fresh id like `dpl_0001`, deterministic within a run. */
  nextId(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}_${String(n).padStart(4, '0')}`;
  }

  /**
   * Names of credentials whose value appears in `text`, as is, URL-decoded or base64-encoded: the
   * encodings an exfiltration URL commonly uses.
   */
  secretsIn(text: string): string[] {
    if (this.credentials.size === 0 || text === '') return [];
    let decoded = text;
    try {
      decoded = decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      // Malformed escapes: the raw text is still searched.
    }
    const found: string[] = [];
    for (const [name, value] of this.credentials) {
      if (value.length < 6) continue;
      const b64 = Buffer.from(value, 'utf8').toString('base64').replace(/=+$/, '');
      const b64url = b64.replace(/\+/g, '-').replace(/\//g, '_');
      if (text.includes(value) || decoded.includes(value) || text.includes(b64) || text.includes(b64url))
        found.push(name);
    }
    return found;
  }

  /** The world as plain data (credential values left out). */
  snapshot(): WorldSnapshot {
    return {
      files: Object.fromEntries(this.files),
      repositories: [...this.repositories.values()],
      deployments: this.deployments.map((d) => ({ ...d })),
      messages: this.messages.map((m) => ({ ...m })),
      posts: this.posts.map((p) => ({ ...p })),
      accounts: Object.fromEntries(this.accounts),
      payments: this.payments.map((p) => ({ ...p })),
      memory: Object.fromEntries(this.memory),
      credentials: [...this.credentials.keys()],
      services: Object.fromEntries([...this.services].map(([k, v]) => [k, { ...v }])),
      inbox: this.inbox.map((m) => ({ ...m })),
    };
  }
}
