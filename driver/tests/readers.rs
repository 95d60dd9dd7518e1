//! Property tests over the readers of untrusted input — the expression
//! parser, the plan reader, the task payload reader and chunk decoding: any
//! input gives a value or a clear error, never a panic. (The same readers are
//! fuzzed with coverage guidance by `scripts/fuzz.sh`; these run in the normal
//! suite.)

mod common;

use std::collections::HashMap;
use std::sync::OnceLock;

use common::*;
use cubed::{Output, Plan, PlanOptions};
use cubed_task::plan::{ArrayMeta, Codec, Location};
use cubed_task::storage::{read_region, StoreUrl};
use cubed_task::DType;
use proptest::prelude::*;

/// Expressions built from the language's pieces, valid or not.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        (-5i64..5).prop_map(|v| v.to_string()),
        Just("1.5".to_string()),
        Just("True".to_string()),
        Just("arange(7, chunks=(3,))".to_string()),
        Just("zeros((6, 4), chunks=(4, 3))".to_string()),
        Just("random((6, 4), chunks=(2, 3), seed=1)".to_string()),
        Just("".to_string()),
        Just(")".to_string()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(vec!["+", "-", "*", "/", "**", "<", "==", ">=", ","]), inner.clone())
                .prop_map(|(l, op, r)| format!("{l} {op} {r}")),
            (prop::sample::select(vec!["sqrt", "abs", "sin", "negative", "logical_not", "exp", "sum", "mean", "max", "min"]), inner.clone())
                .prop_map(|(f, x)| format!("{f}({x})")),
            (prop::sample::select(vec!["sum", "mean", "max"]), inner.clone(), -3i64..3).prop_map(|(f, x, k)| format!("{f}({x}, axis={k})")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, x, y)| format!("where({c}, {x}, {y})")),
            (inner.clone(), 1u64..5, 1u64..5).prop_map(|(x, r, c)| format!("rechunk({x}, ({r}, {c}))")),
            inner.clone().prop_map(|x| format!("astype({x}, int32)")),
            inner.prop_map(|x| format!("x = {x}; x * x")),
        ]
    })
}

/// A stored plan (one op of 4 tasks) for the payload reader; returns its digest.
fn payload_plan() -> &'static str {
    static DIGEST: OnceLock<String> = OnceLock::new();
    DIGEST.get_or_init(|| {
        let spec = cubed::Spec::new("memory://readers-payload/work");
        let a = cubed::ones(&spec, &[4, 4], &[2, 2], DType::Float64).unwrap();
        let plan = cubed::build_plan(&[Output { array: cubed::sqrt(&a).unwrap(), url: None }], &PlanOptions::default()).unwrap().plan;
        StoreUrl::parse("memory://readers-payload/plan").unwrap().put(cubed_task::handler::PLAN_FILE, plan.to_json()).unwrap();
        plan.digest()
    })
}

/// A valid plan's JSON, for mutation.
fn sample_plan() -> &'static serde_json::Value {
    static PLAN: OnceLock<serde_json::Value> = OnceLock::new();
    PLAN.get_or_init(|| {
        let s = spec();
        let x = cubed::random(&s, &[10, 10], &[3, 4], 1, DType::Float64).unwrap();
        let m = cubed::mean(&cubed::multiply(&x, &x).unwrap(), &cubed::Reduce::axis(&[0]).split_every(2)).unwrap();
        let r = cubed::rechunk(&x, &[10, 1]).unwrap();
        let plan = cubed::build_plan(&[Output { array: m, url: None }, Output { array: r, url: None }], &PlanOptions::default()).unwrap().plan;
        serde_json::from_slice(&plan.to_json()).unwrap()
    })
}

