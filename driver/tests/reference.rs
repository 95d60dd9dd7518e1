//! Every operation against an independent in-memory ndarray computation, on
//! awkward shapes: chunks that do not divide the shape, 1-d, 3-d, one chunk.

mod common;

use common::*;
use cubed::{Array, DType};
use ndarray::{ArrayD, Axis, Zip};

fn map2(a: &ArrayD<f64>, b: &ArrayD<f64>, f: impl Fn(f64, f64) -> f64) -> ArrayD<f64> {
    let shape = cubed_task::chunk::broadcast_shape(a.shape(), b.shape()).unwrap();
    let (av, bv) = (a.broadcast(shape.clone()).unwrap(), b.broadcast(shape).unwrap());
    Zip::from(&av).and(&bv).map_collect(|&x, &y| f(x, y))
}

fn reduce_ref(a: &ArrayD<f64>, axes: &[usize], f: fn(&ndarray::ArrayViewD<f64>, Axis) -> ArrayD<f64>) -> ArrayD<f64> {
    let mut out = a.clone();
    for &k in axes.iter().rev() {
        out = f(&out.view(), Axis(k));
    }
    out
}

fn sum_ref(a: &ArrayD<f64>, axes: &[usize]) -> ArrayD<f64> {
    reduce_ref(a, axes, |v, ax| v.sum_axis(ax))
}
fn min_ref(a: &ArrayD<f64>, axes: &[usize]) -> ArrayD<f64> {
    reduce_ref(a, axes, |v, ax| v.fold_axis(ax, f64::INFINITY, |&m, &x| m.min(x)))
}
fn max_ref(a: &ArrayD<f64>, axes: &[usize]) -> ArrayD<f64> {
    reduce_ref(a, axes, |v, ax| v.fold_axis(ax, f64::NEG_INFINITY, |&m, &x| m.max(x)))
}

#[test]
fn elementwise_ops_match_ndarray() {
    let s = spec();
    let (a, ar) = stored_input(&s, &[23, 17], &[5, 4], 1);
    let (b, br) = input(&s, &[23, 17], &[5, 4], 2);
    let (row, rowr) = input(&s, &[17], &[4], 3);
    let (col, colr) = input(&s, &[23, 1], &[6, 1], 4);
    let two = cubed::scalar(&s, 2.0, DType::Float64);
    let half = cubed::scalar(&s, 0.5, DType::Float64);
    let cases: Vec<(&str, Array, ArrayD<f64>)> = vec![
        ("a+b", cubed::add(&a, &b).unwrap(), map2(&ar, &br, |x, y| x + y)),
        ("a-b", cubed::subtract(&a, &b).unwrap(), map2(&ar, &br, |x, y| x - y)),
        ("a*b", cubed::multiply(&a, &b).unwrap(), map2(&ar, &br, |x, y| x * y)),
        ("a/b", cubed::divide(&a, &b).unwrap(), map2(&ar, &br, |x, y| x / y)),
        ("a**2", cubed::pow(&a, &two).unwrap(), ar.mapv(|x| x * x)),
        ("-a", cubed::negative(&a).unwrap(), ar.mapv(|x| -x)),
        ("abs(a-0.5)", cubed::abs(&cubed::subtract(&a, &half).unwrap()).unwrap(), ar.mapv(|x| (x - 0.5).abs())),
        ("sqrt", cubed::sqrt(&a).unwrap(), ar.mapv(f64::sqrt)),
        ("exp", cubed::exp(&a).unwrap(), ar.mapv(f64::exp)),
        ("log", cubed::log(&a).unwrap(), ar.mapv(f64::ln)),
        ("sin", cubed::sin(&a).unwrap(), ar.mapv(f64::sin)),
        ("cos", cubed::cos(&a).unwrap(), ar.mapv(f64::cos)),
        ("a<b", cubed::less(&a, &b).unwrap(), map2(&ar, &br, |x, y| f64::from(u8::from(x < y)))),
        ("a>=b", cubed::greater_equal(&a, &b).unwrap(), map2(&ar, &br, |x, y| f64::from(u8::from(x >= y)))),
        ("a==a", cubed::equal(&a, &a).unwrap(), ar.mapv(|_| 1.0)),
        ("where", cubed::where_(&cubed::greater(&a, &b).unwrap(), &a, &b).unwrap(), map2(&ar, &br, f64::max)),
        ("a+row", cubed::add(&a, &row).unwrap(), map2(&ar, &rowr, |x, y| x + y)),
        ("a*col", cubed::multiply(&a, &col).unwrap(), map2(&ar, &colr, |x, y| x * y)),
        ("row*col", cubed::multiply(&row, &col).unwrap(), map2(&rowr, &colr, |x, y| x * y)),
        ("astype int32", cubed::astype(&cubed::multiply(&a, &cubed::scalar(&s, 10.0, DType::Float64)).unwrap(), DType::Int32).unwrap(), ar.mapv(|x| (x * 10.0).trunc())),
        ("a*a+b*b", cubed::add(&cubed::multiply(&a, &a).unwrap(), &cubed::multiply(&b, &b).unwrap()).unwrap(), map2(&ar, &br, |x, y| x * x + y * y)),
    ];
    let arrays: Vec<&Array> = cases.iter().map(|c| &c.1).collect();
    let got = compute(&arrays);
    for ((name, _, want), got) in cases.iter().zip(&got) {
        assert_close(got, want, name);
    }
}

