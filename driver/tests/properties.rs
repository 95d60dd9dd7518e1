//! Property tests: random shapes and chunkings, compared with ndarray.

mod common;

use common::*;
use ndarray::Axis;
use proptest::prelude::*;

fn shape_and_chunks() -> impl Strategy<Value = (Vec<usize>, Vec<u64>)> {
    prop::collection::vec(1usize..24, 1..=3).prop_flat_map(|shape| {
        let chunks: Vec<_> = shape.iter().map(|&s| 1u64..=s as u64 + 2).collect();
        (Just(shape), chunks)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn sum_of_squares_over_an_axis((shape, chunks) in shape_and_chunks(), axis_pick in 0usize..3, split_every in 2u64..5) {
        let s = spec();
        let axis = axis_pick % shape.len();
        let (a, ar) = stored_input(&s, &shape, &chunks, 99);
        let sq = cubed::multiply(&a, &a).unwrap();
        let r = cubed::sum(&sq, &cubed::Reduce::axis(&[axis as i64]).split_every(split_every)).unwrap();
        let got = compute(&[&r]);
        let want = ar.mapv(|x| x * x).sum_axis(Axis(axis));
        assert_close(&got[0], &want, &format!("sum(a*a, axis={axis}) shape {shape:?} chunks {chunks:?}"));
    }

    #[test]
    fn rechunk_is_the_identity_on_values((shape, chunks) in shape_and_chunks(), target_seed in any::<u64>()) {
        let s = spec().with_allowed_mem(108_800_000);
        let (a, ar) = stored_input(&s, &shape, &chunks, 5);
        let target: Vec<u64> = shape.iter().enumerate().map(|(k, &n)| 1 + (target_seed >> (8 * k)) % n as u64).collect();
        let got = compute(&[&cubed::rechunk(&a, &target).unwrap()]);
        assert_close(&got[0], &ar, &format!("rechunk {shape:?} {chunks:?} -> {target:?}"));
    }
}
