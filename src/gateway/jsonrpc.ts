/**
 * JSON-RPC 2.0 as the gateway sees it: cheap structural classification of messages that may come from an
 * untrusted peer, and builders for the replies the gateway writes itself. The SDK's transports already
 * parse and validate what arrives on the wire; this module does not trust that (the router is also driven
 * by in-memory transports and fuzzed), so it checks the few fields it relies on.
 */
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

export type { JSONRPCMessage, RequestId };

/** JSON-RPC and MCP error codes the gateway uses. */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** MCP: the connection closed (used for an upstream that exited). */
  connectionClosed: -32000,
  /** MCP: the request timed out (used for an upstream that did not answer). */
  requestTimeout: -32001,
  /** MCP: resource not found. */
  resourceNotFound: -32002,
  /** Gateway-specific: Warden withheld the content of a reply. */
  withheld: -32010,
} as const;

/** A request as the router handles it. `params` is a plain object or absent. */
export interface RpcRequest {
  jsonrpc: '2.0';
  id: RequestId;
  method: string;
  params?: Record<string, unknown>;
}

/** A notification as the router handles it. */
export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

/** A response (result or error). */
export interface RpcResponse {
  jsonrpc: '2.0';
  id: RequestId;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** What a message is, after a structural check. `invalid` carries the id when one could be read. */
export type Classified =
  | { kind: 'request'; msg: RpcRequest }
  | { kind: 'notification'; msg: RpcNotification }
  | { kind: 'response'; msg: RpcResponse }
  /** `answer` is false for a malformed response: JSON-RPC never answers a response, even a broken one. */
  | { kind: 'invalid'; id: RequestId | undefined; problem: string; answer: boolean };

/** True for a plain JSON object (not an array, not null, not a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

const MAX_ID_CHARS = 256;

/** A usable request id: a string of bounded length or a safe integer. */
export function isRequestId(value: unknown): value is RequestId {
  return (
    (typeof value === 'string' && value.length <= MAX_ID_CHARS) ||
    (typeof value === 'number' && Number.isSafeInteger(value))
  );
}

/** Classifies one message. Never throws. */
export function classify(message: unknown): Classified {
  if (!isPlainObject(message))
    return { kind: 'invalid', id: undefined, problem: 'a message must be a JSON object', answer: true };
  const m = message;
  const id = isRequestId(m.id) ? m.id : undefined;
  const hasMethod = 'method' in m;
  if (m.jsonrpc !== '2.0')
    return { kind: 'invalid', id, problem: 'jsonrpc must be "2.0"', answer: hasMethod };
  if (hasMethod) {
    if (typeof m.method !== 'string' || m.method.length === 0 || m.method.length > 256) {
      return { kind: 'invalid', id, problem: 'method must be a non-empty string', answer: true };
    }
    if (m.params !== undefined && !isPlainObject(m.params))
      return { kind: 'invalid', id, problem: 'params must be an object', answer: true };
    if ('id' in m) {
      if (id === undefined)
        return { kind: 'invalid', id: undefined, problem: 'id must be a string or an integer', answer: true };
      return { kind: 'request', msg: m as unknown as RpcRequest };
    }
    return { kind: 'notification', msg: m as unknown as RpcNotification };
  }
  if (id === undefined)
    return {
      kind: 'invalid',
      id: undefined,
      problem: 'a response needs a string or integer id',
      answer: false,
    };
  if ('result' in m) {
    if (!isPlainObject(m.result))
      return { kind: 'invalid', id, problem: 'result must be an object', answer: false };
    return { kind: 'response', msg: m as unknown as RpcResponse };
  }
  if ('error' in m) {
    const e = m.error;
    if (!isPlainObject(e) || typeof e.code !== 'number' || typeof e.message !== 'string') {
      return { kind: 'invalid', id, problem: 'error must have a numeric code and a message', answer: false };
    }
    return { kind: 'response', msg: m as unknown as RpcResponse };
  }
  return { kind: 'invalid', id, problem: 'a message needs a method, a result or an error', answer: true };
}

/** An error response. `id` is omitted when the request's id could not be read (JSON-RPC allows it). */
export function errorResponse(
  id: RequestId | undefined,
  code: number,
  message: string,
  data?: unknown,
): JSONRPCMessage {
  const error = data === undefined ? { code, message } : { code, message, data };
  return id === undefined ? { jsonrpc: '2.0', error } : { jsonrpc: '2.0', id, error };
}

/** A result response. */
export function resultResponse(id: RequestId, result: Record<string, unknown>): JSONRPCMessage {
  return { jsonrpc: '2.0', id, result };
}

/** A request. */
export function request(id: RequestId, method: string, params?: Record<string, unknown>): JSONRPCMessage {
  return params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
}

/** A notification. */
export function notification(method: string, params?: Record<string, unknown>): JSONRPCMessage {
  return params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params };
}

/** The progress token a request carries in `_meta`, if any. */
export function progressTokenOf(params: Record<string, unknown> | undefined): string | number | undefined {
  const meta = params?._meta;
  if (!isPlainObject(meta)) return undefined;
  const t = meta.progressToken;
  return typeof t === 'string' || (typeof t === 'number' && Number.isFinite(t)) ? t : undefined;
}

/** Message text of an unknown error, without a stack. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
