import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SCENARIO_SUFFIX } from './scenario-schema.js';

/**
 * Expands the paths a user gives (`examples/`, `a.scenario.yaml`) into scenario files: a directory
 * stands for every `*.scenario.yaml` directly inside it, sorted by name; a file is taken as is.
 */
export function findScenarioFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      // Not there: keep it, so loading it reports a clear error.
    }
    if (!isDir) {
      out.push(abs);
      continue;
    }
    const names = readdirSync(abs)
      .filter((n) => n.endsWith(SCENARIO_SUFFIX))
      .sort();
    out.push(...names.map((n) => join(abs, n)));
  }
  return [...new Set(out)];
}
