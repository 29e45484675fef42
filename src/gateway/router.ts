/**
 * The interceptor: one client connection, proxied at the JSON-RPC message level to one or more upstream
 * servers. Everything that is not a tool call passes through (initialize, capabilities, resources, prompts,
 * notifications, progress, cancellation, pings, logging, completions); `tools/list` is filtered and pinned,
 * `tools/call` goes through `Session.authorize` before it reaches a server and its result through
 * `record`, and `resources/read` results are `ingest` events.
 *
 * Every id is remapped in both directions, so ids the client reuses or invents never reach a server, and
 * replies nobody asked for are dropped. The router never throws out of a message handler: bad input becomes
 * a JSON-RPC error, and a handler that fails answers with an internal error.
 */
import { randomUUID } from 'node:crypto';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Phase } from '../config/schema.js';
import type { Decision, Tier, ToolCall } from '../core/types.js';
import type { Session } from '../session.js';
import type { ToolDefinition } from '../supply-chain/tool-definitions/index.js';
import type { Warden } from '../warden.js';
import { holdForApproval } from './approval-hold.js';
import { ContentCatalog, ToolCatalog, type ToolEntry } from './catalog.js';
import { isBlocked, reviewDefinitions, statusReasons, type DefinitionPolicy } from './definitions.js';
import { attachGatewaySlot } from './extension.js';
import {
  classify,
  errorResponse,
  errorText,
  isPlainObject,
  notification,
  progressTokenOf,
  request,
  resultResponse,
  RPC,
  type JSONRPCMessage,
  type RequestId,
  type RpcNotification,
  type RpcRequest,
  type RpcResponse,
} from './jsonrpc.js';
import { plainRefusal, refusalResult, replacedResult } from './results.js';
import type { SecretStripper } from './secrets.js';
import { grantCheck, hiddenBecause } from './tool-filter.js';
import { isMalformedMessageError } from './transports.js';
import { Upstream, type UpstreamSpec } from './upstream.js';

/** Options of a connection that come from `gateway:` in warden.yaml. */
export interface RouterSettings extends DefinitionPolicy {
  namespace: 'auto' | 'always';
  unknownTools: 'hide' | 'show';
  approvals: {
    via: 'auto' | 'elicitation' | 'queue';
    timeoutMs: number;
    progressIntervalMs: number;
    as?: string | undefined;
  };
  maxTools: number;
  /** Requests one client may have in flight. */
  maxInFlight: number;
}

/** What a connection is made of. */
export interface ConnectionOptions {
  warden: Warden;
  agent: string;
  /** Session id; absent means the transport's MCP session id (HTTP) or a fresh UUID (stdio). */
  sessionId?: string;
  user?: string;
  upstreams: readonly UpstreamSpec[];
  settings: RouterSettings;
  secrets: SecretStripper;
  /** Diagnostics (stderr). */
  log: (line: string) => void;
  /** Name and version the gateway gives itself when several servers are merged. */
  serverInfo?: { name: string; version: string };
}

/** A client request the gateway is working on. */
interface Inbound {
  id: RequestId;
  method: string;
  /** Made on first use (only an approval hold listens): most calls never need one, and each costs. */
  abort: AbortController | undefined;
  /** Why the request was stopped, once it was. */
  stopped: Error | undefined;
  /** The request forwarded upstream, for cancellation. */
  forwarded: { up: Upstream; id: number } | undefined;
  progressToken: string | number | undefined;
  /** The client cancelled it: no reply is sent. */
  cancelled: boolean;
}

/** A request the gateway sent to the client. */
type Outbound =
  | { kind: 'forward'; up: Upstream; upId: RequestId; method: string }
  | { kind: 'own'; resolve: (r: RpcResponse) => void };

/** Methods a client may send, and how each is handled. Anything else gets "method not found". */
const CLIENT_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
]);

/** Requests a server may send to the client through the gateway. */
const SERVER_METHODS = new Set(['ping', 'sampling/createMessage', 'elicitation/create', 'roots/list']);

const MAX_PAGES = 100;
/** Messages held while the session initializes. */
const MAX_EARLY = 100;

/** One client connection and the upstream connections it owns. */
export class GatewayConnection {
  readonly agent: string;
  private readonly warden: Warden;
  private readonly opts: ConnectionOptions;
  private readonly settings: RouterSettings;
  private readonly log: (line: string) => void;
  private client: Transport | undefined;
  private readonly ups: Upstream[];
  private session: Session | undefined;
  private sessionId: string | undefined;
  private initState: 'no' | 'initializing' | 'yes' = 'no';
  private clientInit: Record<string, unknown> = {};
  private readonly inbound = new Map<RequestId, Inbound>();
  private readonly outbound = new Map<number, Outbound>();
  private nextClientId = 1;
  private readonly progressOwner = new Map<string | number, RequestId>();
  private readonly tools = new ToolCatalog();
  private readonly content = new ContentCatalog();
  private contentBuilt = false;
  private refreshing: Promise<void> | undefined;
  private readonly tasks = new Set<Promise<unknown>>();
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly closeListeners: (() => void)[] = [];
  private killListener: (() => void) | undefined;
  private draining = false;
  private early: unknown[] = [];

  constructor(opts: ConnectionOptions) {
    this.opts = opts;
    this.warden = opts.warden;
    this.agent = opts.agent;
    this.settings = opts.settings;
    this.log = opts.log;
    this.ups = opts.upstreams.map(
      (spec) =>
        new Upstream(spec, {
          onRequest: (up, msg) => {
            this.fromUpstreamRequest(up, msg);
          },
          onNotification: (up, msg) => {
            this.fromUpstreamNotification(up, msg);
          },
          onRestarted: (up) => {
            this.upstreamRestarted(up);
          },
          log: (t) => {
            this.log(t);
          },
        }),
    );
    if (this.ups.length === 0) throw new TypeError('a gateway connection needs at least one upstream server');
  }

