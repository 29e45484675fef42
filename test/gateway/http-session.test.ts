import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpSessionTransport } from '../../src/gateway/http-session.js';
import type { JSONRPCMessage } from '../../src/gateway/jsonrpc.js';

/**
 * The session transport behind a bare node:http server, with a scripted "router": each test decides what
 * is sent back for which request.
 */
let server: Server;
let url: URL;
let session: HttpSessionTransport;
let received: unknown[];
let onMessage: (m: { id?: number | string; method?: string }) => void;
let initialized: string[];

beforeEach(async () => {
  received = [];
  initialized = [];
  onMessage = () => undefined;
  session = new HttpSessionTransport({
    maxMessageBytes: 10_000,
    newSessionId: () => 'sid-1',
    onSessionInitialized: (id) => initialized.push(id),
    keepAliveMs: 0,
  });
  session.onmessage = (m) => {
    received.push(m);
    onMessage(m);
  };
  server = createServer((req, res) => {
    void session.handleRequest(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
});

afterEach(async () => {
  await session.close();
  server.closeAllConnections();
  await new Promise<void>((r) =>
    server.close(() => {
      r();
    }),
  );
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function http(
  method: string,
  body: string | undefined,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request(
      url,
      {
        method,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          done({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

const init = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } },
});
const withSession = { 'mcp-session-id': 'sid-1', 'mcp-protocol-version': '2025-06-18' };
const post = (m: unknown, headers: Record<string, string> = withSession) =>
  http('POST', JSON.stringify(m), headers);
const answer = (id: number | string, text = 'ok'): JSONRPCMessage => ({
  jsonrpc: '2.0',
  id,
  result: { text },
});

async function initialize(): Promise<void> {
  onMessage = (m) => {
    if (m.method === 'initialize') void session.send(answer(0, 'hello'));
  };
  const r = await http('POST', init);
  expect(r.status).toBe(200);
  onMessage = () => undefined;
}

function events(body: string): unknown[] {
  return body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as unknown);
}

describe('HttpSessionTransport', () => {
  it('answers a request with one JSON body when the answer is the first thing sent', async () => {
    onMessage = (m) => {
      if (m.method === 'initialize') void session.send(answer(0, 'hello'));
    };
    const r = await http('POST', init);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['mcp-session-id']).toBe('sid-1');
    expect(JSON.parse(r.body)).toEqual(answer(0, 'hello'));
    expect(initialized).toEqual(['sid-1']);
    expect(session.sessionId).toBe('sid-1');
  });

  it('turns the reply into an event stream when a notification or a request comes first', async () => {
    await initialize();
    onMessage = (m) => {
      if (m.method !== 'tools/call' || m.id === undefined) return;
      const id = m.id;
      void session.send(
        { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: 1 } },
        { relatedRequestId: id },
      );
      void session.send(
        { jsonrpc: '2.0', id: 1, method: 'elicitation/create', params: {} },
        { relatedRequestId: id },
      );
      setTimeout(() => void session.send(answer(id, 'done')), 10);
    };
    const r = await post({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'x' } });
    expect(r.headers['content-type']).toBe('text/event-stream');
    expect(events(r.body)).toEqual([
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: 1 } },
      { jsonrpc: '2.0', id: 1, method: 'elicitation/create', params: {} },
      answer(5, 'done'),
    ]);
  });

  it('answers a batch with an array, 202 for notifications and responses only', async () => {
    await initialize();
    onMessage = (m) => {
      if (m.id !== undefined && m.method !== undefined) void session.send(answer(m.id, String(m.id)));
    };
    const batch = await post([
      { jsonrpc: '2.0', id: 'a', method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'b', method: 'ping' },
    ]);
    expect(JSON.parse(batch.body)).toEqual([answer('a', 'a'), answer('b', 'b')]);
    const accepted = await post({ jsonrpc: '2.0', id: 3, result: {} });
    expect(accepted.status).toBe(202);
    expect(received).toContainEqual({ jsonrpc: '2.0', id: 3, result: {} });
  });

  it('sends messages tied to no request on the GET stream', async () => {
    await initialize();
    const chunks: string[] = [];
    const open = new Promise<IncomingHttpHeaders>((done) => {
      request(url, { method: 'GET', headers: { accept: 'text/event-stream', ...withSession } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => chunks.push(c));
        done(res.headers);
      }).end();
    });
    expect((await open)['content-type']).toBe('text/event-stream');
    const second = await http('GET', undefined, { accept: 'text/event-stream', ...withSession });
    expect(second.status).toBe(409);
    await session.send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    await expect
      .poll(() => events(chunks.join('')))
      .toEqual([{ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
  });

  it('refuses what the SDK transport refuses, with the same status codes', async () => {
    expect((await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, {})).status).toBe(400); // not initialized
    await initialize();
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    expect((await http('POST', init)).status).toBe(400); // initialized twice
    expect((await post(ping, { accept: 'application/json', ...withSession })).status).toBe(406);
    expect((await post(ping, { 'content-type': 'text/plain', ...withSession })).status).toBe(415);
    expect((await post(ping, { 'mcp-session-id': 'other' })).status).toBe(404);
    expect(
      (await post(ping, { 'mcp-session-id': 'sid-1', 'mcp-protocol-version': '1999-01-01' })).status,
    ).toBe(400);
    const bad = await http('POST', '{not json', withSession);
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: -32700 } });
    expect((await post([], withSession)).status).toBe(400);
    expect((await post({ nothing: true })).status).toBe(400);
    const huge = await post({ jsonrpc: '2.0', id: 2, method: 'ping', params: { pad: 'x'.repeat(20_000) } });
    expect(huge.status).toBe(413);
    expect((await http('PUT', '{}', withSession)).status).toBe(405);
    expect(received.filter((m) => (m as { method?: string }).method === 'ping')).toEqual([]);
  });

  it('refuses a request id already in flight instead of mixing up two replies', async () => {
    await initialize();
    let first: (() => void) | undefined;
    onMessage = (m) => {
      if (m.id === 7)
        first = () => {
          void session.send(answer(7, 'first'));
        };
    };
    const a = post({ jsonrpc: '2.0', id: 7, method: 'ping' });
    await expect.poll(() => first !== undefined).toBe(true);
    const b = await post({ jsonrpc: '2.0', id: 7, method: 'ping' });
    expect(b.status).toBe(400);
    first?.();
    expect(JSON.parse((await a).body)).toEqual(answer(7, 'first'));
  });

  it('answers open requests with an error when the session closes, and DELETE closes it', async () => {
    await initialize();
    const pending = post({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: {} });
    await expect.poll(() => received.some((m) => (m as { id?: number }).id === 11)).toBe(true);
    let closed = 0;
    session.onclose = () => closed++;
    const del = await http('DELETE', undefined, withSession);
    expect(del.status).toBe(200);
    expect(JSON.parse((await pending).body)).toMatchObject({ id: 11, error: { code: -32000 } });
    expect(closed).toBe(1);
    expect((await post({ jsonrpc: '2.0', id: 12, method: 'ping' })).status).toBe(404);
  });
});
