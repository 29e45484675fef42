/**
 * One upstream MCP server as the gateway's router sees it: a supervised JSON-RPC peer. It owns the id space
 * towards that server, times requests out, turns an exit or a broken connection into error replies for
 * every pending request, and restarts a crashed stdio server on the next request (within a budget),
 * replaying the initialize handshake so the client never notices more than the failed requests.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tier } from '../core/types.js';
import {
  classify,
  errorText,
  notification,
  request,
  RPC,
  type JSONRPCMessage,
  type RequestId,
  type RpcNotification,
  type RpcRequest,
  type RpcResponse,
} from './jsonrpc.js';

/** How to reach one upstream server. */
export interface UpstreamSpec {
  name: string;
  kind: 'stdio' | 'http';
  /** Creates a fresh, unstarted transport; called again for each restart. */
  connect: () => Transport | Promise<Transport>;
  /** Trust tier of this server's results when the tool's own config gives none. */
  tier?: Tier;
  /** Longest wait for one reply, ms. */
  timeoutMs: number;
  /** Longest wait for the answer to initialize after a start or restart, ms (the longer of this and `timeoutMs`). */
  startTimeoutMs?: number;
  /** Restarts allowed per window for a crashed stdio server. */
  restart: { maxRestarts: number; windowMs: number };
}

/** What the upstream hands back to the router. */
export interface UpstreamEvents {
  /** A request from the server (sampling, elicitation, roots, ping). */
  onRequest(up: Upstream, msg: RpcRequest): void;
  /** A notification from the server (progress, logging, list changes). */
  onNotification(up: Upstream, msg: RpcNotification): void;
  /** The server was restarted and initialized again after a crash. */
  onRestarted(up: Upstream): void;
  /** Diagnostics for stderr. */
  log(text: string): void;
}

/** A request sent to the upstream: its id there and the reply (always resolves, never rejects). */
export interface UpstreamCall {
  readonly id: number;
  readonly response: Promise<RpcResponse>;
  /** True once the request was written to the upstream (cancellation is only forwarded then). */
  readonly sent: boolean;
}

interface Pending {
  method: string;
  resolve: (r: RpcResponse) => void;
  timer: NodeJS.Timeout | undefined;
  sent: boolean;
}

type State = 'idle' | 'starting' | 'ready' | 'down' | 'closed';

/** A supervised connection to one upstream server. */
export class Upstream {
  readonly name: string;
  readonly spec: UpstreamSpec;
  /** The server's initialize result (capabilities, serverInfo, instructions), once initialized. */
  initResult: Record<string, unknown> | undefined;
  private readonly events: UpstreamEvents;
  private transport: Transport | undefined;
  private state: State = 'idle';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private initParams: Record<string, unknown> | undefined;
  private starting: Promise<void> | undefined;
  private readonly crashes: number[] = [];
  private lastExit = '';
  private generation = 0;

  constructor(spec: UpstreamSpec, events: UpstreamEvents) {
    this.name = spec.name;
    this.spec = spec;
    this.events = events;
  }

  /** Requests waiting for a reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Whether the server is connected and initialized. */
  get ready(): boolean {
    return this.state === 'ready';
  }

  /**
   * Connects and initializes with the client's own initialize params (so the server sees the client's
   * capabilities and protocol version). Resolves with the server's reply, success or error.
   */
  async initialize(params: Record<string, unknown>): Promise<RpcResponse> {
    this.initParams = params;
    try {
      await this.open();
    } catch (error) {
      this.state = 'down';
      return this.fail(
        0,
        RPC.connectionClosed,
        `upstream ${this.name} could not be started: ${errorText(error)}`,
      );
    }
    const reply = await this.handshake();
    if (reply.error) this.state = 'down';
    return reply;
  }

