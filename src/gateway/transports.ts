/**
 * Transport adapters: the only file of the gateway that knows how bytes move. Everything else speaks
 * JSON-RPC messages through the SDK's `Transport` interface, so the router is the same whether the client
 * is on stdio or streamable HTTP and whether an upstream is a child process or a URL.
 */
import type { Readable, Writable } from 'node:stream';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { HttpUpstreamTransport } from './http-upstream.js';

export type { Transport };

const DEFAULT_MAX_UPSTREAM_BYTES = 16 * 1024 * 1024;

/** How to start a stdio upstream. */
export interface StdioUpstreamOptions {
  command: string;
  args: string[];
  /** Environment on top of the SDK's minimal safe set (HOME, LOGNAME, PATH, SHELL, TERM, USER). */
  env: Record<string, string>;
  cwd?: string;
  /** Largest single message read from the server. */
  maxMessageBytes: number;
  /** Receives the server's stderr, line by line (the gateway's stdout carries protocol only). */
  onStderr: (line: string) => void;
}

/** A transport factory for a stdio upstream: each call spawns a fresh process (used again on restart). */
export function stdioUpstream(options: StdioUpstreamOptions): () => Transport {
  return () => {
    const t = new StdioClientTransport({
      command: options.command,
      args: options.args,
      env: options.env,
      stderr: 'pipe',
      maxBufferSize: options.maxMessageBytes,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const stderr = t.stderr;
    if (stderr) {
      let buffered = '';
      stderr.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        if (buffered.length > 64 * 1024) buffered = buffered.slice(-64 * 1024);
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          options.onStderr(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      });
    }
    return t;
  };
}

/** How to reach a streamable-HTTP upstream. */
export interface HttpUpstreamOptions {
  url: string;
  /** Headers sent with every request (credentials resolved by the gateway, never from the client). */
  headers: Record<string, string>;
  /** Largest reply body or event read from the server (default 16 MiB). */
  maxMessageBytes?: number;
}

/**
 * For clients of the gateway that use the SDK's HTTP client (the benchmark does; the gateway's own upstream
 * client does not use fetch): a fetch that gives every request its own AbortSignal, linked to the one the
 * caller passes and unlinked when the response body ends. The SDK's HTTP client passes one connection-wide
 * signal to every fetch, and Node's fetch removes its listener from that signal only when the request is
 * garbage-collected: under sustained traffic thousands of listeners pile up and each new request gets
 * slower (MaxListenersExceeded).
 */
export function isolatingFetch(base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const shared = init?.signal;
    if (!shared) return base(input, init);
    shared.throwIfAborted();
    const own = new AbortController();
    const onAbort = () => {
      own.abort(shared.reason);
    };
    shared.addEventListener('abort', onAbort, { once: true });
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      shared.removeEventListener('abort', onAbort);
    };
    let res: Response;
    try {
      res = await base(input, { ...init, signal: own.signal });
    } catch (error) {
      release();
      throw error;
    }
    const body = res.body;
    if (!body) {
      release();
      return res;
    }
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    const linked = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const chunk = (await reader.read()) as
            { done: true; value?: undefined } | { done: false; value: Uint8Array };
          if (chunk.done) {
            release();
            controller.close();
          } else controller.enqueue(chunk.value);
        } catch (error) {
          release();
          controller.error(error);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    });
    return new Response(linked, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/**
 * A transport factory for a streamable-HTTP upstream (./http-upstream.ts: `node:http` with keep-alive, not
 * the SDK's fetch-based client). Redirects are followed within the origin only.
 */
export function httpUpstream(options: HttpUpstreamOptions): () => Transport {
  return () =>
    new HttpUpstreamTransport({
      url: options.url,
      headers: options.headers,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_UPSTREAM_BYTES,
      reconnect: { maxRetries: 2, initialDelayMs: 500, maxDelayMs: 5_000, growFactor: 1.5 },
    });
}

/** The client side of a stdio gateway: protocol messages on `stdout`, nothing else. */
export function stdioClientSide(options: {
  stdin: Readable;
  stdout: Writable;
  maxMessageBytes: number;
}): Transport {
  return new StdioServerTransport(options.stdin, options.stdout, { maxBufferSize: options.maxMessageBytes });
}

/** True for the errors the SDK's transports report for bytes that are not a JSON-RPC message. */
export function isMalformedMessageError(error: unknown): 'parse' | 'shape' | undefined {
  if (error instanceof SyntaxError) return 'parse';
  if (error instanceof Error && error.name === 'ZodError') return 'shape';
  return undefined;
}