#[test]
fn reductions_match_ndarray_on_awkward_shapes() {
    let s = spec();
    let shapes: Vec<(Vec<usize>, Vec<u64>)> = vec![
        (vec![101], vec![7]),
        (vec![23, 17], vec![5, 4]),
        (vec![9, 10, 11], vec![2, 3, 4]),
        (vec![5, 6], vec![5, 6]),
    ];
    for (i, (shape, chunks)) in shapes.iter().enumerate() {
        let (a, ar) = stored_input(&s, shape, chunks, 10 + i as u64);
        let n = shape.len();
        let mut axis_sets: Vec<Vec<usize>> = (0..n).map(|k| vec![k]).collect();
        axis_sets.push((0..n).collect());
        if n == 3 {
            axis_sets.push(vec![0, 2]);
        }
        for axes in &axis_sets {
            let ax: Vec<i64> = axes.iter().map(|&k| k as i64).collect();
            for split_every in [2, 4] {
                let cases = [
                    ("sum", cubed::sum(&a, &cubed::Reduce::axis(&ax).split_every(split_every)).unwrap(), sum_ref(&ar, axes)),
                    ("mean", cubed::mean(&a, &cubed::Reduce::axis(&ax).split_every(split_every)).unwrap(), sum_ref(&ar, axes) / axes.iter().map(|&k| shape[k] as f64).product::<f64>()),
                    ("min", cubed::min(&a, &cubed::Reduce::axis(&ax).split_every(split_every)).unwrap(), min_ref(&ar, axes)),
                    ("max", cubed::max(&a, &cubed::Reduce::axis(&ax).split_every(split_every)).unwrap(), max_ref(&ar, axes)),
                ];
                let arrays: Vec<&Array> = cases.iter().map(|c| &c.1).collect();
                for ((name, _, want), got) in cases.iter().zip(compute(&arrays)) {
                    assert_close(&got, want, &format!("{name} over {axes:?} of {shape:?} chunks {chunks:?} split_every {split_every}"));
                }
            }
        }
    }
}

#[test]
fn fused_reduction_of_an_expression_matches_ndarray() {
    let s = spec();
    let (a, ar) = stored_input(&s, &[40, 30], &[7, 8], 21);
    let (b, br) = stored_input(&s, &[40, 30], &[7, 8], 22);
    let e = cubed::add(&cubed::multiply(&cubed::sin(&a).unwrap(), &b).unwrap(), &cubed::scalar(&s, 1.0, DType::Int64)).unwrap();
    let got = compute(&[&cubed::sum(&e, &cubed::Reduce::axis(&[1])).unwrap()]);
    let want = sum_ref(&map2(&ar.mapv(f64::sin), &br, |x, y| x * y + 1.0), &[1]);
    assert_close(&got[0], &want, "sum(sin(a)*b + 1, axis=1)");
}

