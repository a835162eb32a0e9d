'use strict'
// A small seeded PRNG (mulberry32) so differential runs are reproducible from one number.

function makeRng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const r = {
    next,
    /** Integer in [lo, hi]. */
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    /** True with probability p. */
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    /** Picks from [[weight, value], ...]. */
    weighted: (pairs) => {
      const total = pairs.reduce((s, [w]) => s + w, 0)
      let x = next() * total
      for (const [w, v] of pairs) {
        x -= w
        if (x < 0) return v
      }
      return pairs[pairs.length - 1][1]
    },
    /** `n` picks (with repetition) from `arr`. */
    some: (arr, lo, hi) => Array.from({ length: r.int(lo, hi) }, () => r.pick(arr)),
  }
  return r
}

module.exports = { makeRng }
