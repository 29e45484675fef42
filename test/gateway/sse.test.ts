import { describe, expect, it } from 'vitest';
import { SseParser, sseMessage, type SseEvent } from '../../src/gateway/sse.js';

function parse(chunks: string[], max = 1_000): { events: SseEvent[]; retries: number[] } {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const p = new SseParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms) }, max);
  for (const c of chunks) p.push(c);
  return { events, retries };
}

describe('SseParser', () => {
  it('dispatches events on blank lines, joining data lines, with LF, CR and CRLF endings', () => {
    const { events } = parse([
      'event: message\ndata: {"a":1}\n\n',
      'data: x\r\ndata:y\r\rdata: last\r\n\r\n',
    ]);
    expect(events).toEqual([
      { event: 'message', data: '{"a":1}', id: undefined },
      { event: 'message', data: 'x\ny', id: undefined },
      { event: 'message', data: 'last', id: undefined },
    ]);
  });

  it('handles a CRLF and a field split across chunks', () => {
    const { events } = parse(['da', 'ta: one\r', '\ndata: two\r', '\n\r', '\n']);
    expect(events).toEqual([{ event: 'message', data: 'one\ntwo', id: undefined }]);
  });

  it('skips comments and events without data, keeps the last id, reads retry', () => {
    const { events, retries } = parse([
      ': keepalive\n\n',
      'id: 7\ndata: \n\n',
      'id: 8\nretry: 250\ndata: z\n\n',
      'retry: x\n\n',
    ]);
    // A priming event (an id and empty data) dispatches nothing, but its id counts.
    expect(events).toEqual([{ event: 'message', data: 'z', id: '8' }]);
    expect(retries).toEqual([250]);
  });

  it('refuses a line or an event larger than its cap', () => {
    expect(() => parse(['data: ' + 'x'.repeat(2_000)], 1_000)).toThrow(RangeError);
    expect(() =>
      parse(
        Array.from({ length: 30 }, () => 'data: ' + 'y'.repeat(50) + '\n'),
        1_000,
      ),
    ).toThrow(RangeError);
  });

  it('frames a message the parser reads back', () => {
    const json = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: 'a\nb' } });
    expect(parse([sseMessage(json)]).events).toEqual([{ event: 'message', data: json, id: undefined }]);
  });
});
