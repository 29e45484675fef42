/**
 * Server-sent events, both ways, for the gateway's own streamable-HTTP transports: an incremental parser for
 * the streams an upstream sends, and the framing of the events the gateway sends its clients. Plain strings
 * and callbacks, no web streams: this is on the path of every HTTP tool call.
 */

/** One dispatched event. `data` is the data lines joined with `\n`. */
export interface SseEvent {
  event: string;
  data: string;
  /** The event's `id` (the stream's last event id as of this event), if any was set. */
  id: string | undefined;
}

/** Callbacks of a parser. */
export interface SseHandlers {
  onEvent(event: SseEvent): void;
  /** A `retry:` field: the reconnection delay the server asks for, ms. */
  onRetry?(ms: number): void;
}

/**
 * Incremental SSE parser (the WHATWG event-stream format): feed it text as it arrives. Lines end in LF, CR
 * or CRLF, also when a CRLF is split across chunks. A line or an event larger than `maxBytes` characters
 * throws, so a server cannot make the gateway buffer without bound.
 */
export class SseParser {
  /** The last event id seen on the stream (persists across events, as in the spec). */
  lastEventId: string | undefined;
  private buffer = '';
  private data: string[] = [];
  private dataChars = 0;
  private event = '';
  private sawCr = false;
  private readonly handlers: SseHandlers;
  private readonly maxChars: number;

  constructor(handlers: SseHandlers, maxChars: number) {
    this.handlers = handlers;
    this.maxChars = maxChars;
  }

  /** Feeds a chunk of decoded text. */
  push(text: string): void {
    let s = text;
    if (this.sawCr) {
      // The previous chunk ended in CR: a LF starting this one belongs to it.
      this.sawCr = false;
      if (s.startsWith('\n')) s = s.slice(1);
    }
    const all = this.buffer.length > 0 ? this.buffer + s : s;
    let start = 0;
    const n = all.length;
    for (let i = 0; i < n; i++) {
      const c = all.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(all.slice(start, i));
      if (c === 13) {
        if (i + 1 < n) {
          if (all.charCodeAt(i + 1) === 10) i++;
        } else this.sawCr = true;
      }
      start = i + 1;
    }
    this.buffer = start >= n ? '' : all.slice(start);
    if (this.buffer.length > this.maxChars) {
      this.buffer = '';
      throw new RangeError(`an event-stream line is larger than ${this.maxChars} characters`);
    }
  }

  private line(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment (keep-alives)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataChars += value.length + 1;
        if (this.dataChars > this.maxChars) {
          this.data = [];
          this.dataChars = 0;
          throw new RangeError(`an event-stream event is larger than ${this.maxChars} characters`);
        }
        this.data.push(value);
        return;
      case 'event':
        this.event = value;
        return;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        return;
      case 'retry':
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        return;
      default:
      // Unknown fields are ignored, as the format requires.
    }
  }

  private dispatch(): void {
    const event = this.event || 'message';
    this.event = '';
    if (this.data.length === 0) return;
    const data = this.data.length === 1 ? (this.data[0] ?? '') : this.data.join('\n');
    this.data = [];
    this.dataChars = 0;
    // An empty data buffer dispatches nothing (a priming event is only an id).
    if (data === '') return;
    this.handlers.onEvent({ event, data, id: this.lastEventId });
  }
}

/** Frames one JSON-RPC message as an SSE `message` event (JSON never contains a raw newline). */
export function sseMessage(json: string): string {
  return `event: message\ndata: ${json}\n\n`;
}