  /** The Warden session of this connection, once the client initialized. */
  get wardenSession(): Session | undefined {
    return this.session;
  }

  /** Requests of the client still being worked on. */
  get inFlight(): number {
    return this.inbound.size;
  }

  /** Called once the connection closed (either side). */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** Attaches the client transport and starts it. */
  async connect(client: Transport): Promise<void> {
    this.client = client;
    client.onmessage = (message: unknown) => {
      this.fromClient(message);
    };
    client.onerror = (error: Error) => {
      this.clientError(error);
    };
    client.onclose = () => {
      this.close().catch((e: unknown) => {
        this.log(`closing the connection failed: ${errorText(e)}`);
      });
    };
    await client.start();
  }

  /**
   * Handles one message from the client. Public so tests and fuzzers can drive the router directly; it
   * never throws.
   */
  fromClient(message: unknown): void {
    try {
      this.dispatchClient(message);
    } catch (error) {
      this.log(`internal error handling a client message: ${errorText(error)}`);
      const c = classify(message);
      if (c.kind === 'request')
        this.sendClient(errorResponse(c.msg.id, RPC.internalError, 'internal error in the gateway'));
    }
  }

  /** A pin was approved or forgotten elsewhere: re-judge at the next list and tell the client. */
  toolsChangedElsewhere(): void {
    this.tools.stale = true;
    if (this.initState === 'yes' && !this.closed)
      this.sendClient(notification('notifications/tools/list_changed'));
  }

  /**
   * The client stopped sending (stdin ended): finish what is in flight, within `graceMs`, then close. A
   * client that writes its requests and closes its end still gets its answers.
   */
  async drainAndClose(graceMs = 10_000): Promise<void> {
    this.draining = true;
    const end = Date.now() + graceMs;
    // Finishing one request can start others (messages held during initialize), so wait until none is left.
    while (this.tasks.size > 0 && Date.now() < end) await waitBounded([...this.tasks], end - Date.now());
    await this.close();
  }

