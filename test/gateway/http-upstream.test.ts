import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpUpstreamTransport, resendable } from '../../src/gateway/http-upstream.js';
import type { JSONRPCMessage } from '../../src/gateway/jsonrpc.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

const servers: (Server | NetServer)[] = [];
const transports: HttpUpstreamTransport[] = [];

afterEach(async () => {
  for (const t of transports.splice(0)) await t.close();
  for (const s of servers.splice(0)) {
    if ('closeAllConnections' in s) s.closeAllConnections();
    await new Promise<void>((r) =>
      s.close(() => {
        r();
      }),
    );
  }
});

let connections = 0;

async function serve(handler: Handler): Promise<string> {
  connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      handler(req, body, res);
    });
  });
  server.on('connection', () => connections++);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

function transport(url: string, maxMessageBytes = 1_000_000): { t: HttpUpstreamTransport; got: unknown[] } {
  const t = new HttpUpstreamTransport({
    url,
    headers: { authorization: 'Bearer upstream-token' },
    maxMessageBytes,
    reconnect: { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 20, growFactor: 1 },
  });
  const got: unknown[] = [];
  t.onmessage = (m) => got.push(m);
  transports.push(t);
  return { t, got };
}

const call = (id: number): JSONRPCMessage => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'x' },
});
const answer = (id: number, text = 'ok') => ({
  jsonrpc: '2.0',
  id,
  result: { content: [{ type: 'text', text }] },
});
const sse = (m: unknown, id?: string) =>
  `${id === undefined ? '' : `id: ${id}\n`}event: message\ndata: ${JSON.stringify(m)}\n\n`;

