/**
 * The gateway's client side of streamable HTTP, towards one upstream server. The SDK's client transport
 * goes through fetch and web streams (a TextDecoderStream and an event-source parser per response), which
 * cost more CPU per call than the whole decision pipeline; this one speaks the same protocol over a small
 * HTTP/1.1 client of its own for `http:` (./http1.ts) and `node:https` for `https:`, with kept-alive
 * connections, and parses JSON and SSE replies from plain chunks.
 *
 * What it does, as the MCP transport spec asks of a client: each message is a POST (accepting JSON or an
 * event stream back); the session id from the initialize reply and the negotiated protocol version go on
 * every later request; after `notifications/initialized` a GET stream is opened for server-initiated
 * messages (405 means the server has none) and reopened when it ends; a reply stream that ends before its
 * answer, after an event id, is resumed with `Last-Event-ID`. Redirects are followed only within the
 * origin. A reply larger than `maxMessageBytes` fails its request instead of being buffered.
 *
 * `send` settles when the exchange is over: it rejects when the request could not be made or its stream
 * ended without an answer, so the router fails that one call at once instead of waiting for its timeout.
 */
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Http1Pool, isHeaderName, isHeaderValue, StaleConnectionError, type Http1Reply } from './http1.js';
import { classify, errorText, isPlainObject, type JSONRPCMessage, type RequestId } from './jsonrpc.js';
import { SseParser } from './sse.js';

/** How the transport reaches its server. */
export interface HttpUpstreamTransportOptions {
  url: string;
  /** Headers sent with every request (credentials resolved by the gateway). */
  headers: Record<string, string>;
  /** Largest reply body or event accepted, bytes. */
  maxMessageBytes: number;
  /** Reopening a GET stream or resuming a reply stream. */
  reconnect?: { maxRetries: number; initialDelayMs: number; maxDelayMs: number; growFactor: number };
}

const DEFAULT_RECONNECT = { maxRetries: 2, initialDelayMs: 500, maxDelayMs: 5_000, growFactor: 1.5 };
const MAX_REDIRECTS = 5;
const MAX_ERROR_TEXT = 2_000;
/** Idle keep-alive sockets are dropped after this long (below the usual 5 s of servers). */
const IDLE_SOCKET_MS = 2_000;

/** An HTTP error from the server (status and the start of its body). */
export class UpstreamHttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'UpstreamHttpError';
    this.status = status;
  }
}

function essence(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

/** An `https:` response in the shape the transport reads. */
function wrapNodeReply(res: IncomingMessage): Http1Reply {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  // A reply cut short emits 'error'; `read` reports it, and this keeps it from being fatal meanwhile.
  res.on('error', () => undefined);
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    headers,
    read: (onChunk) =>
      new Promise<void>((resolve, reject) => {
        res.on('data', onChunk);
        res.once('end', resolve);
        res.once('error', reject);
        res.once('close', () => {
          if (!res.complete) reject(new Error('the server closed the connection mid-reply'));
        });
      }),
    discard: () => {
      if (res.complete) res.resume();
      else res.destroy();
    },
  };
}

/** Same origin, or the same host moving from http to https on default ports (as the SDK allows). */
function withinOrigin(from: URL, to: URL): boolean {
  if (to.username !== from.username || to.password !== from.password) return false;
  if (from.protocol === to.protocol && from.hostname === to.hostname && from.port === to.port) return true;
  return (
    from.hostname === to.hostname &&
    from.protocol === 'http:' &&
    from.port === '' &&
    to.protocol === 'https:' &&
    to.port === ''
  );
}

/** The ids of the requests a POST carries, which its reply must answer. */
function requestIds(message: JSONRPCMessage | JSONRPCMessage[]): Set<RequestId> {
  const ids = new Set<RequestId>();
  for (const m of Array.isArray(message) ? message : [message]) {
    const c = classify(m);
    if (c.kind === 'request') ids.add(c.msg.id);
  }
  return ids;
}

