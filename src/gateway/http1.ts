/**
 * A small HTTP/1.1 client for the gateway's upstream connections over plain `http:` (loopback and private
 * networks, where the gateway usually sits next to its servers). `node:http`'s client costs about twice the
 * CPU of this one per request (a ClientRequest, an IncomingMessage, stream and agent bookkeeping), and every
 * HTTP tool call makes one. It does only what an MCP client needs: one request at a time per connection,
 * kept-alive connections reused last-in first-out, responses framed by Content-Length, chunked encoding or
 * the connection's close, interim 1xx responses skipped. Anything else the server sends that does not parse
 * ends that connection with an error; sizes are bounded so a server cannot make the gateway buffer without
 * limit. `https:` stays on `node:https` (TLS costs more than the HTTP layer anyway).
 */
import { connect, type Socket } from 'node:net';

/** A response as the transport reads it. */
export interface Http1Reply {
  status: number;
  statusText: string;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /**
   * Streams the body: `onChunk` for each piece, resolving when the body is complete, rejecting if the
   * connection breaks first. Call once.
   */
  read(onChunk: (chunk: Buffer) => void): Promise<void>;
  /** Stops reading: the connection is closed unless the body was already complete. */
  discard(): void;
}

/** A request failed on a reused kept-alive connection before any response: safe to send again. */
export class StaleConnectionError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.name = 'StaleConnectionError';
  }
}

/** The response did not parse as HTTP/1.1. */
export class HttpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpProtocolError';
  }
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 4 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** True for a header name (an HTTP token). */
export function isHeaderName(name: string): boolean {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name);
}

/** True for a header value that cannot split the request (no CR, LF or NUL). */
export function isHeaderValue(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}