  /** Closes the connection: cancels what is in flight, waits for the ledger records, stops the upstreams. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  // ---------------------------------------------------------------- client → gateway

  private dispatchClient(message: unknown, replayed = false): void {
    if (this.closed || (this.draining && !replayed)) return;
    const c = classify(message);
    if (
      this.initState === 'initializing' &&
      (c.kind === 'request' || c.kind === 'notification') &&
      c.msg.method !== 'initialize'
    ) {
      // A client that does not wait for the initialize reply: hold its messages (bounded) and replay them after.
      if (this.early.length < MAX_EARLY) this.early.push(message);
      else if (c.kind === 'request')
        this.sendClient(errorResponse(c.msg.id, RPC.invalidRequest, 'the session is still initializing'));
      return;
    }
    switch (c.kind) {
      case 'invalid':
        if (c.answer)
          this.sendClient(errorResponse(c.id, RPC.invalidRequest, `invalid request: ${c.problem}`));
        else this.log(`dropped a malformed response from the client (${c.problem})`);
        return;
      case 'response':
        this.clientResponse(c.msg);
        return;
      case 'notification':
        this.clientNotification(c.msg);
        return;
      case 'request':
        this.clientRequest(c.msg);
    }
  }

  private clientError(error: Error): void {
    const malformed = isMalformedMessageError(error);
    if (malformed === 'parse')
      this.sendClient(errorResponse(undefined, RPC.parseError, 'parse error: the message is not JSON'));
    else if (malformed === 'shape')
      this.sendClient(
        errorResponse(undefined, RPC.invalidRequest, 'invalid request: not a JSON-RPC 2.0 message'),
      );
    else this.log(`client transport: ${error.message}`);
  }

  private clientRequest(msg: RpcRequest): void {
    if (this.inbound.has(msg.id)) {
      this.sendClient(
        errorResponse(
          msg.id,
          RPC.invalidRequest,
          `request id ${JSON.stringify(msg.id)} is already in use by a request in flight`,
        ),
      );
      return;
    }
    if (!CLIENT_METHODS.has(msg.method)) {
      this.sendClient(
        errorResponse(msg.id, RPC.methodNotFound, `method not found: ${msg.method.slice(0, 100)}`),
      );
      return;
    }
    if (this.inbound.size >= this.settings.maxInFlight) {
      this.sendClient(
        errorResponse(
          msg.id,
          RPC.invalidRequest,
          `too many requests in flight (limit ${this.settings.maxInFlight})`,
        ),
      );
      return;
    }
    if (msg.method === 'ping' && this.initState !== 'yes') {
      this.sendClient(resultResponse(msg.id, {}));
      return;
    }
    if (msg.method !== 'initialize' && this.initState !== 'yes') {
      this.sendClient(
        errorResponse(msg.id, RPC.invalidRequest, 'the session is not initialized; send initialize first'),
      );
      return;
    }
    const entry: Inbound = {
      id: msg.id,
      method: msg.method,
      abort: undefined,
      stopped: undefined,
      forwarded: undefined,
      progressToken: progressTokenOf(msg.params),
      cancelled: false,
    };
    this.inbound.set(msg.id, entry);
    if (entry.progressToken !== undefined) this.progressOwner.set(entry.progressToken, msg.id);
    const params = msg.params ?? {};
    let work: Promise<void> | undefined;
    switch (msg.method) {
      case 'initialize':
        work = this.initialize(entry, params);
        break;
      case 'tools/list':
        work = this.toolsList(entry);
        break;
      case 'tools/call':
        work = this.toolsCall(entry, params);
        break;
      case 'resources/read':
        work = this.resourcesRead(entry, params);
        break;
      default:
        work = this.passThrough(entry, msg);
    }
    this.track(entry, work);
  }

  private track(entry: Inbound, work: Promise<void>): void {
    const p = work.catch((error: unknown) => {
      this.log(`internal error in ${entry.method}: ${errorText(error)}`);
      this.reply(entry, errorResponse(entry.id, RPC.internalError, 'internal error in the gateway'));
    });
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p));
  }

  private clientNotification(msg: RpcNotification): void {
    const params = msg.params ?? {};
    switch (msg.method) {
      case 'notifications/initialized':
        for (const up of this.ups) up.notify('notifications/initialized');
        return;
      case 'notifications/cancelled': {
        const id = params.requestId;
        if (typeof id !== 'string' && typeof id !== 'number') return;
        const entry = this.inbound.get(id);
        if (!entry || entry.method === 'initialize') return;
        const why =
          typeof params.reason === 'string' ? params.reason.slice(0, 500) : 'cancelled by the client';
        this.cancelEntry(entry, why);
        return;
      }
      default:
        // Client notifications (progress for a server's request, roots changed, ...) go to every server.
        // Only `notifications/*` are passed: a notification named like a request never reaches a server.
        if (!msg.method.startsWith('notifications/')) return;
        if (this.initState !== 'yes') return;
        for (const up of this.ups) up.notify(msg.method, msg.params);
    }
  }

  private clientResponse(msg: RpcResponse): void {
    if (typeof msg.id !== 'number') {
      this.log(
        `the client answered request ${JSON.stringify(msg.id)}, which the gateway never sent; dropped`,
      );
      return;
    }
    const out = this.outbound.get(msg.id);
    if (!out) {
      this.log(`the client answered request ${msg.id}, which is not pending; dropped`);
      return;
    }
    this.outbound.delete(msg.id);
    if (out.kind === 'own') {
      out.resolve(msg);
      return;
    }
    const reply: JSONRPCMessage = msg.error
      ? { jsonrpc: '2.0', id: out.upId, error: msg.error }
      : { jsonrpc: '2.0', id: out.upId, result: msg.result ?? {} };
    out.up.reply(reply);
  }

  private cancelEntry(entry: Inbound, why: string): void {
    entry.cancelled = true;
    stopEntry(entry, new Error(why));
    if (entry.forwarded) entry.forwarded.up.cancel(entry.forwarded.id, why);
  }

  // ---------------------------------------------------------------- lifecycle

  private async initialize(entry: Inbound, params: Record<string, unknown>): Promise<void> {
    if (this.initState !== 'no') {
      this.reply(entry, errorResponse(entry.id, RPC.invalidRequest, 'already initialized'));
      return;
    }
    if (typeof params.protocolVersion !== 'string' || !isPlainObject(params.capabilities ?? {})) {
      this.reply(
        entry,
        errorResponse(entry.id, RPC.invalidParams, 'initialize needs protocolVersion and capabilities'),
      );
      return;
    }
    this.initState = 'initializing';
    this.clientInit = params;
    const upParams = withoutTasks(params);
    const replies = await Promise.all(this.ups.map((up) => up.initialize(upParams)));
    if (entry.cancelled || this.closed) return;
    const ok = replies.filter(
      (r): r is RpcResponse & { result: Record<string, unknown> } => r.result !== undefined,
    );
    if (ok.length === 0) {
      this.initState = 'no';
      queueMicrotask(() => {
        this.replayEarly();
      });
      const first = replies[0]?.error ?? { code: RPC.internalError, message: 'no upstream server answered' };
      this.reply(entry, errorResponse(entry.id, first.code, first.message, first.data));
      return;
    }
    replies.forEach((r, i) => {
      if (r.error) this.log(`upstream ${this.ups[i]?.name ?? '?'} failed to initialize: ${r.error.message}`);
    });
    this.openSession();
    const result =
      this.ups.length === 1 && ok[0] ? withoutTasks(ok[0].result) : this.mergeInit(ok.map((r) => r.result));
    this.initState = 'yes';
    this.reply(entry, resultResponse(entry.id, this.opts.secrets.value(result)));
    this.replayEarly();
  }

  private replayEarly(): void {
    const held = this.early;
    this.early = [];
    for (const m of held) {
      try {
        this.dispatchClient(m, true);
      } catch (error) {
        this.log(`internal error handling a client message: ${errorText(error)}`);
      }
    }
  }

  private openSession(): void {
    const sid = this.opts.sessionId ?? this.client?.sessionId ?? randomUUID();
    this.sessionId = sid;
    this.session = this.warden.session({
      agent: this.agent,
      session: sid,
      ...(this.opts.user === undefined ? {} : { user: this.opts.user }),
    });
    attachGatewaySlot(this.session.state, {
      statusOf: (server, tool) =>
        server === undefined ? undefined : this.tools.byServer(server, tool)?.status,
    });
    const signal = this.session.signal;
    const onKill = () => {
      this.killed(signal.reason);
    };
    if (signal.aborted) onKill();
    else {
      signal.addEventListener('abort', onKill, { once: true });
      this.killListener = () => {
        signal.removeEventListener('abort', onKill);
      };
    }
  }

  /** A kill switch covering this session engaged: stop every call in flight. */
  private killed(why: unknown): void {
    const text = why instanceof Error ? why.message : 'kill switch engaged';
    for (const entry of this.inbound.values()) {
      if (entry.method !== 'tools/call') continue;
      if (entry.forwarded) entry.forwarded.up.cancel(entry.forwarded.id, text);
      stopEntry(entry, new Error(text));
    }
  }

