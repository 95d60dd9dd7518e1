//! Deterministic random numbers: one independent stream per (seed, block), so a
//! re-run of any task writes identical bytes.

/// SplitMix64: a tiny, fast generator with good statistical quality, used here
/// both to derive per-block seeds and to draw values.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// `n` uniform values in `[0, 1)` for block number `block` of a random array with `seed`.
pub fn uniform_block(seed: u64, block: u64, n: usize) -> Vec<f64> {
    let mut mix = SplitMix64(seed);
    let stream = mix.next() ^ block.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut rng = SplitMix64(SplitMix64(stream).next());
    (0..n).map(|_| (rng.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_reproducible_and_distinct() {
        assert_eq!(uniform_block(1, 7, 100), uniform_block(1, 7, 100));
        assert_ne!(uniform_block(1, 7, 100), uniform_block(1, 8, 100));
        assert_ne!(uniform_block(1, 7, 100), uniform_block(2, 7, 100));
        let v = uniform_block(3, 0, 100_000);
        assert!(v.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }
}