type BodyMode = { kind: 'none' } | { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

/** One request in flight on a connection. */
interface Exchange {
  resolveHead: (reply: Http1Reply) => void;
  rejectHead: (error: Error) => void;
  headDone: boolean;
  /** Body pieces that arrived before `read` was called. */
  queued: Buffer[];
  onChunk: ((chunk: Buffer) => void) | undefined;
  bodyDone: boolean;
  bodyError: Error | undefined;
  settleBody: { resolve: () => void; reject: (e: Error) => void } | undefined;
}

/** One TCP connection and its response parser. */
class Connection {
  readonly socket: Socket;
  /** Requests this connection carried; a failure on the second or later one may be a stale socket. */
  uses = 0;
  idleTimer: NodeJS.Timeout | undefined;
  private buf: Buffer | undefined;
  private state: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' = 'head';
  private body: BodyMode = { kind: 'none' };
  private chunkLeft = 0;
  private keepAlive = true;
  private ex: Exchange | undefined;
  private dead = false;
  private readonly onIdle: (c: Connection) => void;
  private readonly onDead: (c: Connection) => void;

  constructor(socket: Socket, onIdle: (c: Connection) => void, onDead: (c: Connection) => void) {
    this.socket = socket;
    this.onIdle = onIdle;
    this.onDead = onDead;
    socket.on('data', (chunk: Buffer) => {
      this.onData(chunk);
    });
    socket.on('error', (error) => {
      this.fail(error);
    });
    socket.on('close', () => {
      if (this.ex && this.body.kind === 'close' && this.state === 'body') {
        this.finishBody();
        this.die();
        return;
      }
      this.fail(new Error('the server closed the connection'));
    });
  }

  get alive(): boolean {
    return !this.dead && !this.socket.destroyed;
  }

  /** Writes a request; the returned promise resolves with the response head. */
  send(text: string): Promise<Http1Reply> {
    this.uses++;
    return new Promise<Http1Reply>((resolveHead, rejectHead) => {
      this.ex = {
        resolveHead,
        rejectHead,
        headDone: false,
        queued: [],
        onChunk: undefined,
        bodyDone: false,
        bodyError: undefined,
        settleBody: undefined,
      };
      this.state = 'head';
      this.socket.write(text);
    });
  }

  destroy(error?: Error): void {
    this.fail(error ?? new Error('the connection was closed'));
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.socket.destroy();
    this.onDead(this);
  }

  private fail(error: Error): void {
    const ex = this.ex;
    this.ex = undefined;
    this.die();
    if (!ex) return;
    if (!ex.headDone) {
      const code = (error as NodeJS.ErrnoException).code;
      const stale =
        this.uses > 1 && (code === 'ECONNRESET' || code === 'EPIPE' || error.message.includes('closed'));
      ex.rejectHead(stale ? new StaleConnectionError(error) : error);
      return;
    }
    if (!ex.bodyDone) {
      ex.bodyDone = true;
      ex.bodyError = error;
      ex.settleBody?.reject(error);
    }
  }

  private onData(chunk: Buffer): void {
    if (!this.ex) {
      // Bytes nobody asked for (a server talking out of turn): this connection cannot be trusted to frame.
      this.die();
      return;
    }
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this.parse();
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private parse(): void {
    while (this.buf && this.buf.length > 0 && this.ex) {
      const buf = this.buf;
      switch (this.state) {
        case 'head': {
          const end = buf.indexOf(HEAD_END);
          if (end < 0) {
            if (buf.length > MAX_HEAD_BYTES) throw new HttpProtocolError('the response head is too large');
            return;
          }
          this.buf = buf.subarray(end + 4);
          this.head(buf.toString('latin1', 0, end));
          continue;
        }
        case 'body': {
          if (this.body.kind === 'length') {
            const n = Math.min(this.body.left, buf.length);
            this.deliver(buf.subarray(0, n));
            this.buf = buf.subarray(n);
            this.body.left -= n;
            if (this.body.left === 0) this.complete();
          } else {
            this.deliver(buf);
            this.buf = undefined;
          }
          continue;
        }
        case 'chunk-size': {
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > MAX_CHUNK_LINE) throw new HttpProtocolError('a chunk size line is too long');
            return;
          }
          const line = buf.toString('latin1', 0, eol);
          const hex = (line.split(';', 1)[0] ?? '').trim();
          if (!/^[0-9A-Fa-f]{1,8}$/.test(hex)) throw new HttpProtocolError('a chunk size does not parse');
          this.chunkLeft = parseInt(hex, 16);
          this.buf = buf.subarray(eol + 2);
          this.state = this.chunkLeft === 0 ? 'trailers' : 'chunk-data';
          continue;
        }
        case 'chunk-data': {
          const n = Math.min(this.chunkLeft, buf.length);
          this.deliver(buf.subarray(0, n));
          this.buf = buf.subarray(n);
          this.chunkLeft -= n;
          if (this.chunkLeft === 0) this.state = 'chunk-crlf';
          continue;
        }
        case 'chunk-crlf': {
          if (buf.length < 2) return;
          if (buf[0] !== 13 || buf[1] !== 10) throw new HttpProtocolError('a chunk does not end in CRLF');
          this.buf = buf.subarray(2);
          this.state = 'chunk-size';
          continue;
        }
        case 'trailers': {
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > MAX_HEAD_BYTES) throw new HttpProtocolError('the trailers are too large');
            return;
          }
          this.buf = buf.subarray(eol + 2);
          if (eol === 0) this.complete();
          continue;
        }
      }
    }
  }

  private head(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
    if (!m) throw new HttpProtocolError('the status line does not parse');
    const status = Number(m[2]);
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const colon = line.indexOf(':');
      if (colon <= 0 || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9)
        throw new HttpProtocolError('a header line does not parse');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      const prev = headers[name];
      headers[name] = prev === undefined ? value : `${prev}, ${value}`;
    }
    if (status >= 100 && status < 200) {
      // Interim responses (100 Continue, 103 Early Hints) precede the real one; 101 would switch protocols.
      if (status === 101) throw new HttpProtocolError('the server switched protocols');
      return;
    }
    const connection = (headers.connection ?? '').toLowerCase();
    this.keepAlive = m[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    const te = headers['transfer-encoding'];
    const cl = headers['content-length'];
    if (status === 204 || status === 304) this.body = { kind: 'none' };
    else if (te !== undefined) {
      if (!/(?:^|,)\s*chunked\s*$/i.test(te))
        throw new HttpProtocolError(`unsupported transfer-encoding ${te}`);
      this.body = { kind: 'chunked' };
    } else if (cl !== undefined) {
      if (!/^\d{1,15}$/.test(cl)) throw new HttpProtocolError('the content-length does not parse');
      const left = Number(cl);
      this.body = left === 0 ? { kind: 'none' } : { kind: 'length', left };
    } else {
      this.body = { kind: 'close' };
      this.keepAlive = false;
    }
    const ex = this.ex;
    if (!ex) return;
    ex.headDone = true;
    this.state = this.body.kind === 'chunked' ? 'chunk-size' : 'body';
    ex.resolveHead({
      status,
      statusText: m[3] ?? '',
      headers,
      read: (onChunk) => this.read(ex, onChunk),
      discard: () => {
        if (this.ex === ex && !ex.bodyDone) this.fail(new Error('the reply was discarded'));
      },
    });
    if (this.body.kind === 'none') this.complete();
  }

  private read(ex: Exchange, onChunk: (chunk: Buffer) => void): Promise<void> {
    for (const q of ex.queued) onChunk(q);
    ex.queued = [];
    if (ex.bodyDone) return ex.bodyError ? Promise.reject(ex.bodyError) : Promise.resolve();
    ex.onChunk = onChunk;
    return new Promise<void>((resolve, reject) => {
      ex.settleBody = { resolve, reject };
    });
  }

  private deliver(chunk: Buffer): void {
    const ex = this.ex;
    if (!ex || chunk.length === 0) return;
    if (ex.onChunk) ex.onChunk(chunk);
    else ex.queued.push(chunk);
  }

  private complete(): void {
    const ex = this.ex;
    this.ex = undefined;
    if (ex) this.finish(ex);
    const leftover = this.buf !== undefined && this.buf.length > 0;
    this.buf = undefined;
    if (this.keepAlive && !leftover && this.alive) this.onIdle(this);
    else this.die();
  }

  private finishBody(): void {
    const ex = this.ex;
    this.ex = undefined;
    if (ex) this.finish(ex);
  }

  private finish(ex: Exchange): void {
    ex.bodyDone = true;
    ex.settleBody?.resolve();
  }
}