  private mergeInit(results: Record<string, unknown>[]): Record<string, unknown> {
    const versions = results
      .map((r) => (typeof r.protocolVersion === 'string' ? r.protocolVersion : ''))
      .filter(Boolean);
    const requested =
      typeof this.clientInit.protocolVersion === 'string' ? this.clientInit.protocolVersion : '';
    const protocolVersion = versions.every((v) => v === versions[0])
      ? (versions[0] ?? requested)
      : [...versions].sort()[0];
    const capabilities: Record<string, unknown> = {};
    for (const r of results) {
      const caps = isPlainObject(r.capabilities) ? r.capabilities : {};
      for (const [k, v] of Object.entries(caps)) {
        if (k === 'tasks') continue;
        const prev = capabilities[k];
        capabilities[k] =
          isPlainObject(prev) && isPlainObject(v) ? mergeFlags(prev, v) : isPlainObject(v) ? { ...v } : v;
      }
    }
    const instructions = results
      .map((r, i) =>
        typeof r.instructions === 'string' && r.instructions
          ? `[${this.ups[i]?.name ?? i}] ${r.instructions}`
          : '',
      )
      .filter(Boolean)
      .join('\n\n');
    const info = this.opts.serverInfo ?? { name: 'warden-gateway', version: '0' };
    return { protocolVersion, capabilities, serverInfo: info, ...(instructions ? { instructions } : {}) };
  }

  private upstreamRestarted(up: Upstream): void {
    this.tools.stale = true;
    this.contentBuilt = false;
    if (this.initState !== 'yes') return;
    const caps = isPlainObject(up.initResult?.capabilities) ? up.initResult.capabilities : {};
    if (caps.tools !== undefined) this.sendClient(notification('notifications/tools/list_changed'));
    if (caps.prompts !== undefined) this.sendClient(notification('notifications/prompts/list_changed'));
    if (caps.resources !== undefined) this.sendClient(notification('notifications/resources/list_changed'));
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    this.killListener?.();
    for (const entry of this.inbound.values()) {
      entry.cancelled = true;
      stopEntry(entry, new Error('the client disconnected'));
      if (entry.forwarded) entry.forwarded.up.cancel(entry.forwarded.id, 'the client disconnected');
    }
    for (const out of this.outbound.values()) {
      if (out.kind === 'own')
        out.resolve({
          jsonrpc: '2.0',
          id: 0,
          error: { code: RPC.connectionClosed, message: 'the client disconnected' },
        });
    }
    this.outbound.clear();
    // Handlers finish their ledger records (a cancelled call is recorded as an error) before the upstreams go.
    await waitBounded([...this.tasks], 5_000);
    await Promise.all(this.ups.map((u) => u.close()));
    if (this.sessionId !== undefined) this.warden.endSession(this.sessionId);
    try {
      await this.client?.close();
    } catch {
      // The transport is already gone.
    }
    for (const l of this.closeListeners) {
      try {
        l();
      } catch (error) {
        this.log(`close listener failed: ${errorText(error)}`);
      }
    }
  }

  // ---------------------------------------------------------------- upstream → client

  private fromUpstreamRequest(up: Upstream, msg: RpcRequest): void {
    if (!SERVER_METHODS.has(msg.method) || this.closed) {
      up.reply(
        errorResponse(
          msg.id,
          RPC.methodNotFound,
          `method not found through the gateway: ${msg.method.slice(0, 100)}`,
        ),
      );
      return;
    }
    const cid = this.nextClientId++;
    this.outbound.set(cid, { kind: 'forward', up, upId: msg.id, method: msg.method });
    this.sendClient(request(cid, msg.method, this.opts.secrets.value(msg.params)), this.relatedFor(up));
  }

  private fromUpstreamNotification(up: Upstream, msg: RpcNotification): void {
    if (this.closed || !msg.method.startsWith('notifications/')) return;
    const params = msg.params;
    switch (msg.method) {
      case 'notifications/progress': {
        const token = params?.progressToken;
        const owner =
          typeof token === 'string' || typeof token === 'number' ? this.progressOwner.get(token) : undefined;
        // Progress for a token the client never issued is dropped: it cannot be related to anything.
        if (owner === undefined) return;
        this.sendClient(notification(msg.method, this.opts.secrets.value(params)), owner);
        return;
      }
      case 'notifications/cancelled': {
        // The server gave up one of its own requests to the client: translate the id.
        const upId = params?.requestId;
        for (const [cid, out] of this.outbound) {
          if (out.kind === 'forward' && out.up === up && out.upId === upId) {
            this.outbound.delete(cid);
            this.sendClient(notification(msg.method, { ...params, requestId: cid }));
            break;
          }
        }
        return;
      }
      case 'notifications/tools/list_changed':
        this.tools.stale = true;
        break;
      case 'notifications/prompts/list_changed':
      case 'notifications/resources/list_changed':
        this.contentBuilt = false;
        break;
    }
    this.sendClient(notification(msg.method, this.opts.secrets.value(params)), this.relatedFor(up));
  }

  /** The client request a server's message most likely belongs to: the one request in flight there, if exactly one. */
  private relatedFor(up: Upstream): RequestId | undefined {
    let found: RequestId | undefined;
    for (const e of this.inbound.values()) {
      if (e.forwarded?.up !== up) continue;
      if (found !== undefined) return undefined;
      found = e.id;
    }
    return found;
  }

