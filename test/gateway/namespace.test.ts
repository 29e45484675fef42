import { describe, expect, it } from 'vitest';
import { assignNames } from '../../src/gateway/namespace.js';

const items = (list: [string, string][]) =>
  list.map(([server, name]) => ({ server, name, item: `${server}/${name}` }));

describe('namespacing', () => {
  it('prefixes only colliding names with auto, every name with always', () => {
    const auto = assignNames(
      items([
        ['a', 'echo'],
        ['b', 'echo'],
        ['a', 'search'],
      ]),
      'auto',
    );
    expect(auto.exposed.map((e) => e.exposed)).toEqual(['a__echo', 'b__echo', 'search']);
    const always = assignNames(items([['a', 'search']]), 'always');
    expect(always.exposed.map((e) => e.exposed)).toEqual(['a__search']);
  });

  it('drops duplicates within a server and names that still collide once prefixed', () => {
    const out = assignNames(
      items([
        ['a', 'x'],
        ['a', 'x'],
        ['b', 'a__y'],
        ['a', 'y'],
        ['c', 'y'],
      ]),
      'auto',
    );
    expect(out.exposed.map((e) => e.exposed)).toEqual(['x', 'a__y', 'c__y']);
    expect(out.dropped.map((d) => d.item)).toEqual(['a/x', 'a/y']);
  });
});
