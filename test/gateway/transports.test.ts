import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatingFetch, isMalformedMessageError } from '../../src/gateway/transports.js';

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (req.url === '/slow') {
      res.write('first chunk\n');
      return; // never ends: only an abort stops the reader
    }
    res.end('done');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) =>
    server.close(() => {
      r();
    }),
  );
});

describe('isolatingFetch', () => {
  it('leaves no listener on the shared signal once each response is read', async () => {
    const shared = new AbortController();
    const f = isolatingFetch();
    for (let i = 0; i < 300; i++)
      expect(await (await f(`${url}/x`, { signal: shared.signal })).text()).toBe('done');
    expect(getEventListeners(shared.signal, 'abort').length).toBe(0);
  });

  it('still aborts a response in flight when the shared signal aborts', async () => {
    const shared = new AbortController();
    const res = await isolatingFetch()(`${url}/slow`, { signal: shared.signal });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value as Uint8Array)).toContain('first chunk');
    expect(getEventListeners(shared.signal, 'abort').length).toBe(1);
    shared.abort(new Error('closing'));
    await expect(reader.read()).rejects.toThrow();
    expect(getEventListeners(shared.signal, 'abort').length).toBe(0);
  });

  it('refuses to start with an aborted signal', async () => {
    const shared = new AbortController();
    shared.abort(new Error('already closed'));
    await expect(isolatingFetch()(`${url}/x`, { signal: shared.signal })).rejects.toThrow(/already closed/);
  });
});

describe('malformed message errors', () => {
  it('tells parse errors from shape errors', () => {
    expect(isMalformedMessageError(new SyntaxError('x'))).toBe('parse');
    const zod = new Error('bad');
    zod.name = 'ZodError';
    expect(isMalformedMessageError(zod)).toBe('shape');
    expect(isMalformedMessageError(new Error('other'))).toBeUndefined();
  });
});
