import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, WardenError } from '../core/errors.js';
import { wardenConfigSchema, type WardenConfig } from './schema.js';

/** Largest config file Warden will read. A policy is text a person writes; anything bigger is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** YAML aliases allowed in one file; caps "billion laughs" expansion. */
const MAX_ALIASES = 100;

/** A loaded configuration and where it came from. */
export interface LoadedConfig {
  config: WardenConfig;
  /** Absolute path of the file, or undefined when parsed from a string. */
  path: string | undefined;
  /** Directory relative paths in the config resolve against. */
  baseDir: string;
}

/** Reads, parses and validates a `warden.yaml`. Throws `ConfigError` naming every problem; never returns a half-valid config. */
export function loadConfigFile(file: string): LoadedConfig {
  const path = resolve(file);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (cause) {
    throw new WardenError('CONFIG_NOT_FOUND', `cannot read ${path}`, {
      hint: 'create one with `warden init` or pass --config <file>',
      cause,
    });
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new WardenError('CONFIG_TOO_LARGE', `${path} is ${size} bytes; the limit is ${MAX_CONFIG_BYTES}`, {
      hint: 'a warden.yaml is a policy a person reads; split data out of it',
    });
  }
  const text = readFileSync(path, 'utf8');
  return { config: parseConfig(text, path), path, baseDir: dirname(path) };
}

/** Parses and validates config text (YAML or JSON). `origin` names it in messages. */
export function parseConfig(text: string, origin = 'warden.yaml'): WardenConfig {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    throw new WardenError('CONFIG_TOO_LARGE', `${origin} is larger than ${MAX_CONFIG_BYTES} bytes`);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `${origin} is not valid YAML`,
      doc.errors.map((e) => ({
        path: e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(file)',
        message: e.message.split('\n')[0] ?? e.message,
        fix: 'fix the YAML syntax at that position',
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (cause) {
    throw new ConfigError(`${origin} could not be expanded`, [
      {
        path: '(file)',
        message: cause instanceof Error ? cause.message : String(cause),
        fix: `use fewer YAML aliases (at most ${MAX_ALIASES} expansions)`,
      },
    ]);
  }
  return validateConfig(raw, origin);
}

/** Validates an already-parsed object. */
export function validateConfig(raw: unknown, origin = 'warden.yaml'): WardenConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${origin} must be a mapping with at least \`version: 1\` and \`agents:\``, [
      { path: '(root)', message: 'expected a mapping', fix: 'start from `warden init`' },
    ]);
  }
  const parsed = wardenConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`${origin} does not validate`, parsed.error.issues.map(describeIssue));
  }
  const config = parsed.data;
  const problems = crossCheck(config);
  if (problems.length > 0) throw new ConfigError(`${origin} does not validate`, problems);
  return config;
}

function pathOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : (i === 0 ? '' : '.') + String(p))).join('');
}

function describeIssue(issue: z.core.$ZodIssue): { path: string; message: string; fix?: string } {
  return describeZodIssue(issue, pathOf(issue.path), '`warden schema`');
}

/**
 * Turns one zod issue into path, problem and fix. Shared by every file format Warden validates
 * (warden.yaml, scenarios), so their errors read alike; `reference` names where valid keys are listed.
 */
export function describeZodIssue(
  issue: z.core.$ZodIssue,
  path: string,
  reference: string,
): { path: string; message: string; fix?: string } {
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        path,
        message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `\`${k}\``).join(', ')}`,
        fix: `remove it or check its spelling against ${reference}`,
      };
    case 'invalid_type':
      return { path, message: issue.message, fix: `give a value of type ${issue.expected}` };
    case 'invalid_value':
      return {
        path,
        message: issue.message,
        fix: `use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default:
      return { path, message: issue.message };
  }
}

function crossCheck(config: WardenConfig): { path: string; message: string; fix?: string }[] {
  const problems: { path: string; message: string; fix?: string }[] = [];
  const dup = (list: { key: string; path: string }[], what: string) => {
    const seen = new Set<string>();
    for (const item of list) {
      if (seen.has(item.key)) {
        problems.push({
          path: item.path,
          message: `duplicate ${what} \`${item.key}\``,
          fix: `give each ${what} a unique name`,
        });
      }
      seen.add(item.key);
    }
  };
  dup(
    config.agents.map((a, i) => ({ key: a.id, path: `agents[${i}].id` })),
    'agent id',
  );
  dup(
    config.tools.map((t, i) => ({
      key: t.server ? `${t.server}/${t.name}` : t.name,
      path: `tools[${i}].name`,
    })),
    'tool',
  );
  dup(
    config.sources.map((s, i) => ({ key: s.name, path: `sources[${i}].name` })),
    'source',
  );
  config.tools.forEach((t, i) => {
    if (t.authoritative && t.tier === 3) {
      problems.push({
        path: `tools[${i}].tier`,
        message: `tool \`${t.name}\` is authoritative but its results are tier 3`,
        fix: 'an authoritative tool returns trusted data: set tier 1 or 2, or drop `authoritative`',
      });
    }
  });
  return problems;
}

/** Formats a ConfigError for a terminal. */
export function formatConfigError(error: ConfigError): string {
  const lines = [error.message + ':'];
  for (const issue of error.issues) {
    lines.push(`  - ${issue.path}: ${issue.message}${issue.fix ? ` (fix: ${issue.fix})` : ''}`);
  }
  return lines.join('\n');
}