  /** Sends a request. The reply always resolves: an exit, a timeout or a cancellation become error replies. */
  call(
    method: string,
    params: Record<string, unknown> | undefined,
    options: { timeoutMs?: number } = {},
  ): UpstreamCall {
    const id = this.nextId++;
    let resolve!: (r: RpcResponse) => void;
    const response = new Promise<RpcResponse>((r) => (resolve = r));
    const entry: Pending = { method, resolve, timer: undefined, sent: false };
    this.pending.set(id, entry);
    const timeoutMs = options.timeoutMs ?? this.spec.timeoutMs;
    entry.timer = setTimeout(() => {
      this.timeout(id, timeoutMs);
    }, timeoutMs);
    entry.timer.unref?.();
    const handle = {
      id,
      response,
      get sent() {
        return entry.sent;
      },
    };
    if (this.state === 'ready') this.write(id, entry, method, params);
    else {
      this.ensureReady().then(
        () => {
          if (this.pending.get(id) === entry) this.write(id, entry, method, params);
        },
        (error: unknown) => {
          this.settle(id, this.fail(id, RPC.connectionClosed, errorText(error)));
        },
      );
    }
    return handle;
  }

  /** Forgets a request and tells the server to stop (if it was sent). The reply resolves as cancelled. */
  cancel(id: number, reason: string): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    if (entry.sent && this.state === 'ready')
      this.notify('notifications/cancelled', { requestId: id, reason });
    this.settle(id, this.fail(id, RPC.requestTimeout, `request cancelled: ${reason}`));
  }

  /** Sends a notification; dropped (and logged) when the server is not connected. */
  notify(method: string, params?: Record<string, unknown>): void {
    if (this.state !== 'ready' || !this.transport) return;
    this.sendRaw(notification(method, params));
  }

  /** Answers a request the server made (its id, its space). */
  reply(message: JSONRPCMessage): void {
    if (this.state !== 'ready' || !this.transport) return;
    this.sendRaw(message);
  }

  /** Closes the connection (stops a stdio server) and fails whatever is pending. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.failAll(`the gateway closed its connection to ${this.name}`);
    const t = this.transport;
    this.transport = undefined;
    if (t) await t.close().catch(() => undefined);
  }

  private async ensureReady(): Promise<void> {
    if (this.state === 'ready') return;
    if (this.state === 'closed') throw new Error(`upstream ${this.name} is closed`);
    if (!this.initParams) throw new Error(`upstream ${this.name} is not initialized`);
    if (this.starting) return this.starting;
    const now = Date.now();
    while (this.crashes.length > 0 && (this.crashes[0] ?? 0) < now - this.spec.restart.windowMs)
      this.crashes.shift();
    if (this.spec.kind === 'stdio' && this.crashes.length > this.spec.restart.maxRestarts) {
      throw new Error(
        `upstream ${this.name} is down (${this.lastExit}); it crashed ${this.crashes.length} times within ${this.spec.restart.windowMs} ms, so it is not restarted`,
      );
    }
    this.events.log(`restarting upstream ${this.name} (${this.lastExit})`);
    await this.open();
    const reply = await this.handshake();
    if (reply.error) {
      this.state = 'down';
      throw new Error(`upstream ${this.name} refused to initialize again: ${reply.error.message}`);
    }
    this.events.onRestarted(this);
  }

  private open(): Promise<void> {
    if (this.starting) return this.starting;
    this.state = 'starting';
    const gen = ++this.generation;
    const previous = this.transport;
    this.transport = undefined;
    const run = async () => {
      // A transport left from a failed attempt is closed first (a stdio server would otherwise linger).
      if (previous) await previous.close().catch(() => undefined);
      const transport = await this.spec.connect();
      transport.onmessage = (message: unknown) => {
        if (gen === this.generation) this.receive(message);
      };
      transport.onerror = (error: Error) => {
        if (gen === this.generation) this.events.log(`upstream ${this.name}: ${error.message}`);
      };
      transport.onclose = () => {
        if (gen === this.generation) this.exited(`connection closed`);
      };
      this.transport = transport;
      await transport.start();
    };
    this.starting = run().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Sends initialize on a freshly opened transport, then `notifications/initialized`. */
  private async handshake(): Promise<RpcResponse> {
    const id = this.nextId++;
    let resolve!: (r: RpcResponse) => void;
    const response = new Promise<RpcResponse>((r) => (resolve = r));
    const entry: Pending = { method: 'initialize', resolve, timer: undefined, sent: false };
    this.pending.set(id, entry);
    // Starting can take far longer than answering: a server launched through npx may download itself first.
    const waitMs = Math.max(this.spec.timeoutMs, this.spec.startTimeoutMs ?? 0);
    entry.timer = setTimeout(() => {
      this.timeout(id, waitMs);
    }, waitMs);
    entry.timer.unref?.();
    entry.sent = true;
    this.sendRaw(request(id, 'initialize', this.initParams));
    const reply = await response;
    if (reply.result) {
      this.initResult = reply.result;
      const version = reply.result.protocolVersion;
      if (typeof version === 'string') this.transport?.setProtocolVersion?.(version);
      this.state = 'ready';
      this.sendRaw(notification('notifications/initialized'));
    }
    return reply;
  }

  private write(
    id: number,
    entry: Pending,
    method: string,
    params: Record<string, unknown> | undefined,
  ): void {
    entry.sent = true;
    const t = this.transport;
    if (!t) {
      this.settle(id, this.fail(id, RPC.connectionClosed, `upstream ${this.name} is not connected`));
      return;
    }
    t.send(request(id, method, params)).catch((error: unknown) => {
      this.settle(
        id,
        this.fail(
          id,
          RPC.connectionClosed,
          `upstream ${this.name} could not be reached: ${errorText(error)}`,
        ),
      );
    });
  }

  private sendRaw(message: JSONRPCMessage): void {
    const t = this.transport;
    if (!t) return;
    try {
      t.send(message).catch((error: unknown) => {
        this.events.log(`upstream ${this.name}: send failed: ${errorText(error)}`);
      });
    } catch (error) {
      this.events.log(`upstream ${this.name}: send failed: ${errorText(error)}`);
    }
  }

  private receive(message: unknown): void {
    const c = classify(message);
    switch (c.kind) {
      case 'response': {
        const id = c.msg.id;
        if (typeof id !== 'number') {
          this.events.log(
            `upstream ${this.name} answered a request id it was never sent (${JSON.stringify(id)}); dropped`,
          );
          return;
        }
        if (!this.pending.has(id)) {
          // A reply to a cancelled or timed-out request, or to nothing: ignored, as JSON-RPC peers do.
          return;
        }
        this.settle(id, c.msg);
        return;
      }
      case 'request':
        this.events.onRequest(this, c.msg);
        return;
      case 'notification':
        this.events.onNotification(this, c.msg);
        return;
      case 'invalid':
        this.events.log(`upstream ${this.name} sent an invalid message (${c.problem}); dropped`);
        if (c.answer && c.id !== undefined)
          this.sendRaw({ jsonrpc: '2.0', id: c.id, error: { code: RPC.invalidRequest, message: c.problem } });
    }
  }

  private exited(why: string): void {
    if (this.state === 'closed') return;
    this.lastExit = why;
    this.crashes.push(Date.now());
    this.state = 'down';
    this.transport = undefined;
    this.failAll(`upstream ${this.name} exited or dropped the connection`);
    this.events.log(`upstream ${this.name}: ${why}`);
  }

  private timeout(id: number, ms: number): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    if (entry.sent && this.state === 'ready')
      this.notify('notifications/cancelled', { requestId: id, reason: `no reply within ${ms} ms` });
    this.settle(
      id,
      this.fail(
        id,
        RPC.requestTimeout,
        `upstream ${this.name} did not answer ${entry.method} within ${ms} ms`,
      ),
    );
  }

  private failAll(message: string): void {
    for (const id of [...this.pending.keys()]) this.settle(id, this.fail(id, RPC.connectionClosed, message));
  }

  private settle(id: number, reply: RpcResponse): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    entry.resolve(reply);
  }

  private fail(id: RequestId, code: number, message: string): RpcResponse {
    return { jsonrpc: '2.0', id, error: { code, message } };
  }
}
