import { describe, expect, it } from 'vitest';
import { compileGlob, looksLikeGlob, nameMatcher } from '../../src/actions/grants/glob.js';
import { compileWhere, MAX_TESTED_LENGTH } from '../../src/actions/grants/schema-compile.js';
import { whereSchema } from '../../src/config/sections/actions.js';

const where = (w: unknown) => compileWhere(whereSchema.parse(w));

describe('globs', () => {
  it('path globs keep * inside a segment and let ** cross them', () => {
    const one = compileGlob('acme/*', { segmented: true });
    expect(one.test('acme/web')).toBe(true);
    expect(one.test('acme/web/evil')).toBe(false);
    expect(one.test('acme/')).toBe(true);
    const deep = compileGlob('src/**/*.ts', { segmented: true });
    expect(deep.test('src/a.ts')).toBe(true);
    expect(deep.test('src/a/b/c.ts')).toBe(true);
    expect(deep.test('lib/a.ts')).toBe(false);
    expect(compileGlob('a?c', { segmented: true }).test('a/c')).toBe(false);
    expect(compileGlob('a\\*c', { segmented: true }).test('abc')).toBe(false);
    expect(compileGlob('a\\*c', { segmented: true }).test('a*c')).toBe(true);
    expect(compileGlob('(x)+[y]', { segmented: true }).test('(x)+[y]')).toBe(true);
  });

  it('name globs match any run, and plain names are compared exactly', () => {
    expect(nameMatcher('github.*')('github.create/issue')).toBe(true);
    expect(nameMatcher('deploy')('deploy')).toBe(true);
    expect(nameMatcher('deploy')('deploy2')).toBe(false);
    expect(looksLikeGlob('a\\*b')).toBe(false);
    expect(looksLikeGlob('a*b')).toBe(true);
  });
});

describe('where constraints', () => {
  it('matches exact values as text, globs, lists and numeric bounds', () => {
    const w = where({ repoId: 'acme/*', env: ['staging', 'prod'], amount: { max: 500 }, account: 12345 });
    expect(w.test({ repoId: 'acme/web', env: 'prod', amount: 20, account: 12345 }, 'allow')).toBe(true);
    expect(w.test({ repoId: 'acme/web', env: 'prod', amount: '20', account: '12345' }, 'allow')).toBe(true);
    expect(w.test({ repoId: 'acme/web', env: 'dev', amount: 20, account: 12345 }, 'allow')).toBe(false);
    expect(w.test({ repoId: 'acme/web', env: 'prod', amount: 501, account: 12345 }, 'allow')).toBe(false);
    expect(w.failures({ repoId: 'other/x', env: 'prod', amount: 501 })).toEqual([
      'repoId must be like "acme/*" (got "other/x")',
      'amount must be <= 500 (got 501)',
      'account must be "12345" (absent)',
    ]);
  });

  it('reads dotted paths, preferring a literal dotted key, and never the prototype', () => {
    const w = where({ 'target.repo': 'acme/*' });
    expect(w.test({ target: { repo: 'acme/x' } }, 'allow')).toBe(true);
    expect(w.test({ 'target.repo': 'acme/y' }, 'allow')).toBe(true);
    expect(w.test({ target: {} }, 'allow')).toBe(false);
    const proto = where({ 'constructor.name': 'Object' });
    expect(proto.test({}, 'deny')).toBe(false);
  });

  it('reads doubt as "no" for an allow-list and "yes" for a deny-list', () => {
    const w = where({ amount: { max: 500 } });
    for (const doubtful of [{ amount: 'lots' }, { amount: { value: 1 } }, { amount: null }]) {
      expect(w.test(doubtful, 'allow')).toBe(false);
      expect(w.test(doubtful, 'deny')).toBe(true);
    }
    const long = where({ path: { regex: '[a-z/]+' } });
    const huge = 'a'.repeat(MAX_TESTED_LENGTH + 1);
    expect(long.test({ path: huge }, 'allow')).toBe(false);
    expect(long.test({ path: huge }, 'deny')).toBe(true);
    // A value wrapped in an object cannot slip past a deny-list.
    expect(where({ env: 'prod' }).test({ env: { v: 'prod' } }, 'deny')).toBe(true);
  });

  it('needs every element of an array for an allow-list, any one for a deny-list', () => {
    const w = where({ paths: 'src/**' });
    expect(w.test({ paths: ['src/a', 'src/b/c'] }, 'allow')).toBe(true);
    expect(w.test({ paths: ['src/a', 'etc/passwd'] }, 'allow')).toBe(false);
    expect(w.test({ paths: ['docs/a', 'src/b'] }, 'deny')).toBe(true);
    expect(w.test({ paths: [] }, 'allow')).toBe(false);
  });

  it('normalises path-like values so .. cannot climb out of an allowed tree or around a denied one', () => {
    const allow = where({ path: 'src/**' });
    expect(allow.test({ path: 'src/../../etc/passwd' }, 'allow')).toBe(false);
    expect(allow.test({ path: 'src/./a/../b.ts' }, 'allow')).toBe(true);
    const denied = where({ path: 'secrets/**' });
    expect(denied.test({ path: 'public/../secrets/key' }, 'deny')).toBe(true);
    expect(denied.test({ path: 'public//../secrets/key' }, 'deny')).toBe(true);
  });

  it('supports operators: prefix, regex (anchored), ignoreCase, oneOf, present', () => {
    expect(
      where({ host: { glob: '*.example.com', ignoreCase: true } }).test({ host: 'API.Example.COM' }, 'allow'),
    ).toBe(true);
    expect(where({ host: { glob: '*.example.com' } }).test({ host: 'API.Example.COM' }, 'allow')).toBe(false);
    expect(where({ url: { prefix: 'https://' } }).test({ url: 'http://x' }, 'allow')).toBe(false);
    expect(where({ id: { regex: '[0-9]+' } }).test({ id: '12a' }, 'allow')).toBe(false);
    expect(where({ id: { regex: '[0-9]+' } }).test({ id: '12' }, 'allow')).toBe(true);
    expect(where({ env: { oneOf: ['a', 'b'] } }).test({ env: 'b' }, 'allow')).toBe(true);
    expect(where({ force: { present: false } }).test({}, 'allow')).toBe(true);
    expect(where({ force: { present: false } }).test({ force: true }, 'allow')).toBe(false);
    expect(where({ ticket: { present: true } }).test({}, 'allow')).toBe(false);
  });

  it('rejects constraints that cannot match or cannot compile', () => {
    expect(whereSchema.safeParse({ a: { min: 5, max: 1 } }).success).toBe(false);
    expect(whereSchema.safeParse({ a: { regex: '(' } }).success).toBe(false);
    expect(whereSchema.safeParse({ a: {} }).success).toBe(false);
    expect(whereSchema.safeParse({ a: { present: false, equals: 1 } }).success).toBe(false);
  });
});