#[test]
fn rechunk_preserves_values_through_intermediates() {
    let s = spec().with_allowed_mem(112_000_000); // ~4 MB of budget beyond reserve and overhead: forces small copies
    let (a, ar) = stored_input(&s, &[230, 170], &[50, 1], 31);
    for target in [[1u64, 170], [7, 9], [230, 170], [23, 1]] {
        let r = cubed::rechunk(&a, &target).unwrap();
        assert_eq!(r.chunks(), &target);
        let got = compute(&[&r]);
        assert_close(&got[0], &ar, &format!("rechunk to {target:?}"));
    }
}

#[test]
fn integer_and_bool_dtypes_follow_numpy() {
    let s = spec();
    let i = cubed::arange(&s, 0.0, 100.0, 1.0, 7, DType::Int32).unwrap();
    let total = cubed::sum(&i, &cubed::Reduce::all()).unwrap();
    assert_eq!(total.dtype(), DType::Int64);
    let evens = cubed::sum(&cubed::equal(&cubed::scalar(&s, 0.0, DType::Int64), &cubed::subtract(&i, &cubed::multiply(&cubed::astype(&cubed::divide(&i, &cubed::scalar(&s, 2.0, DType::Int64)).unwrap(), DType::Int32).unwrap(), &cubed::scalar(&s, 2.0, DType::Int64)).unwrap()).unwrap()).unwrap(), &cubed::Reduce::all()).unwrap();
    assert_eq!(evens.dtype(), DType::Int64);
    let f = cubed::astype(&i, DType::Float32).unwrap();
    let m = cubed::mean(&f, &cubed::Reduce::all()).unwrap();
    assert_eq!(m.dtype(), DType::Float32);
    let got = compute(&[&total, &evens, &m]);
    assert_eq!(got[0].iter().next(), Some(&4950.0));
    assert_eq!(got[1].iter().next(), Some(&50.0));
    assert_eq!(got[2].iter().next(), Some(&49.5));
}

#[test]
fn creation_functions_give_the_expected_values() {
    let s = spec();
    let z = cubed::zeros(&s, &[5, 7], &[2, 3], DType::Int64).unwrap();
    let o = cubed::ones(&s, &[5, 7], &[2, 3], DType::Float32).unwrap();
    let f = cubed::full(&s, &[5, 7], 2.5, &[5, 7], DType::Float64).unwrap();
    let r = cubed::arange(&s, 3.0, 20.0, 2.5, 3, DType::Float64).unwrap();
    let got = compute(&[&z, &o, &f, &r]);
    assert!(got[0].iter().all(|&v| v == 0.0));
    assert!(got[1].iter().all(|&v| v == 1.0));
    assert!(got[2].iter().all(|&v| v == 2.5));
    let want: Vec<f64> = (0..7).map(|k| 3.0 + 2.5 * k as f64).collect();
    assert_eq!(got[3].iter().copied().collect::<Vec<_>>(), want);
}

#[test]
fn random_is_deterministic_per_chunk_and_uniform() {
    let s = spec();
    let a = cubed::random(&s, &[300, 200], &[64, 50], 7, DType::Float64).unwrap();
    // Different chunking of the same random array keeps its values.
    let b = cubed::rechunk(&a, &[100, 100]).unwrap();
    let c = cubed::random(&s, &[300, 200], &[64, 50], 8, DType::Float64).unwrap();
    let got = compute(&[&a, &b, &a.clone(), &c]);
    assert_eq!(got[0], got[1]);
    assert_ne!(got[0], got[3]);
    let mean = got[0].mean().unwrap();
    assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    assert!(got[0].iter().all(|&v| (0.0..1.0).contains(&v)));
}
