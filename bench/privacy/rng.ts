import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** One seeded, independent stream of random numbers. */
export interface Stream {
    /** Uniform in [0, 1) (53 bits). */
    float(): number;
    /** Uniform integer in [min, max], both included, unbiased. */
    int(min: number, max: number): number;
    /** Exponential with the given mean (inverse transform). */
    exponential(mean: number): number;
}

/**
 * Independent streams from one seed (pure-rand's xoroshiro128+, each stream 2^64 draws
 * from the previous by `jump()`, as pure-rand recommends for independent simulations).
 * Stream i depends only on the seed and i, so the workload (arrivals, token counts, pod
 * routing) is identical for every flush policy of one run: the policies are compared on the
 * same actions, and the no-batching baseline is a true same-run baseline.
 */
export function streams(seed: number): (index: number) => Stream {
    return (index) => {
        const rng = xoroshiro128plus(seed);
        for (let i = 0; i <= index; i++) {
            rng.jump();
        }
        return {
            float: () => uniformFloat64(rng),
            int: (min, max) => uniformInt(rng, min, max),
            exponential: (mean) => -mean * Math.log(1 - uniformFloat64(rng))
        };
    };
}
