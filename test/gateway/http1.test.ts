import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Pool, HttpProtocolError, isHeaderName, isHeaderValue } from '../../src/gateway/http1.js';

/**
 * A raw server that answers each request (one per `respond` call, in order) with scripted bytes, possibly
 * in several writes, so the client's framing is tested on the wire it will meet.
 */
let server: Server | undefined;
let pool: Http1Pool | undefined;
let connections = 0;
const requests: string[] = [];

afterEach(async () => {
  pool?.close();
  pool = undefined;
  requests.length = 0;
  if (server)
    await new Promise<void>((r) =>
      server?.close(() => {
        r();
      }),
    );
  server = undefined;
});

async function scripted(replies: (string[] | ((s: Socket) => void))[]): Promise<Http1Pool> {
  connections = 0;
  let next = 0;
  server = createServer((socket) => {
    connections++;
    let buf = '';
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        requests.push(buf.slice(0, end + 4 + len));
        buf = buf.slice(end + 4 + len);
        const reply = replies[next++];
        if (typeof reply === 'function') reply(socket);
        else
          for (const [i, part] of (reply ?? []).entries())
            setTimeout(() => socket.write(Buffer.from(part, 'latin1')), i * 5);
      }
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  pool = new Http1Pool('127.0.0.1', (server.address() as AddressInfo).port, 1_000);
  return pool;
}

async function fetchText(
  p: Http1Pool,
  body = '{}',
): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  const reply = await p.request('POST /mcp HTTP/1.1\r\nhost: x\r\n', body);
  const chunks: Buffer[] = [];
  await reply.read((c) => chunks.push(c));
  return { status: reply.status, headers: reply.headers, text: Buffer.concat(chunks).toString('utf8') };
}

describe('Http1Pool', () => {
  it('reads Content-Length and chunked bodies (extensions, trailers, split anywhere) on one kept-alive connection', async () => {
    const p = await scripted([
      ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhe', 'llo'],
      [
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nab',
        'c\r\n1',
        '0\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n',
      ],
      ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'],
    ]);
    const a = await fetchText(p);
    expect(a).toMatchObject({
      status: 200,
      text: 'hello',
      headers: { 'x-a': '1, 2', 'content-length': '5' },
    });
    expect((await fetchText(p)).text).toBe('abc0123456789abcdef');
    expect((await fetchText(p)).status).toBe(204);
    expect(connections).toBe(1);
    expect(requests[0]).toMatch(/^POST \/mcp HTTP\/1\.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n\{\}$/);
  });

  it('reads a body delimited by the close, and does not reuse that connection', async () => {
    const p = await scripted([
      (s) => {
        s.write('HTTP/1.1 200 OK\r\n\r\nuntil ');
        setTimeout(() => s.end('the end'), 10);
      },
      ['HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'],
    ]);
    expect((await fetchText(p)).text).toBe('until the end');
    expect((await fetchText(p)).text).toBe('ok');
    expect((await fetchText(p)).text).toBe('ok');
    expect(connections).toBe(3);
  });

  it('fails on responses that do not parse, and on a connection that breaks mid-body', async () => {
    const p = await scripted([
      ['HTTP/1.1 200 OK\r\n folded: header\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
      ['ICY 200 OK\r\n\r\n'],
      (s) => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
        setTimeout(() => s.destroy(), 10);
      },
    ]);
    for (let i = 0; i < 5; i++) await expect(fetchText(p)).rejects.toBeInstanceOf(HttpProtocolError);
    await expect(fetchText(p)).rejects.toThrow(/closed/);
  });

  it('refuses a response head larger than 64 KiB', async () => {
    const p = await scripted([['HTTP/1.1 200 OK\r\nX-Big: ' + 'a'.repeat(70 * 1024)]]);
    await expect(fetchText(p)).rejects.toThrow(/too large/);
  });

  it('a reply discarded before its end closes the connection instead of reusing it', async () => {
    const p = await scripted([
      ['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'],
    ]);
    const reply = await p.request('GET /mcp HTTP/1.1\r\nhost: x\r\n', undefined);
    reply.discard();
    expect((await fetchText(p)).text).toBe('x');
    expect(connections).toBe(2);
  });
});

describe('header checks', () => {
  it('accepts tokens and plain values, refuses what could split a request', () => {
    expect(isHeaderName('mcp-session-id')).toBe(true);
    expect(isHeaderName('bad name')).toBe(false);
    expect(isHeaderName('x\r\ny')).toBe(false);
    expect(isHeaderValue('Bearer abc')).toBe(true);
    expect(isHeaderValue('abc\r\nx-injected: 1')).toBe(false);
    expect(isHeaderValue('a\0b')).toBe(false);
  });
});

describe('Http1Pool against a hostile server', () => {
  it('settles every request, reply or error, whatever bytes come back (fuzzed)', async () => {
    // Random bytes, and random mutations of a valid response, each on a fresh connection: the pool never
    // throws out of band, never hangs, and reports either a parsed reply or an error.
    const fc = await import('fast-check');
    const valid =
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
    const arbitraryReply = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
      fc
        .tuple(fc.nat({ max: valid.length }), fc.string({ maxLength: 20 }), fc.nat({ max: 10 }))
        .map(([at, insert, cut]) => valid.slice(0, at) + insert + valid.slice(at + cut)),
    );
    await fc.assert(
      fc.asyncProperty(arbitraryReply, async (bytes) => {
        const p = await scripted([
          (socket) => {
            socket.end(Buffer.from(bytes, 'latin1'));
          },
        ]);
        const outcome = await Promise.race([
          fetchText(p).then(
            () => 'reply',
            (error: unknown) => (error instanceof Error ? 'error' : 'non-error rejection'),
          ),
          new Promise<string>((r) =>
            setTimeout(() => {
              r('hang');
            }, 2_000),
          ),
        ]);
        pool?.close();
        pool = undefined;
        await new Promise<void>((r) =>
          server?.close(() => {
            r();
          }),
        );
        server = undefined;
        expect(['reply', 'error']).toContain(outcome);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