  // ---------------------------------------------------------------- pass-through

  private get single(): Upstream | undefined {
    return this.ups.length === 1 ? this.ups[0] : undefined;
  }

  /** Forwards a request to one server and its reply back, with ids remapped and secrets stripped. */
  private async forward(
    entry: Inbound,
    up: Upstream,
    method: string,
    params: Record<string, unknown> | undefined,
  ): Promise<RpcResponse> {
    const call = up.call(method, params);
    entry.forwarded = { up, id: call.id };
    const reply = await call.response;
    entry.forwarded = undefined;
    return reply;
  }

  private replyWith(entry: Inbound, reply: RpcResponse): void {
    if (reply.error)
      this.reply(
        entry,
        errorResponse(
          entry.id,
          reply.error.code,
          this.opts.secrets.text(reply.error.message),
          this.opts.secrets.value(reply.error.data),
        ),
      );
    else this.reply(entry, resultResponse(entry.id, this.opts.secrets.value(reply.result ?? {})));
  }

  private async passThrough(entry: Inbound, msg: RpcRequest): Promise<void> {
    const single = this.single;
    if (single) {
      this.replyWith(entry, await this.forward(entry, single, msg.method, msg.params));
      return;
    }
    await this.multiServer(entry, msg);
  }

  private async multiServer(entry: Inbound, msg: RpcRequest): Promise<void> {
    const params = msg.params ?? {};
    switch (msg.method) {
      case 'ping':
        this.reply(entry, resultResponse(entry.id, {}));
        return;
      case 'logging/setLevel':
        for (const up of this.ups.filter((u) => this.has(u, 'logging')))
          void up.call('logging/setLevel', params).response;
        this.reply(entry, resultResponse(entry.id, {}));
        return;
      case 'prompts/list': {
        await this.buildContent();
        const prompts: Record<string, unknown>[] = [];
        for (const p of this.content.prompts.values()) {
          const def = this.promptDefs.get(p.up)?.get(p.name);
          if (def) prompts.push({ ...def, name: p.exposed });
        }
        this.reply(entry, resultResponse(entry.id, this.opts.secrets.value({ prompts })));
        return;
      }
      case 'resources/list':
        await this.buildContent();
        this.reply(
          entry,
          resultResponse(entry.id, this.opts.secrets.value({ resources: this.resourceList })),
        );
        return;
      case 'resources/templates/list':
        await this.buildContent();
        this.reply(
          entry,
          resultResponse(entry.id, this.opts.secrets.value({ resourceTemplates: this.templateList })),
        );
        return;
      case 'prompts/get': {
        await this.buildContent();
        const p = typeof params.name === 'string' ? this.content.prompts.get(params.name) : undefined;
        if (!p) {
          this.reply(
            entry,
            errorResponse(
              entry.id,
              RPC.invalidParams,
              `unknown prompt ${JSON.stringify(String(params.name)).slice(0, 120)}`,
            ),
          );
          return;
        }
        this.replyWith(entry, await this.forward(entry, p.up, 'prompts/get', { ...params, name: p.name }));
        return;
      }
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const up = await this.routeResource(params.uri);
        if (!up) {
          this.reply(entry, errorResponse(entry.id, RPC.resourceNotFound, 'no server offers this resource'));
          return;
        }
        this.replyWith(entry, await this.forward(entry, up, msg.method, params));
        return;
      }
      case 'completion/complete': {
        const ref = isPlainObject(params.ref) ? params.ref : {};
        if (ref.type === 'ref/prompt') {
          await this.buildContent();
          const p = typeof ref.name === 'string' ? this.content.prompts.get(ref.name) : undefined;
          if (!p) {
            this.reply(entry, errorResponse(entry.id, RPC.invalidParams, 'unknown prompt'));
            return;
          }
          this.replyWith(
            entry,
            await this.forward(entry, p.up, msg.method, { ...params, ref: { ...ref, name: p.name } }),
          );
          return;
        }
        const up = await this.routeResource(ref.uri);
        if (!up) {
          this.reply(entry, errorResponse(entry.id, RPC.invalidParams, 'no server offers this reference'));
          return;
        }
        this.replyWith(entry, await this.forward(entry, up, msg.method, params));
        return;
      }
      default:
        this.reply(entry, errorResponse(entry.id, RPC.methodNotFound, `method not found: ${msg.method}`));
    }
  }

  private has(up: Upstream, capability: string): boolean {
    const caps = up.initResult?.capabilities;
    return up.initResult !== undefined && isPlainObject(caps) && caps[capability] !== undefined;
  }

  private promptDefs = new Map<Upstream, Map<string, Record<string, unknown>>>();
  private resourceList: Record<string, unknown>[] = [];
  private templateList: Record<string, unknown>[] = [];

  /** Lists prompts, resources and templates of every server (several-server mode only). */
  private async buildContent(): Promise<void> {
    if (this.contentBuilt) return;
    const promptItems: { up: Upstream; name: string }[] = [];
    this.promptDefs = new Map();
    this.resourceList = [];
    this.templateList = [];
    this.content.resources = new Map();
    this.content.templates = [];
    await Promise.all(
      this.ups.map(async (up) => {
        if (this.has(up, 'prompts')) {
          const defs = new Map<string, Record<string, unknown>>();
          for (const p of await this.listAll(up, 'prompts/list', 'prompts')) {
            if (typeof p.name !== 'string' || defs.has(p.name)) continue;
            defs.set(p.name, p);
            promptItems.push({ up, name: p.name });
          }
          this.promptDefs.set(up, defs);
        }
        if (this.has(up, 'resources')) {
          for (const r of await this.listAll(up, 'resources/list', 'resources')) {
            if (typeof r.uri !== 'string' || this.content.resources.has(r.uri)) continue;
            this.content.resources.set(r.uri, up);
            this.resourceList.push(r);
          }
          for (const t of await this.listAll(up, 'resources/templates/list', 'resourceTemplates')) {
            if (typeof t.uriTemplate !== 'string') continue;
            this.content.addTemplate(t.uriTemplate, up);
            this.templateList.push(t);
          }
        }
      }),
    );
    this.content.setPrompts(promptItems, this.settings.namespace);
    this.contentBuilt = true;
  }

  private async routeResource(uri: unknown): Promise<Upstream | undefined> {
    if (typeof uri !== 'string') return undefined;
    const single = this.single;
    if (single) return single;
    await this.buildContent();
    const found = this.content.routeUri(uri);
    if (found) return found;
    const withResources = this.ups.filter((u) => this.has(u, 'resources'));
    return withResources.length === 1 ? withResources[0] : undefined;
  }

  /** Every page of a list, up to `maxTools` items. A failing server contributes nothing (and is logged). */
  private async listAll(up: Upstream, method: string, key: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const reply = await up.call(method, cursor === undefined ? {} : { cursor }).response;
      if (reply.error || !reply.result) {
        this.log(`${method} on ${up.name} failed: ${reply.error?.message ?? 'no result'}`);
        break;
      }
      const list = reply.result[key];
      if (Array.isArray(list)) for (const it of list) if (isPlainObject(it)) items.push(it);
      if (items.length >= this.settings.maxTools) {
        this.log(`${up.name} lists more than ${this.settings.maxTools} ${key}; the rest is ignored`);
        items.length = this.settings.maxTools;
        break;
      }
      const next = reply.result.nextCursor;
      if (typeof next !== 'string' || next === '' || next === cursor) break;
      cursor = next;
    }
    return items;
  }

  // ---------------------------------------------------------------- tools

  private phase(): Phase | undefined {
    const maturity = this.warden.runtime.service<{ phaseOf?: (agent: string) => Phase }>('maturity');
    if (maturity && typeof maturity.phaseOf === 'function') {
      try {
        return maturity.phaseOf(this.agent);
      } catch {
        // Fall back to the configured phase.
      }
    }
    return this.warden.policy.agent(this.agent)?.phase;
  }

  /** Lists every server's tools, judges the definitions and rebuilds the catalog. Coalesces concurrent calls. */
  private refreshTools(): Promise<void> {
    this.refreshing ??= this.doRefreshTools().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefreshTools(): Promise<void> {
    const lists = new Map<string, ToolDefinition[]>();
    const raw = new Map<string, Record<string, unknown>[]>();
    await Promise.all(
      this.ups.map(async (up) => {
        if (!this.has(up, 'tools') && up.initResult !== undefined) return;
        const items = (await this.listAll(up, 'tools/list', 'tools')).filter(
          (t) => typeof t.name === 'string' && t.name.length > 0,
        );
        raw.set(up.name, items);
        lists.set(up.name, items as unknown as ToolDefinition[]);
      }),
    );
    const statuses = await reviewDefinitions(this.warden.runtime, lists, this.settings, {
      agent: this.agent,
      session: this.sessionId ?? '',
    });
    const granted = grantCheck(this.warden.runtime.service('actions'), this.agent);
    const filter = {
      policy: this.warden.policy,
      agent: this.agent,
      phase: this.phase(),
      unknownTools: this.settings.unknownTools,
      ...(granted === undefined ? {} : { granted }),
    };
    const entries: Omit<ToolEntry, 'exposed'>[] = [];
    for (const up of this.ups) {
      for (const def of raw.get(up.name) ?? []) {
        const name = def.name as string;
        const status = statuses.get(up.name)?.get(name);
        const hidden = hiddenBecause(filter, up.name, name, status);
        entries.push({ server: up.name, name, def, status, hidden, up });
      }
    }
    const { dropped } = this.tools.replace(entries, this.settings.namespace);
    if (dropped.length > 0)
      this.log(`tools not exposed because their names collide even when namespaced: ${dropped.join(', ')}`);
  }

  private async toolsList(entry: Inbound): Promise<void> {
    await this.refreshTools();
    const tools = this.tools
      .all()
      .filter((t) => t.hidden === undefined)
      .map((t) => (t.exposed === t.name ? t.def : { ...t.def, name: t.exposed }));
    this.reply(entry, resultResponse(entry.id, this.opts.secrets.value({ tools })));
  }

  /**
   * The tier passed with a result. Tiers only go down from the tool's own (declared, or 2 when authoritative,
   * else 3): an `openWorldHint` tool whose config gives no tier is tier 3, and the server's `tier` is a ceiling.
   */
  private tierFor(t: ToolEntry): Tier | undefined {
    const cfg = this.warden.policy.tool(t.name, t.server);
    const annotations = isPlainObject(t.def.annotations) ? t.def.annotations : {};
    const openWorld = annotations.openWorldHint === true && cfg?.tier === undefined && !cfg?.authoritative;
    return openWorld ? 3 : t.up.spec.tier;
  }

  private async toolsCall(entry: Inbound, params: Record<string, unknown>): Promise<void> {
    const session = this.session;
    if (!session) {
      this.reply(entry, errorResponse(entry.id, RPC.invalidRequest, 'the session is not initialized'));
      return;
    }
    const name = params.name;
    const args = params.arguments ?? {};
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
      this.reply(entry, errorResponse(entry.id, RPC.invalidParams, 'tools/call needs a tool name'));
      return;
    }
    if (!isPlainObject(args)) {
      this.reply(entry, errorResponse(entry.id, RPC.invalidParams, 'tools/call arguments must be an object'));
      return;
    }
    if (params.task !== undefined) {
      this.reply(
        entry,
        errorResponse(
          entry.id,
          RPC.invalidParams,
          'task-augmented tool calls are not supported through the Warden gateway',
        ),
      );
      return;
    }
    if (this.tools.stale || !this.tools.built) {
      try {
        await this.refreshTools();
      } catch (error) {
        this.log(`could not list tools before a call: ${errorText(error)}`);
      }
    }
    const target = this.tools.resolve(name);
    const meta = isPlainObject(params._meta) ? params._meta : {};
    const rationale =
      typeof meta['agent-warden/rationale'] === 'string' ? meta['agent-warden/rationale'] : undefined;
    const server = target?.server ?? this.single?.name;
    const call: ToolCall = {
      tool: target?.name ?? name,
      args,
      callId: String(entry.id),
      ...(server === undefined ? {} : { server }),
      ...(rationale === undefined ? {} : { rationale: rationale.slice(0, 4_000) }),
    };
    const redact = (t: string) => this.opts.secrets.text(this.warden.runtime.redactor.text(t));

    let decision = await session.authorize(call);
    if (entry.cancelled) return;
    if (decision.verdict === 'approve') {
      const outcome = await holdForApproval(
        {
          runtime: this.warden.runtime,
          state: session.state,
          agent: this.agent,
          via: this.settings.approvals.via,
          clientCapabilities: this.clientInit.capabilities,
          approverName: this.settings.approvals.as ?? `mcp-client:${clientNameOf(this.clientInit)}`,
          timeoutMs: this.settings.approvals.timeoutMs,
          progressIntervalMs: this.settings.approvals.progressIntervalMs,
          signal: anySignal(signalOf(entry), session.signal),
          elicit: (p, signal) => this.askClient('elicitation/create', p, entry.id, signal),
          progress: (message) => {
            this.progressTo(entry, message);
          },
          log: (t) => {
            this.log(t);
          },
        },
        call,
        decision,
      );
      if (entry.cancelled) return;
      if (outcome.verdict === 'refused') {
        this.reply(
          entry,
          resultResponse(
            entry.id,
            plainRefusal(`The call to ${name} did not run: ${outcome.message}.`, redact),
          ),
        );
        return;
      }
      // Re-submit the exact call: the pipeline redeems the granted approval once, for these arguments only.
      decision = await session.authorize(call);
      if (entry.cancelled) return;
    }
    if (decision.verdict === 'allow' && target && isBlocked(target.status) && target.status) {
      // The pipeline has no gateway stage (a custom extension list): the gateway still refuses.
      const reasons = statusReasons(target.server, target.name, target.status);
      decision = { ...decision, verdict: 'deny', reasons };
      await this.warden.runtime.audit('gateway.call.blocked', {
        agent: this.agent,
        session: this.sessionId ?? null,
        data: { server: target.server, tool: target.name, reasons },
      });
    }
    if (decision.verdict !== 'allow') {
      this.reply(entry, resultResponse(entry.id, refusalResult(name, decision, redact)));
      return;
    }
    if (!target) {
      await session.record(call, { error: 'no upstream server offers this tool' }, { isError: true });
      this.reply(
        entry,
        resultResponse(
          entry.id,
          plainRefusal(`No server behind the gateway offers a tool named ${name}.`, redact),
        ),
      );
      return;
    }
    const upParams: Record<string, unknown> = { ...params, name: target.name };
    const reply = await this.forward(entry, target.up, 'tools/call', upParams);
    if (session.signal.aborted && !entry.cancelled) {
      await session.record(call, { error: 'halted by a kill switch while running' }, { isError: true });
      this.reply(
        entry,
        resultResponse(
          entry.id,
          plainRefusal(
            `Warden halted the call to ${name}: a kill switch engaged while it ran, and the server was told to stop.`,
            redact,
          ),
        ),
      );
      return;
    }
    if (reply.error || !reply.result) {
      const err = reply.error ?? { code: RPC.internalError, message: 'no result' };
      await session.record(call, { error: { code: err.code, message: err.message } }, { isError: true });
      this.replyWith(entry, { jsonrpc: '2.0', id: entry.id, error: err });
      return;
    }
    const result = reply.result;
    const tier = this.tierFor(target);
    const recorded = await session.record(call, result, {
      isError: result.isError === true,
      ...(tier === undefined ? {} : { tier }),
    });
    if (entry.cancelled) return;
    if (recorded.verdict !== 'allow') {
      this.reply(
        entry,
        resultResponse(
          entry.id,
          refusalResult(name, recorded, redact, `The call to ${name} ran, but Warden withheld its result.`),
        ),
      );
      return;
    }
    const shown = recorded.content !== undefined ? replacedResult(result, recorded.content) : result;
    this.reply(entry, resultResponse(entry.id, this.opts.secrets.value(shown)));
  }

  // ---------------------------------------------------------------- resources

  private async resourcesRead(entry: Inbound, params: Record<string, unknown>): Promise<void> {
    const session = this.session;
    const uri = params.uri;
    if (!session || typeof uri !== 'string') {
      this.reply(entry, errorResponse(entry.id, RPC.invalidParams, 'resources/read needs a uri'));
      return;
    }
    const up = await this.routeResource(uri);
    if (!up) {
      this.reply(
        entry,
        errorResponse(entry.id, RPC.resourceNotFound, 'no server behind the gateway offers this resource', {
          uri,
        }),
      );
      return;
    }
    const reply = await this.forward(entry, up, 'resources/read', params);
    if (reply.error || !reply.result) {
      this.replyWith(entry, reply);
      return;
    }
    const contents = Array.isArray(reply.result.contents) ? reply.result.contents : [];
    const out: unknown[] = [];
    for (const item of contents) {
      if (!isPlainObject(item)) continue;
      const text =
        typeof item.text === 'string'
          ? item.text
          : `[binary resource ${typeof item.mimeType === 'string' ? item.mimeType : ''} ${typeof item.blob === 'string' ? Math.floor((item.blob.length * 3) / 4) : 0} bytes]`;
      const d: Decision = await session.ingest({
        source: `mcp:${up.name}`,
        text,
        ref: typeof item.uri === 'string' ? item.uri.slice(0, 1_000) : uri.slice(0, 1_000),
        ...(up.spec.tier === undefined ? {} : { tier: up.spec.tier }),
      });
      if (entry.cancelled) return;
      if (d.verdict !== 'allow') {
        const why = d.reasons.map((r) => `${r.message} [${r.control}]`).join('; ');
        this.reply(
          entry,
          errorResponse(
            entry.id,
            RPC.withheld,
            this.opts.secrets.text(
              this.warden.runtime.redactor.text(`Warden withheld this resource: ${why}`),
            ),
            { uri },
          ),
        );
        return;
      }
      out.push(
        d.content !== undefined && typeof item.text === 'string' ? { ...item, text: d.content } : item,
      );
    }
    this.reply(entry, resultResponse(entry.id, this.opts.secrets.value({ ...reply.result, contents: out })));
  }

  // ---------------------------------------------------------------- sending

  private reply(entry: Inbound, message: JSONRPCMessage): void {
    const current = this.inbound.get(entry.id);
    if (current === entry) {
      this.inbound.delete(entry.id);
      if (entry.progressToken !== undefined && this.progressOwner.get(entry.progressToken) === entry.id)
        this.progressOwner.delete(entry.progressToken);
    }
    if (entry.cancelled || this.closed) return;
    this.sendClient(message);
  }

  private sendClient(message: JSONRPCMessage, relatedRequestId?: RequestId): void {
    const c = this.client;
    if (!c || this.closed) return;
    try {
      const p = relatedRequestId === undefined ? c.send(message) : c.send(message, { relatedRequestId });
      p.catch((error: unknown) => {
        this.log(`could not send to the client: ${errorText(error)}`);
      });
    } catch (error) {
      this.log(`could not send to the client: ${errorText(error)}`);
    }
  }

  /** Sends a request of the gateway's own to the client (elicitation) and waits for the reply. */
  private askClient(
    method: string,
    params: Record<string, unknown>,
    related: RequestId,
    signal: AbortSignal,
  ): Promise<RpcResponse> {
    const cid = this.nextClientId++;
    return new Promise<RpcResponse>((resolve) => {
      const done = (r: RpcResponse) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onAbort = () => {
        if (this.outbound.delete(cid))
          this.sendClient(
            notification('notifications/cancelled', { requestId: cid, reason: 'no longer needed' }),
          );
        done({ jsonrpc: '2.0', id: cid, error: { code: RPC.requestTimeout, message: 'cancelled' } });
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.outbound.set(cid, { kind: 'own', resolve: done });
      this.sendClient(request(cid, method, params), related);
    });
  }

  private progressCount = 0;

  private progressTo(entry: Inbound, message: string): void {
    if (entry.progressToken === undefined) return;
    this.sendClient(
      notification('notifications/progress', {
        progressToken: entry.progressToken,
        progress: ++this.progressCount,
        message,
      }),
      entry.id,
    );
  }
}