describe('HttpUpstreamTransport', () => {
  it('posts JSON, keeps the session id and protocol version, and delivers a JSON reply', async () => {
    const seen: IncomingMessage['headers'][] = [];
    const url = await serve((req, body, res) => {
      seen.push(req.headers);
      const m = JSON.parse(body) as { id: number };
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'sess-1' });
      res.end(JSON.stringify(answer(m.id)));
    });
    const { t, got } = transport(url);
    await t.start();
    await t.send(call(1));
    t.setProtocolVersion('2025-06-18');
    await t.send(call(2));
    expect(got).toEqual([answer(1), answer(2)]);
    expect(t.sessionId).toBe('sess-1');
    expect(seen[0]?.['mcp-session-id']).toBeUndefined();
    expect(seen[1]).toMatchObject({
      'mcp-session-id': 'sess-1',
      'mcp-protocol-version': '2025-06-18',
      authorization: 'Bearer upstream-token',
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    });
    // Both requests went over one kept-alive connection.
    expect(connections).toBe(1);
  });

  it('delivers an event stream in order, notifications before the answer', async () => {
    const url = await serve((_req, body, res) => {
      const m = JSON.parse(body) as { id: number };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keepalive\n\n');
      res.write(
        sse({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } }),
      );
      setTimeout(() => res.end(sse(answer(m.id, 'streamed'))), 20);
    });
    const { t, got } = transport(url);
    await t.send(call(5));
    expect(got).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } },
      answer(5, 'streamed'),
    ]);
  });

  it('fails the send when a stream ends without the answer, and resumes one that had an event id', async () => {
    let resumedWith: string | undefined;
    const url = await serve((req, body, res) => {
      if (req.method === 'GET') {
        const last = req.headers['last-event-id'];
        if (typeof last === 'string') {
          resumedWith = last;
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(sse(answer(9, 'resumed'), 'e2'));
          return;
        }
        res.writeHead(405).end();
        return;
      }
      const m = JSON.parse(body) as { id: number };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // id 8: a stream that just ends; id 9: a priming event id, then the server drops the stream.
      res.end(m.id === 9 ? 'id: e1\ndata: \n\n' : ': nothing\n\n');
    });
    const { t, got } = transport(url);
    await expect(t.send(call(8))).rejects.toThrow(/without answering request 8/);
    await t.send(call(9));
    expect(resumedWith).toBe('e1');
    expect(got).toEqual([answer(9, 'resumed')]);
  });

  it('refuses a reply larger than its cap, and an unexpected content type', async () => {
    const url = await serve((req, body, res) => {
      const m = JSON.parse(body) as { id: number };
      if (m.id === 1) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse(answer(1, 'x'.repeat(5_000))));
      } else if (m.id === 2) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer(2, 'y'.repeat(5_000))));
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>');
      }
    });
    const { t, got } = transport(url, 2_000);
    await expect(t.send(call(1))).rejects.toThrow(/larger than/);
    await expect(t.send(call(2))).rejects.toThrow(/larger than/);
    await expect(t.send(call(3))).rejects.toThrow(/content type/);
    expect(got).toEqual([]);
  });

  it('reports HTTP errors with their status, and follows redirects within the origin only', async () => {
    const url = await serve((req, body, res) => {
      if (req.url === '/mcp') {
        res.writeHead(307, { location: '/moved' }).end();
        return;
      }
      if (req.url === '/moved') {
        const m = JSON.parse(body) as { id: number };
        if (m.id === 2) {
          res.writeHead(307, { location: 'http://elsewhere.invalid/mcp' }).end();
          return;
        }
        if (m.id === 3) {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Session not found"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer(m.id)));
      }
    });
    const { t, got } = transport(url);
    await t.send(call(1));
    expect(got).toEqual([answer(1)]);
    await expect(t.send(call(2))).rejects.toThrow(/HTTP 307.*not followed/);
    await expect(t.send(call(3))).rejects.toMatchObject({
      status: 404,
      message: expect.stringMatching(/Session not found/),
    });
  });

  it('opens the GET stream after notifications/initialized and delivers what arrives on it', async () => {
    let gets = 0;
    const url = await serve((req, _body, res) => {
      if (req.method === 'GET') {
        gets++;
        expect(req.headers.accept).toBe('text/event-stream');
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(sse({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }));
        return; // stays open
      }
      res.writeHead(202).end();
    });
    const { t, got } = transport(url);
    await t.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await expect.poll(() => got.length).toBe(1);
    expect(got[0]).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(gets).toBe(1);
  });

  it('sends a read request again on a fresh connection when a kept-alive socket is reset under it, never a tool call', async () => {
    // A raw server: the first request on each connection is answered (kept alive), a second one on the
    // same connection is reset unread, as a server closing an idle socket at that moment does.
    connections = 0;
    const server = createNetServer((socket: Socket) => {
      connections++;
      let requests = 0;
      let buf = '';
      socket.on('data', (c: Buffer) => {
        buf += c.toString();
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = JSON.parse(buf.slice(end + 4, end + 4 + len)) as { id: number };
        buf = '';
        if (++requests > 1) {
          socket.resetAndDestroy();
          return;
        }
        const out = JSON.stringify(answer(body.id));
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(out)}\r\nconnection: keep-alive\r\n\r\n${out}`,
        );
      });
      socket.on('error', () => undefined);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { t, got } = transport(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
    const list = (id: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, method: 'tools/list' });
    await t.send(list(1));
    await t.send(list(2));
    expect(got).toEqual([answer(1), answer(2)]);
    expect(connections).toBe(2);
    // A tool call on a reused connection that is reset: the server may have run it, so it is not sent again
    // (it could be a payment); the call fails and the client sees the error.
    await expect(t.send(call(3))).rejects.toThrow();
    expect(got).toEqual([answer(1), answer(2)]);
    expect(connections).toBe(2);
  });

  it('knows which messages are safe to deliver twice', () => {
    expect(resendable({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBe(true);
    expect(resendable({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } })).toBe(
      true,
    );
    expect(resendable({ jsonrpc: '2.0', id: 1, result: {} })).toBe(true);
    expect(resendable(call(1))).toBe(false);
    expect(resendable({ jsonrpc: '2.0', id: 1, method: 'vendor/anything' })).toBe(false);
    expect(resendable([{ jsonrpc: '2.0', id: 1, method: 'ping' }, call(2)])).toBe(false);
  });

  it('close() stops a request in flight and reports the close once', async () => {
    const url = await serve((_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': waiting\n\n'); // never answers
    });
    const { t } = transport(url);
    let closes = 0;
    t.onclose = () => closes++;
    const pending = t.send(call(1));
    await new Promise((r) => setTimeout(r, 50));
    await t.close();
    await t.close();
    await expect(pending).rejects.toThrow();
    expect(closes).toBe(1);
    await expect(t.send(call(2))).rejects.toThrow(/closed/);
  });
});
