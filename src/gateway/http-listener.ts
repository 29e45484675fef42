/**
 * The client side over streamable HTTP (`warden gateway --listen host:port`). One session transport per
 * MCP session (./http-session.ts); the listener adds a bearer token, Host and Origin checks against DNS
 * rebinding, and a cap on sessions.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpSessionTransport } from './http-session.js';
import { errorText } from './jsonrpc.js';
import type { GatewayConnection } from './router.js';

/** Options of the listener. */
export interface HttpListenerOptions {
  host: string;
  port: number;
  path: string;
  /** Required bearer token, when set. */
  token?: string;
  allowedHosts?: readonly string[];
  allowedOrigins?: readonly string[];
  maxSessions: number;
  maxMessageBytes: number;
  /** Makes a connection for a new client session. */
  newConnection: () => GatewayConnection;
  log: (line: string) => void;
}

/** A running listener. */
export interface HttpListener {
  /** The endpoint, e.g. `http://127.0.0.1:8931/mcp`. */
  readonly url: string;
  /** Live sessions. */
  readonly sessions: number;
  /** Stops accepting, closes every session. */
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.');
}

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    return end > 0 ? hostHeader.slice(0, end + 1) : hostHeader;
  }
  const colon = hostHeader.lastIndexOf(':');
  return colon > 0 ? hostHeader.slice(0, colon) : hostHeader;
}

function sendJsonError(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message } }));
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts the listener. */
export async function listenHttp(options: HttpListenerOptions): Promise<HttpListener> {
  const sessions = new Map<string, { transport: HttpSessionTransport; conn: GatewayConnection }>();
  const pendingConnections = new Set<GatewayConnection>();
  const loopbackBind = isLoopback(options.host);

  const pathOf = (raw: string): string => {
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    // The exact path is the common case; anything else is normalised the way a URL parser would.
    return path === options.path ? path : new URL(raw, 'http://gateway.invalid').pathname;
  };

  const refuse = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (pathOf(req.url ?? '/') !== options.path) {
      sendJsonError(res, 404, -32601, `not found; the MCP endpoint is ${options.path}`);
      return true;
    }
    const host = hostnameOf(req.headers.host ?? '');
    const hostOk = options.allowedHosts
      ? options.allowedHosts.includes(host) || options.allowedHosts.includes(req.headers.host ?? '')
      : !loopbackBind || isLoopback(host);
    if (!hostOk) {
      sendJsonError(res, 403, -32600, 'Host header not allowed');
      return true;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !(options.allowedOrigins ?? []).includes(origin)) {
      sendJsonError(res, 403, -32600, 'Origin not allowed');
      return true;
    }
    if (options.token !== undefined) {
      const auth = req.headers.authorization ?? '';
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!sameToken(given, options.token)) {
        res.setHeader('www-authenticate', 'Bearer');
        sendJsonError(res, 401, -32600, 'a bearer token is required');
        return true;
      }
    }
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (refuse(req, res)) return;
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const s = sessions.get(sid);
      if (!s) {
        sendJsonError(res, 404, -32001, 'session not found');
        return;
      }
      await s.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      sendJsonError(
        res,
        400,
        -32600,
        'a session id (mcp-session-id) is required; start with an initialize POST',
      );
      return;
    }
    if (sessions.size + pendingConnections.size >= options.maxSessions) {
      sendJsonError(res, 503, -32000, `too many sessions (limit ${options.maxSessions})`);
      return;
    }
    const conn = options.newConnection();
    pendingConnections.add(conn);
    const transport: HttpSessionTransport = new HttpSessionTransport({
      newSessionId: () => randomUUID(),
      maxMessageBytes: options.maxMessageBytes,
      onSessionInitialized: (id) => {
        sessions.set(id, { transport, conn });
        pendingConnections.delete(conn);
      },
    });
    conn.onClose(() => {
      pendingConnections.delete(conn);
      const id = transport.sessionId;
      if (id !== undefined && sessions.get(id)?.conn === conn) sessions.delete(id);
    });
    await conn.connect(transport);
    await transport.handleRequest(req, res);
    if (transport.sessionId === undefined || !sessions.has(transport.sessionId)) {
      // The first message was not an initialize: nothing to keep.
      await conn.close();
    }
  };

  // noDelay: a reply is one write, and an event stream's later events must not wait for an ACK.
  const server: Server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log(`HTTP request failed: ${errorText(error)}`);
      sendJsonError(res, 500, -32603, 'internal error in the gateway');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostForUrl}:${addr.port}${options.path}`,
    get sessions() {
      return sessions.size;
    },
    async close() {
      await Promise.allSettled([...sessions.values()].map((s) => s.conn.close()));
      await Promise.allSettled([...pendingConnections].map((c) => c.close()));
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      });
    },
  };
}