function withoutTasks(obj: Record<string, unknown>): Record<string, unknown> {
  // Task-augmented requests would let a tool's result arrive through tasks/result, outside the pipeline:
  // the capability is removed in both directions so neither side offers or uses it.
  const caps = obj.capabilities;
  if (!isPlainObject(caps) || caps.tasks === undefined) return obj;
  const rest = { ...caps };
  delete rest.tasks;
  return { ...obj, capabilities: rest };
}

function mergeFlags(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] = typeof v === 'boolean' && typeof out[k] === 'boolean' ? out[k] || v : (out[k] ?? v);
  return out;
}

function clientNameOf(init: Record<string, unknown>): string {
  const info = isPlainObject(init.clientInfo) ? init.clientInfo : {};
  return typeof info.name === 'string' ? info.name.slice(0, 100) : 'unknown';
}

/** Stops a client request: its signal (if anyone asked for it) aborts, and a later one starts aborted. */
function stopEntry(entry: Inbound, why: Error): void {
  entry.stopped ??= why;
  entry.abort?.abort(why);
}

/** The abort signal of a client request, made on first use. */
function signalOf(entry: Inbound): AbortSignal {
  if (!entry.abort) {
    entry.abort = new AbortController();
    if (entry.stopped) entry.abort.abort(entry.stopped);
  }
  return entry.abort.signal;
}

function anySignal(...signals: AbortSignal[]): AbortSignal {
  return AbortSignal.any(signals);
}

async function waitBounded(promises: Promise<unknown>[], ms: number): Promise<void> {
  if (promises.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((r) => {
      timer = setTimeout(r, ms);
      timer.unref?.();
    }),
  ]);
  if (timer) clearTimeout(timer);
}
