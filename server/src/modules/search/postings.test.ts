import { describe, expect, it } from 'vitest';
import { IdBitset, firstInOrder, intersect, intersectAll, toIdSet, unionAll } from './postings.js';

// Checked against plain Set arithmetic on random sets of very different sizes, where the
// galloping search and the merges have their edge cases.
function random(n: number, max: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % max;
  });
}

const sorted = (values: Iterable<number>) => [...new Set(values)].sort((a, b) => a - b);

describe('sorted id sets', () => {
  it('sorts and removes duplicates', () => {
    expect([...toIdSet([5, 3, 5, 1, 3, 2_000_000_000])]).toEqual([1, 3, 5, 2_000_000_000]);
    expect([...toIdSet([])]).toEqual([]);
  });

  it.each([
    [0, 10],
    [1, 1000],
    [50, 100_000],
    [3000, 3000],
    [20_000, 40],
  ])('intersects and unites sets of %i and %i ids like Set arithmetic', (m, n) => {
    const max = Math.max(m, n) * 2 + 1;
    const a = random(m, max, m + 1);
    const b = random(n, max, n + 7);
    const c = random(Math.ceil(n / 2), max, 99);
    const [sa, sb, sc] = [a, b, c].map(toIdSet) as [Int32Array, Int32Array, Int32Array];
    const inB = new Set(b);
    const inC = new Set(c);
    expect([...intersect(sa, sb)]).toEqual(sorted(a.filter((x) => inB.has(x))));
    expect([...intersect(sb, sa)]).toEqual(sorted(a.filter((x) => inB.has(x))));
    expect([...intersectAll([sa, sb, sc])]).toEqual(
      sorted(a.filter((x) => inB.has(x) && inC.has(x))),
    );
    expect([...unionAll([sa, sb, sc])]).toEqual(sorted([...a, ...b, ...c]));
    expect([...unionAll([])]).toEqual([]);
    expect(new IdBitset(sa).countIn(sb)).toBe(intersect(sa, sb).length);
    expect(new IdBitset(sc).countIn(sa)).toBe(intersect(sc, sa).length);
  });

  it.each([0, 1, 21, 500, 1000, 1001, 5000])(
    'picks the first %i ids by (key, id) like a full sort, both ways',
    (n) => {
      const ids = toIdSet(random(3000, 1_000_000, 5));
      // Few distinct keys, so ties are decided by the id.
      const keys = new Map(Array.from(ids, (id, i) => [id, (i * 7919) % 50]));
      for (const dir of ['asc', 'desc'] as const) {
        const sign = dir === 'asc' ? 1 : -1;
        const expected = [...ids]
          .sort((a, b) => sign * (keys.get(a)! - keys.get(b)!) || sign * (a - b))
          .slice(0, n);
        expect(firstInOrder(ids, keys, dir, n)).toEqual(expected);
      }
    },
  );
});