/// Replaces the `n`-th number of a JSON document by `value`.
fn replace_number(v: &mut serde_json::Value, n: &mut usize, value: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(_) => {
            if *n == 0 {
                *v = value.clone();
                return true;
            }
            *n -= 1;
            false
        }
        serde_json::Value::Array(items) => items.iter_mut().any(|i| replace_number(i, n, value)),
        serde_json::Value::Object(map) => map.values_mut().any(|i| replace_number(i, n, value)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn expressions_plan_or_fail_clearly_and_plans_read_back(text in expression()) {
        let s = spec();
        let mut inputs = HashMap::new();
        inputs.insert("a".to_string(), cubed::zeros(&s, &[6, 4], &[4, 3], DType::Float64).unwrap());
        inputs.insert("b".to_string(), cubed::ones(&s, &[4], &[3], DType::Int32).unwrap());
        if let Ok(arrays) = cubed::expr::evaluate(&text, &s, &inputs) {
            let outputs: Vec<Output> = arrays.into_iter().map(|array| Output { array, url: None }).collect();
            if let Ok(built) = cubed::build_plan(&outputs, &PlanOptions::default()) {
                let back = Plan::from_json(&built.plan.to_json());
                prop_assert!(back.is_ok(), "{text}: {:?}", back.err());
                prop_assert_eq!(back.unwrap().digest(), built.plan.digest());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_are_not_a_plan(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Plan::from_json(&bytes);
    }

    #[test]
    fn a_plan_with_any_number_changed_is_read_or_refused(index in 0usize..400, value in prop_oneof![
        Just(serde_json::json!(0)), Just(serde_json::json!(1)), Just(serde_json::json!(u64::MAX)),
        Just(serde_json::json!(-1)), Just(serde_json::json!(1e300)), any::<u32>().prop_map(|v| serde_json::json!(v)),
    ]) {
        let mut plan = sample_plan().clone();
        let mut n = index;
        replace_number(&mut plan, &mut n, &value);
        if let Ok(p) = Plan::from_json(&serde_json::to_vec(&plan).unwrap()) {
            let _ = cubed::check_memory(&p);
            let _ = cubed::destination::check_locations(&p);
        }
    }

    #[test]
    fn any_payload_is_served_or_refused(start in any::<u64>(), stop in any::<u64>(), attempt in any::<u32>(),
                                        op in prop::sample::select(vec!["op-001", "op-002", "", "create-arrays"]),
                                        good_digest in any::<bool>(), extra in any::<bool>()) {
        let digest = if good_digest { payload_plan().to_string() } else { "0".repeat(64) };
        let mut payload = serde_json::json!({
            "plan_dir": "memory://readers-payload/plan", "digest": digest, "op": op,
            "start": start % 8, "stop": if stop % 3 == 0 { stop } else { stop % 8 }, "attempt": attempt,
        });
        if extra {
            payload["unexpected"] = serde_json::json!(1);
        }
        let _ = cubed_task::handler::handle(payload);
    }

    #[test]
    fn any_chunk_bytes_decode_or_fail_clearly(codec in 0u8..3, bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let url = format!("memory://readers-chunk/a{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let store = StoreUrl::parse(&url).unwrap();
        let meta = ArrayMeta {
            name: "a".into(),
            location: Location::Url { url: url.clone() },
            shape: vec![4, 4],
            chunks: vec![4, 4],
            dtype: DType::Float64,
            codec: Some([Codec::Zstd { level: 1 }, Codec::Gzip { level: 1 }, Codec::None][codec as usize]),
            labels: Default::default(),
        };
        store.create_array(&meta).unwrap();
        store.put("c/0/0", bytes).unwrap();
        let array = store.open_array(&url).unwrap();
        let _ = read_region(&array, DType::Float64, &[4, 4], &[(0, 4), (0, 4)]);
    }
}

/// Found by the `expr` fuzz target: a literal that overflows to infinity (and
/// NaN constants) gave a plan whose JSON no reader took back.
#[test]
fn plans_with_non_finite_constants_read_back() {
    let s = spec();
    let inputs = HashMap::new();
    let arrays = cubed::expr::evaluate("where(arange(3) > 0, 933333333332e333333 + 32, -1e999) * full((3,), 0.0) / 0.0", &s, &inputs).unwrap();
    let outputs: Vec<Output> = arrays.into_iter().map(|array| Output { array, url: None }).collect();
    let built = cubed::build_plan(&outputs, &PlanOptions::default()).unwrap();
    let back = Plan::from_json(&built.plan.to_json()).unwrap();
    assert_eq!(back.digest(), built.plan.digest());
    let got = compute(&[&outputs[0].array]);
    assert!(got[0].iter().all(|v| v.is_nan()), "{:?}", got[0]);
}
