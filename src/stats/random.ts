/**
 * Seeded pseudo-random numbers for reproducible simulations (bench/stats-simulation.ts, tests); not for
 * anything security-related. Math.random cannot be seeded. xoshiro128** has a 2¹²⁸ − 1 period, so the
 * hundreds of millions of draws of one simulation never wrap (mulberry32 alone cycles after 2³²); mulberry32
 * only expands the 32-bit seed into its state.
 */
export interface Rng {
  /** Uniform on [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** xoshiro128** (Blackman & Vigna) returning uniforms on [0, 1). */
export function xoshiro128(seed: number): () => number {
  const init = mulberry32(seed);
  let s0 = (init() * 4294967296) >>> 0;
  let s1 = (init() * 4294967296) >>> 0;
  let s2 = (init() * 4294967296) >>> 0;
  let s3 = (init() * 4294967296) >>> 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  return () => {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return r / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seeded generator: xoshiro128** uniforms; normals by Marsaglia's polar method (no sin/cos, about twice
 * as fast as Box–Muller here), caching the second deviate of each pair.
 */
export function createRng(seed: number): Rng {
  const uniform = xoshiro128(seed);
  let spare: number | undefined;
  return {
    uniform,
    normal() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let a: number;
      let b: number;
      let q: number;
      do {
        a = 2 * uniform() - 1;
        b = 2 * uniform() - 1;
        q = a * a + b * b;
      } while (q >= 1 || q === 0);
      const f = Math.sqrt((-2 * Math.log(q)) / q);
      spare = b * f;
      return a * f;
    },
  };
}
