import type { WardenEvent } from '../core/types.js';

const MAX_ID = 256;

function badId(value: unknown): boolean {
  return typeof value !== 'string' || value.length === 0 || value.length > MAX_ID;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Checks the shape of an event that may come from untyped JavaScript or the wire. Returns a description
 * of the first problem, or undefined. Cheap: it looks at fields, not at whole payloads.
 */
export function validateEvent(event: WardenEvent): string | undefined {
  const e = event as unknown as Record<string, unknown>;
  if (!isPlainObject(e)) return 'the event is not an object';
  const actor = e.actor as Record<string, unknown> | undefined;
  if (!isPlainObject(actor)) return 'the event has no actor';
  if (badId(actor.agent)) return 'actor.agent must be a non-empty string of at most 256 characters';
  if (badId(actor.session)) return 'actor.session must be a non-empty string of at most 256 characters';
  switch (event.kind) {
    case 'tool.call':
    case 'tool.result': {
      const call = e.call as Record<string, unknown> | undefined;
      if (!isPlainObject(call)) return 'call is missing';
      if (badId(call.tool)) return 'call.tool must be a non-empty string';
      if (!isPlainObject(call.args)) return 'call.args must be a plain object';
      if (call.server !== undefined && badId(call.server)) return 'call.server must be a non-empty string';
      if (call.rationale !== undefined && typeof call.rationale !== 'string')
        return 'call.rationale must be a string';
      return undefined;
    }
    case 'ingest': {
      const c = e.content as Record<string, unknown> | undefined;
      if (!isPlainObject(c)) return 'content is missing';
      if (badId(c.source)) return 'content.source must be a non-empty string';
      if (typeof c.text !== 'string') return 'content.text must be a string';
      if (c.tier !== undefined && c.tier !== 1 && c.tier !== 2 && c.tier !== 3)
        return 'content.tier must be 1, 2 or 3';
      return undefined;
    }
    case 'message': {
      const m = e.message as Record<string, unknown> | undefined;
      if (!isPlainObject(m)) return 'message is missing';
      if (badId(m.from) || badId(m.to)) return 'message.from and message.to must be agent ids';
      if (typeof m.payload !== 'string') return 'message.payload must be a string';
      return undefined;
    }
    case 'memory.write':
    case 'memory.read': {
      const m = e.memory as Record<string, unknown> | undefined;
      if (!isPlainObject(m)) return 'memory is missing';
      if (badId(m.namespace) || badId(m.key))
        return 'memory.namespace and memory.key must be non-empty strings';
      return undefined;
    }
    case 'credential.issue':
    case 'credential.revoke': {
      const c = e.credential as Record<string, unknown> | undefined;
      if (!isPlainObject(c) || badId(c.name)) return 'credential.name must be a non-empty string';
      return undefined;
    }
    default:
      return `unknown event kind ${JSON.stringify(e.kind)}`;
  }
}