/** A streamable-HTTP client transport over `node:http`/`node:https` (see the module comment). */
export class HttpUpstreamTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private readonly url: URL;
  private readonly headers: Record<string, string>;
  private readonly maxBytes: number;
  private readonly reconnect: typeof DEFAULT_RECONNECT;
  /** Kept-alive `http:` connections by host:port (a redirect may lead to another port of the host). */
  private readonly pools = new Map<string, Http1Pool>();
  private https: HttpsAgent | undefined;
  /** `https:` requests and responses in flight, to stop on close. */
  private readonly open = new Set<{ destroy(error?: Error): unknown }>();
  /** Pending delays (reconnecting, resuming), each with what ends it early when the transport closes. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private session: string | undefined;
  private protocol: string | undefined;
  private serverRetryMs: number | undefined;
  private started = false;
  private closed = false;
  private getStreamOpen = false;

  constructor(options: HttpUpstreamTransportOptions) {
    this.url = new URL(options.url);
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:')
      throw new TypeError(`an HTTP upstream needs an http: or https: URL, not ${this.url.protocol}`);
    for (const [k, v] of Object.entries(options.headers)) {
      if (!isHeaderName(k) || !isHeaderValue(v))
        throw new TypeError(`header ${JSON.stringify(k)} has a name or value that cannot be sent`);
    }
    this.headers = { ...options.headers };
    if (this.url.username || this.url.password) {
      const user = `${decodeURIComponent(this.url.username)}:${decodeURIComponent(this.url.password)}`;
      this.headers.authorization ??= `Basic ${Buffer.from(user).toString('base64')}`;
    }
    this.maxBytes = options.maxMessageBytes;
    this.reconnect = options.reconnect ?? DEFAULT_RECONNECT;
  }

  /** The MCP session id the server assigned, once it did. */
  get sessionId(): string | undefined {
    return this.session;
  }

  /** Nothing to connect up front: each message is its own request. */
  start(): Promise<void> {
    if (this.started) return Promise.reject(new Error('the transport is already started'));
    this.started = true;
    return Promise.resolve();
  }

  /** Sent as `mcp-protocol-version` on every later request. */
  setProtocolVersion(version: string): void {
    if (isHeaderValue(version)) this.protocol = version;
  }

  /** POSTs one message (or a batch) and delivers what comes back through `onmessage`. */
  async send(message: JSONRPCMessage | JSONRPCMessage[]): Promise<void> {
    if (this.closed) throw new Error('the transport is closed');
    const body = JSON.stringify(message);
    const pending = requestIds(message);
    const res = await this.request(
      'POST',
      body,
      { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      resendable(message),
    );
    const status = res.status;
    const sid = res.headers['mcp-session-id'];
    // A session id is sent back on every request: one that could split a request is not kept.
    if (sid !== undefined && sid.length > 0 && isHeaderValue(sid)) this.session = sid;
    if (status < 200 || status >= 300) throw await this.httpError(res, 'POST');
    const type = essence(res.headers['content-type']);
    if (status === 202 || pending.size === 0) {
      // Read to the end (usually nothing) so the connection is kept.
      res.read(() => undefined).catch(() => undefined);
      if (!Array.isArray(message) && 'method' in message && message.method === 'notifications/initialized')
        this.openGetStream(0);
      return;
    }
    if (type === 'application/json') {
      this.deliverJson(await this.readBody(res), pending);
    } else if (type === 'text/event-stream') {
      const lastId = await this.readStream(res, pending);
      if (pending.size > 0 && lastId !== undefined) await this.resume(lastId, pending);
    } else {
      res.discard();
      throw new UpstreamHttpError(status, `unexpected content type ${JSON.stringify(type)} in the reply`);
    }
    if (pending.size > 0)
      throw new Error(`the server ended its reply without answering request ${[...pending].join(', ')}`);
  }

  /** Stops every request and stream. Does not end the server's session (the SDK's client does not either). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const [t, end] of this.timers) {
      clearTimeout(t);
      end();
    }
    this.timers.clear();
    const gone = new Error('the transport is closed');
    for (const r of this.open) r.destroy(gone);
    this.open.clear();
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
    this.https?.destroy();
    this.onclose?.();
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- requests

  /** One request, following redirects within the origin. */
  private async request(
    method: 'POST' | 'GET',
    body: string | undefined,
    extra: Record<string, string>,
    mayResend = method === 'GET',
  ): Promise<Http1Reply> {
    let url = this.url;
    for (let hop = 0; ; hop++) {
      const res = await this.once(url, method, body, extra, mayResend);
      const status = res.status;
      const location = res.headers.location;
      const keepsMethod =
        status === 307 || status === 308 || (method === 'GET' && status >= 301 && status <= 303);
      if (!keepsMethod || location === undefined || hop >= MAX_REDIRECTS) return res;
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        return res;
      }
      if (!withinOrigin(url, target)) return res;
      res.read(() => undefined).catch(() => undefined);
      url = target;
    }
  }

  private once(
    url: URL,
    method: 'POST' | 'GET',
    body: string | undefined,
    extra: Record<string, string>,
    mayResend: boolean,
  ): Promise<Http1Reply> {
    if (this.closed) return Promise.reject(new Error('the transport is closed'));
    let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    const headers: Record<string, string> = {};
    if (this.session !== undefined) headers['mcp-session-id'] = this.session;
    if (this.protocol !== undefined) headers['mcp-protocol-version'] = this.protocol;
    Object.assign(headers, this.headers, extra);
    if (url.protocol === 'https:') return this.viaHttps(url, method, body, headers, mayResend);
    for (const k in headers) head += `${k}: ${headers[k] ?? ''}\r\n`;
    const key = `${url.hostname}:${url.port || '80'}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      pool = new Http1Pool(host, Number(url.port || 80), IDLE_SOCKET_MS);
      this.pools.set(key, pool);
    }
    return pool.request(head, body, mayResend);
  }

  private async viaHttps(
    url: URL,
    method: 'POST' | 'GET',
    body: string | undefined,
    headers: Record<string, string>,
    mayResend: boolean,
  ): Promise<Http1Reply> {
    // Keep-alive; idle sockets are dropped after IDLE_SOCKET_MS, as on the http: side.
    this.https ??= new HttpsAgent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_SOCKET_MS });
    const agent = this.https;
    const attempt = () =>
      new Promise<Http1Reply>((resolve, reject) => {
        const req = httpsRequest(
          {
            method,
            hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
            port: url.port,
            path: `${url.pathname}${url.search}`,
            headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
            agent,
          },
          (res) => {
            this.open.delete(req);
            this.open.add(res);
            res.once('close', () => this.open.delete(res));
            resolve(wrapNodeReply(res));
          },
        );
        this.open.add(req);
        req.on('error', (error: NodeJS.ErrnoException) => {
          this.open.delete(req);
          const stale = req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
          reject(stale ? new StaleConnectionError(error) : error);
        });
        if (body === undefined) req.end();
        else req.end(body);
      });
    try {
      return await attempt();
    } catch (error) {
      // A kept-alive socket the server closed as the request went out. Usually it never read it, but a server
      // that read it and then reset cannot be told apart: only messages that are safe to deliver twice go again.
      if (!(error instanceof StaleConnectionError) || this.closed || !mayResend) throw error;
      return attempt();
    }
  }

  private async httpError(res: Http1Reply, what: string): Promise<UpstreamHttpError> {
    let text = '';
    try {
      text = (await this.readBody(res, MAX_ERROR_TEXT)).trim();
    } catch {
      // The body is only for the message.
    }
    const status = res.status;
    const location = res.headers.location;
    const why =
      location !== undefined && status >= 300 && status < 400
        ? `redirect to ${location} not followed (only redirects within the origin are)`
        : text || res.statusText;
    return new UpstreamHttpError(status, `HTTP ${status} to ${what}: ${why}`.slice(0, MAX_ERROR_TEXT));
  }

  /** Reads a whole body, failing past the size cap (or, with `truncate`, keeping only its start). */
  private async readBody(res: Http1Reply, truncate?: number): Promise<string> {
    const limit = truncate ?? this.maxBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const done = res.read((chunk) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        if (truncate !== undefined) chunks.push(chunk.subarray(0, chunk.length - (size - limit)));
        res.discard();
        return;
      }
      chunks.push(chunk);
    });
    try {
      await done;
    } catch (error) {
      if (!over) throw error;
    }
    if (over && truncate === undefined)
      throw new RangeError(`the server's reply is larger than ${limit} bytes`);
    return chunks.length === 1
      ? (chunks[0] ?? Buffer.alloc(0)).toString('utf8')
      : Buffer.concat(chunks).toString('utf8');
  }

  private deliverJson(text: string, pending: Set<RequestId>): void {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new SyntaxError(`the server's JSON reply does not parse: ${errorText(error)}`);
    }
    for (const m of Array.isArray(data) ? (data as unknown[]) : [data]) this.deliver(m, pending);
  }

  private deliver(message: unknown, pending: Set<RequestId> | undefined): void {
    if (pending && isPlainObject(message) && !('method' in message)) {
      const id = message.id;
      if (typeof id === 'string' || typeof id === 'number') pending.delete(id);
    }
    // The router classifies and checks every message itself; the transport only frames.
    this.onmessage?.(message as JSONRPCMessage);
  }

  /**
   * Delivers the messages of an event stream until it ends. Resolves with the last event id when the
   * stream ended (or broke) before answering everything in `pending`, so the caller can resume it.
   */
  private readStream(res: Http1Reply, pending: Set<RequestId> | undefined): Promise<string | undefined> {
    return new Promise<string | undefined>((resolve, reject) => {
      const parser = new SseParser(
        {
          onEvent: (e) => {
            if (e.event !== 'message') return;
            let m: unknown;
            try {
              m = JSON.parse(e.data);
            } catch (error) {
              this.onerror?.(new SyntaxError(`an event from the server does not parse: ${errorText(error)}`));
              return;
            }
            this.deliver(m, pending);
          },
          onRetry: (ms) => {
            this.serverRetryMs = ms;
          },
        },
        this.maxBytes,
      );
      const decoder = new StringDecoder('utf8');
      let settled = false;
      let broken = false;
      res
        .read((chunk) => {
          if (broken) return;
          try {
            parser.push(decoder.write(chunk));
          } catch (error) {
            // Too large to buffer: this stream is abandoned and what it still owed fails.
            broken = true;
            res.discard();
            if (!settled) {
              settled = true;
              reject(error instanceof Error ? error : new Error(String(error)));
            }
            return;
          }
          if (pending && pending.size === 0 && !settled) {
            // Everything is answered: the send is over, though anything else the server writes is still read.
            settled = true;
            resolve(undefined);
          }
        })
        .then(
          () => {
            if (settled) return;
            settled = true;
            resolve(parser.lastEventId);
          },
          (error: unknown) => {
            if (settled) return;
            settled = true;
            // A stream that broke after an event id can be resumed; one that broke before cannot.
            if (parser.lastEventId === undefined)
              reject(error instanceof Error ? error : new Error(String(error)));
            else resolve(parser.lastEventId);
          },
        );
    });
  }

  /** Resumes a reply stream after `lastId` until `pending` is answered, within the retry budget. */
  private async resume(lastId: string, pending: Set<RequestId>): Promise<void> {
    let last = lastId;
    for (
      let attempt = 0;
      attempt < this.reconnect.maxRetries && pending.size > 0 && !this.closed;
      attempt++
    ) {
      await this.sleep(this.delay(attempt));
      if (this.closed) return;
      let res: Http1Reply;
      try {
        res = await this.request('GET', undefined, { accept: 'text/event-stream', 'last-event-id': last });
      } catch (error) {
        this.onerror?.(new Error(`resuming a reply stream failed: ${errorText(error)}`));
        continue;
      }
      if (res.status !== 200 || essence(res.headers['content-type']) !== 'text/event-stream') {
        res.discard();
        return;
      }
      try {
        last = (await this.readStream(res, pending)) ?? last;
      } catch (error) {
        this.onerror?.(new Error(`a resumed reply stream failed: ${errorText(error)}`));
      }
    }
  }

  /** The standalone GET stream for server-initiated messages; reopened when it ends, as the SDK does. */
  private openGetStream(attempt: number, lastId?: string): void {
    if (this.closed || this.getStreamOpen) return;
    this.getStreamOpen = true;
    const run = async (): Promise<{ offered: boolean; last: string | undefined }> => {
      const extra: Record<string, string> = { accept: 'text/event-stream' };
      if (lastId !== undefined) extra['last-event-id'] = lastId;
      const res = await this.request('GET', undefined, extra);
      const status = res.status;
      if (status === 405) {
        // The server offers no stream of its own messages.
        res.discard();
        return { offered: false, last: lastId };
      }
      if (status !== 200) throw await this.httpError(res, 'GET');
      return { offered: true, last: (await this.readStream(res, undefined)) ?? lastId };
    };
    run().then(
      ({ offered, last }) => {
        this.getStreamOpen = false;
        if (!offered || this.closed) return;
        this.laterGetStream(0, last);
      },
      (error: unknown) => {
        this.getStreamOpen = false;
        if (this.closed) return;
        this.onerror?.(new Error(`the server's event stream failed: ${errorText(error)}`));
        if (attempt + 1 < this.reconnect.maxRetries) this.laterGetStream(attempt + 1, lastId);
      },
    );
  }

  private laterGetStream(attempt: number, lastId: string | undefined): void {
    void this.sleep(this.delay(attempt)).then(() => {
      this.openGetStream(attempt, lastId);
    });
  }

  private delay(attempt: number): number {
    if (this.serverRetryMs !== undefined) return this.serverRetryMs;
    const r = this.reconnect;
    return Math.min(r.initialDelayMs * r.growFactor ** attempt, r.maxDelayMs);
  }

  /** Waits `ms`, or less if the transport closes meanwhile (callers check `closed` after). */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      t.unref();
      this.timers.set(t, resolve);
    });
  }
}

/**
 * JSON-RPC methods whose request may reach the server twice without changing anything: lists, reads and
 * pings. A `tools/call` (or any method not listed) is never sent again after a connection reset, since the
 * server may have run it already and a tool call can be irreversible; the call fails instead, visibly.
 */
const RESENDABLE_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
]);

/** Whether every message of a POST is safe to deliver twice (notifications and responses are). */
export function resendable(message: JSONRPCMessage | JSONRPCMessage[]): boolean {
  const all = Array.isArray(message) ? message : [message];
  return all.every((m) => !('method' in m) || !('id' in m) || RESENDABLE_METHODS.has(m.method));
}
