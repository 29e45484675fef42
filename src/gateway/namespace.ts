/**
 * Names the client sees when several servers sit behind one gateway. With `auto`, a name offered by one
 * server passes unchanged and a name offered by several becomes `server__name` for each of them; with
 * `always`, every name is prefixed. The mapping is kept both ways so calls route to the right server under
 * the server's own name.
 */

/** Separator between server and tool in namespaced names. */
export const NAMESPACE_SEPARATOR = '__';

/** One named item (tool, prompt) of one server. */
export interface Named<T> {
  server: string;
  name: string;
  item: T;
}

/** A named item with the name the client sees. */
export interface Exposed<T> extends Named<T> {
  exposed: string;
}

/**
 * Gives every item its client-facing name. Items whose namespaced name would still collide (a server that
 * already uses `x__y` names) keep the first one and drop the rest; `dropped` lists them so the caller can log.
 */
export function assignNames<T>(
  items: readonly Named<T>[],
  mode: 'auto' | 'always',
): { exposed: Exposed<T>[]; dropped: Named<T>[] } {
  const servers = new Map<string, Set<string>>();
  for (const it of items) {
    let set = servers.get(it.name);
    if (!set) servers.set(it.name, (set = new Set()));
    set.add(it.server);
  }
  const taken = new Set<string>();
  const exposed: Exposed<T>[] = [];
  const dropped: Named<T>[] = [];
  const seenInServer = new Set<string>();
  for (const it of items) {
    const own = `${it.server}\u0000${it.name}`;
    if (seenInServer.has(own)) {
      dropped.push(it);
      continue;
    }
    seenInServer.add(own);
    const collides = (servers.get(it.name)?.size ?? 0) > 1;
    const name = mode === 'always' || collides ? `${it.server}${NAMESPACE_SEPARATOR}${it.name}` : it.name;
    if (taken.has(name)) {
      dropped.push(it);
      continue;
    }
    taken.add(name);
    exposed.push({ ...it, exposed: name });
  }
  return { exposed, dropped };
}
