/**
 * The server side of streamable HTTP for one client session, as a `Transport` the router speaks to. It
 * replaces the SDK's server transport, which converts every Node request and response to web-standard
 * objects and streams each reply as SSE: on this path that cost more than the decision pipeline.
 *
 * A POST that carries requests is answered lazily. When the first thing the router sends for it is the
 * final answer, the reply is one `application/json` body (one write). When a progress notification, an
 * elicitation or another server message comes first, the reply becomes an event stream at that moment and
 * stays one until every request of the POST is answered. Both are what the MCP transport spec allows a
 * server to answer with, so clients see the same messages either way, and streaming still works whenever
 * something has to stream. Server messages tied to no request go to the client's GET stream, if it opened
 * one.
 *
 * HTTP-level checks follow the SDK's server transport (Accept, Content-Type, body size, session id,
 * protocol version, one GET stream, DELETE ends the session), with the same status codes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { classify, RPC, type JSONRPCMessage, type RequestId } from './jsonrpc.js';
import { sseMessage } from './sse.js';

/** Options of one session's transport. */
export interface HttpSessionOptions {
  /** Largest request body, bytes (413 beyond). */
  maxMessageBytes: number;
  /** Makes the session id when the client initializes. */
  newSessionId: () => string;
  /** Called once the session has its id (before the initialize request reaches the router). */
  onSessionInitialized?: (id: string) => void;
  /** SSE comment sent on idle event streams so intermediaries keep them open, ms (0: never). */
  keepAliveMs?: number;
}

/** Requests one POST may batch (the SDK's limit). */
const MAX_BATCH = 100;
const DEFAULT_KEEP_ALIVE_MS = 15_000;

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/** One POST whose requests are not all answered yet. */
interface Exchange {
  res: ServerResponse;
  /** Request ids still to be answered. */
  pending: Set<RequestId>;
  /** The POST was a JSON array: a JSON reply is an array too. */
  batch: boolean;
  /** Answers held for a JSON reply to a batch. */
  held: JSONRPCMessage[];
  /** `json` until something other than an answer must be sent, then `sse`. */
  mode: 'json' | 'sse';
  keepAlive: NodeJS.Timeout | undefined;
}

function jsonError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  extra?: Record<string, string>,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === 'application/json') return true;
  return (value ?? '').split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

function isAnswer(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId } {
  return !('method' in message) && 'id' in message && ('result' in message || 'error' in message);
}

