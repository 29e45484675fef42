import { describe, expect, it } from 'vitest';
import { classify, errorResponse } from '../../src/gateway/jsonrpc.js';

describe('JSON-RPC classification', () => {
  it('tells requests, notifications and responses apart', () => {
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'ping' }).kind).toBe('request');
    expect(classify({ jsonrpc: '2.0', method: 'notifications/x' }).kind).toBe('notification');
    expect(classify({ jsonrpc: '2.0', id: 'a', result: {} }).kind).toBe('response');
    expect(classify({ jsonrpc: '2.0', id: 'a', error: { code: 1, message: 'm' } }).kind).toBe('response');
  });

  it('rejects what it cannot trust, and says whether to answer', () => {
    const cases: [unknown, boolean][] = [
      [null, true],
      [[], true],
      [{ jsonrpc: '1.0', id: 1, method: 'x' }, true],
      [{ jsonrpc: '2.0', id: 1.5, method: 'x' }, true],
      [{ jsonrpc: '2.0', id: null, method: 'x' }, true],
      [{ jsonrpc: '2.0', id: 1, method: 'x', params: [1] }, true],
      [{ jsonrpc: '2.0', id: 1, method: '' }, true],
      [{ jsonrpc: '2.0', id: 'x'.repeat(300), method: 'x' }, true],
      [{ jsonrpc: '2.0', id: 1, result: 'not an object' }, false],
      [{ jsonrpc: '2.0', result: {} }, false],
      [{ jsonrpc: '2.0', id: 1 }, true],
    ];
    for (const [m, answer] of cases) {
      const c = classify(m);
      expect(c.kind).toBe('invalid');
      if (c.kind === 'invalid') expect(c.answer).toBe(answer);
    }
  });

  it('leaves out the id of an error it cannot attribute', () => {
    expect(errorResponse(undefined, -32700, 'parse error')).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'parse error' },
    });
  });
});
