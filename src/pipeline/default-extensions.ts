import type { Extension } from './runtime.js';

/**
 * The modules Warden loads by default, in no particular order (stages carry their own order).
 * Each module owns its extension file; adding a module is one line here.
 */
export async function defaultExtensions(): Promise<Extension[]> {
  const loaded = await Promise.all([
    // Each entry is `import('../<module>/extension.js')` exporting `extension(): Extension`.
    import('../observe/extension.js'),
    import('../trust/extension.js'),
    import('../gateway/extension.js'),
    import('../actions/extension.js'),
    import('../maturity/extension.js'),
  ] as Promise<{ extension: () => Extension }>[]);
  return loaded.map((m) => m.extension());
}