/** Kept-alive connections to one host and port. */
export class Http1Pool {
  private readonly host: string;
  private readonly port: number;
  private readonly idleMs: number;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private closed = false;

  constructor(host: string, port: number, idleMs: number) {
    this.host = host;
    this.port = port;
    this.idleMs = idleMs;
  }

  /**
   * Sends one request (`head` is the request line and headers, CRLF-terminated, without the blank line)
   * and resolves with the response head. When `mayResend` (the message is safe to deliver twice), retries
   * once on a fresh connection when a reused one turns out to be closed before any response.
   */
  async request(head: string, body: string | undefined, mayResend = false): Promise<Http1Reply> {
    const text =
      body === undefined ? `${head}\r\n` : `${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    try {
      return await this.take().send(text);
    } catch (error) {
      if (!(error instanceof StaleConnectionError) || this.closed || !mayResend) throw error;
      return this.fresh().send(text);
    }
  }

  /** Closes every connection. */
  close(): void {
    this.closed = true;
    for (const c of [...this.all]) c.destroy(new Error('the transport is closed'));
    this.idle.length = 0;
  }

  private take(): Connection {
    for (;;) {
      const c = this.idle.pop();
      if (!c) return this.fresh();
      if (c.idleTimer) clearTimeout(c.idleTimer);
      c.idleTimer = undefined;
      if (c.alive) return c;
    }
  }

  private fresh(): Connection {
    if (this.closed) throw new Error('the transport is closed');
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    const c = new Connection(
      socket,
      (idle) => {
        if (this.closed) {
          idle.destroy();
          return;
        }
        // Dropped after idleMs: servers close idle connections after a few seconds, and a request written
        // onto one they are closing is reset.
        idle.idleTimer = setTimeout(() => {
          idle.destroy();
        }, this.idleMs);
        idle.idleTimer.unref();
        this.idle.push(idle);
      },
      (dead) => {
        this.all.delete(dead);
        const i = this.idle.indexOf(dead);
        if (i >= 0) this.idle.splice(i, 1);
      },
    );
    this.all.add(c);
    return c;
  }
}