/** A client session over streamable HTTP (see the module comment). */
export class HttpSessionTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private id: string | undefined;
  private readonly opts: HttpSessionOptions;
  private initialized = false;
  private closed = false;
  private readonly exchanges = new Map<RequestId, Exchange>();
  private standalone: { res: ServerResponse; keepAlive: NodeJS.Timeout | undefined } | undefined;

  constructor(options: HttpSessionOptions) {
    this.opts = options;
  }

  /** The MCP session id, once the client initialized. */
  get sessionId(): string | undefined {
    return this.id;
  }

  /** Nothing to start: requests arrive through `handleRequest`. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Handles one HTTP request of this session (POST, GET or DELETE). */
  async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.closed) {
      jsonError(res, 404, -32001, 'Session not found');
      return;
    }
    switch (req.method) {
      case 'POST':
        await this.post(req, res);
        return;
      case 'GET':
        this.get(req, res);
        return;
      case 'DELETE':
        if (this.refuseSession(req, res)) return;
        res.writeHead(200).end();
        await this.close();
        return;
      default:
        jsonError(res, 405, -32000, 'Method not allowed.', { allow: 'GET, POST, DELETE' });
    }
  }

  /** Sends one message: an answer to the POST that asked, anything else on that POST's stream or the GET stream. */
  send(message: JSONRPCMessage, options?: { relatedRequestId?: RequestId }): Promise<void> {
    if (this.closed) return Promise.resolve();
    const answer = isAnswer(message);
    const related = answer ? message.id : options?.relatedRequestId;
    const ex = related === undefined ? undefined : this.exchanges.get(related);
    if (!ex) {
      if (answer)
        return Promise.reject(new Error(`no open request with id ${JSON.stringify(related)} to answer`));
      // Tied to no open POST (or to one already answered): the GET stream, when there is one.
      this.toStandalone(message);
      return Promise.resolve();
    }
    if (!answer) {
      this.toStream(ex, message);
      return Promise.resolve();
    }
    this.exchanges.delete(message.id);
    ex.pending.delete(message.id);
    const done = ex.pending.size === 0;
    if (ex.mode === 'sse') {
      const event = sseMessage(JSON.stringify(message));
      if (done) this.endStream(ex, event);
      else this.write(ex.res, event);
      return Promise.resolve();
    }
    if (!ex.batch) {
      this.writeJson(ex.res, JSON.stringify(message));
      return Promise.resolve();
    }
    ex.held.push(message);
    if (done) this.writeJson(ex.res, JSON.stringify(ex.held));
    return Promise.resolve();
  }

  /** Ends every response: requests still open are answered with an error, streams are closed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const seen = new Set<Exchange>();
    for (const ex of this.exchanges.values()) {
      if (seen.has(ex)) continue;
      seen.add(ex);
      const errors = [...ex.pending].map((id): JSONRPCMessage => ({
        jsonrpc: '2.0',
        id,
        error: { code: RPC.connectionClosed, message: 'the gateway closed this session' },
      }));
      if (ex.mode === 'sse') this.endStream(ex, errors.map((e) => sseMessage(JSON.stringify(e))).join(''));
      else this.writeJson(ex.res, JSON.stringify(ex.batch ? [...ex.held, ...errors] : errors[0]));
    }
    this.exchanges.clear();
    this.closed = true;
    if (this.standalone) {
      clearInterval(this.standalone.keepAlive);
      this.standalone.res.end();
      this.standalone = undefined;
    }
    this.onclose?.();
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- POST

  private async post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const accept = req.headers.accept ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
      jsonError(
        res,
        406,
        -32000,
        'Not Acceptable: Client must accept both application/json and text/event-stream',
      );
      return;
    }
    if (!isJsonContentType(req.headers['content-type'])) {
      jsonError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      return;
    }
    const body = await this.readBody(req, res);
    if (body === undefined) return;
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      this.onerror?.(new Error('Parse error: Invalid JSON'));
      jsonError(res, 400, RPC.parseError, 'Parse error: Invalid JSON');
      return;
    }
    const batch = Array.isArray(raw);
    const messages = batch ? (raw as unknown[]) : [raw];
    if (messages.length === 0 || messages.length > MAX_BATCH) {
      jsonError(
        res,
        400,
        RPC.invalidRequest,
        `Invalid Request: a batch must hold 1 to ${MAX_BATCH} messages`,
      );
      return;
    }
    // Requests (and malformed ones whose id can be read) keep the POST open until the router answers them.
    const pending = new Set<RequestId>();
    let initialize = false;
    for (const m of messages) {
      const c = classify(m);
      if (c.kind === 'request') {
        if (pending.has(c.msg.id) || this.exchanges.has(c.msg.id)) {
          jsonError(
            res,
            400,
            RPC.invalidRequest,
            `Invalid Request: request id ${JSON.stringify(c.msg.id)} is already in use`,
          );
          return;
        }
        pending.add(c.msg.id);
        if (c.msg.method === 'initialize') initialize = true;
      } else if (c.kind === 'invalid') {
        // One the router can answer by id keeps the POST open for that answer; anything else is refused here.
        if (!c.answer || c.id === undefined || pending.has(c.id) || this.exchanges.has(c.id)) {
          jsonError(res, 400, RPC.parseError, 'Parse error: Invalid JSON-RPC message');
          return;
        }
        pending.add(c.id);
      }
    }
    if (initialize) {
      if (this.initialized) {
        jsonError(res, 400, RPC.invalidRequest, 'Invalid Request: Server already initialized');
        return;
      }
      if (messages.length > 1) {
        jsonError(
          res,
          400,
          RPC.invalidRequest,
          'Invalid Request: Only one initialization request is allowed',
        );
        return;
      }
      this.id = this.opts.newSessionId();
      this.initialized = true;
      this.opts.onSessionInitialized?.(this.id);
    } else if (this.refuseSession(req, res)) return;
    if (this.closed) {
      jsonError(res, 404, -32001, 'Session not found');
      return;
    }
    if (pending.size === 0) {
      res.writeHead(202, this.id === undefined ? {} : { 'mcp-session-id': this.id }).end();
      for (const m of messages) this.onmessage?.(m as JSONRPCMessage);
      return;
    }
    const ex: Exchange = { res, pending, batch, held: [], mode: 'json', keepAlive: undefined };
    for (const id of pending) this.exchanges.set(id, ex);
    res.once('close', () => {
      // The client went away before every answer: forget the POST (the spec does not make this a cancel).
      clearInterval(ex.keepAlive);
      for (const id of ex.pending) if (this.exchanges.get(id) === ex) this.exchanges.delete(id);
    });
    for (const m of messages) this.onmessage?.(m as JSONRPCMessage);
  }

  private readBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
    const max = this.opts.maxMessageBytes;
    const tooLarge = () => {
      this.onerror?.(new Error(`Payload Too Large: Request body must not exceed ${max} bytes`));
      jsonError(res, 413, -32000, `Payload Too Large: Request body must not exceed ${max} bytes`);
    };
    if (Number(req.headers['content-length']) > max) {
      tooLarge();
      return Promise.resolve(undefined);
    }
    return new Promise<string | undefined>((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (chunk: Buffer) => {
        if (over) return;
        size += chunk.length;
        if (size > max) {
          over = true;
          chunks.length = 0;
          // No Content-Length promised a bound: stop reading this connection once the 413 is out.
          res.setHeader('connection', 'close');
          tooLarge();
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      });
      req.once('end', () => {
        if (over) return;
        resolve(
          chunks.length === 1
            ? (chunks[0] ?? Buffer.alloc(0)).toString('utf8')
            : Buffer.concat(chunks).toString('utf8'),
        );
      });
      req.once('error', () => {
        resolve(undefined);
      });
      req.once('close', () => {
        if (!req.complete) resolve(undefined);
      });
    });
  }

  // ---------------------------------------------------------------- GET (server-initiated messages)

  private get(req: IncomingMessage, res: ServerResponse): void {
    if (!(req.headers.accept ?? '').includes('text/event-stream')) {
      jsonError(res, 406, -32000, 'Not Acceptable: Client must accept text/event-stream');
      return;
    }
    if (this.refuseSession(req, res)) return;
    if (this.standalone) {
      jsonError(res, 409, -32000, 'Conflict: Only one SSE stream is allowed per session');
      return;
    }
    res.writeHead(200, this.id === undefined ? SSE_HEADERS : { ...SSE_HEADERS, 'mcp-session-id': this.id });
    res.flushHeaders();
    const entry = { res, keepAlive: this.keepAlive(res) };
    this.standalone = entry;
    res.once('close', () => {
      clearInterval(entry.keepAlive);
      if (this.standalone === entry) this.standalone = undefined;
    });
  }

  // ---------------------------------------------------------------- writing

  private refuseSession(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.initialized) {
      jsonError(res, 400, -32000, 'Bad Request: Server not initialized');
      return true;
    }
    const sid = req.headers['mcp-session-id'];
    if (sid === undefined) {
      jsonError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
      return true;
    }
    if (sid !== this.id) {
      jsonError(res, 404, -32001, 'Session not found');
      return true;
    }
    const version = req.headers['mcp-protocol-version'];
    if (typeof version === 'string' && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      jsonError(
        res,
        400,
        -32000,
        `Bad Request: Unsupported protocol version: ${version.slice(0, 50)} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
      );
      return true;
    }
    return false;
  }

  private writeJson(res: ServerResponse, body: string): void {
    if (res.headersSent || res.writableEnded || res.destroyed) return;
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    };
    if (this.id !== undefined) headers['mcp-session-id'] = this.id;
    // writeHead only stores the head: it and the body leave in one write.
    res.writeHead(200, headers);
    res.end(body);
  }

  /** Something other than an answer for a POST: the reply turns into an event stream from here on. */
  private toStream(ex: Exchange, message: JSONRPCMessage): void {
    if (ex.mode === 'json') {
      ex.mode = 'sse';
      if (ex.res.headersSent || ex.res.destroyed) return;
      ex.res.writeHead(
        200,
        this.id === undefined ? SSE_HEADERS : { ...SSE_HEADERS, 'mcp-session-id': this.id },
      );
      const held = ex.held.map((m) => sseMessage(JSON.stringify(m))).join('');
      ex.held = [];
      this.write(ex.res, held + sseMessage(JSON.stringify(message)));
      ex.keepAlive = this.keepAlive(ex.res);
      return;
    }
    this.write(ex.res, sseMessage(JSON.stringify(message)));
  }

  private toStandalone(message: JSONRPCMessage): void {
    const s = this.standalone;
    // Without a GET stream there is nowhere to put it; the SDK's transport drops it too.
    if (s) this.write(s.res, sseMessage(JSON.stringify(message)));
  }

  private endStream(ex: Exchange, last: string): void {
    clearInterval(ex.keepAlive);
    if (ex.res.writableEnded || ex.res.destroyed) return;
    if (last) ex.res.end(last);
    else ex.res.end();
  }

  private write(res: ServerResponse, text: string): void {
    if (res.writableEnded || res.destroyed) return;
    res.write(text);
  }

  private keepAlive(res: ServerResponse): NodeJS.Timeout | undefined {
    const ms = this.opts.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
    if (ms <= 0) return undefined;
    const t = setInterval(() => {
      this.write(res, ': keepalive\n\n');
    }, ms);
    t.unref();
    return t;
  }
}
