//! Bad input gives a clear error naming what is wrong, never a panic; plans
//! round-trip through JSON.

mod common;

use std::sync::Arc;

use common::*;
use cubed::{ComputeOptions, CubedError, DType, LocalRunner, Output, Plan, PlanOptions};

#[test]
fn plan_round_trips_through_json_with_the_same_digest() {
    let s = spec();
    let (a, _) = stored_input(&s, &[20, 10], &[6, 4], 1);
    let m = cubed::mean(&cubed::multiply(&a, &a).unwrap(), &cubed::Reduce::axis(&[0]).split_every(2)).unwrap();
    let r = cubed::rechunk(&cubed::add(&a, &cubed::scalar(&s, 1.0, DType::Int64)).unwrap(), &[20, 1]).unwrap();
    let built = cubed::build_plan(&[Output { array: m, url: None }, Output { array: r, url: None }], &PlanOptions::default()).unwrap();
    let json = built.plan.to_json();
    let back = Plan::from_json(&json).unwrap();
    assert_eq!(back, built.plan);
    assert_eq!(back.digest(), built.plan.digest());
    assert_eq!(back.digest().len(), 64);
    let pretty = Plan::from_json(built.plan.to_json_pretty().as_bytes()).unwrap();
    assert_eq!(pretty.digest(), built.plan.digest());
}

#[test]
fn malformed_plans_and_unknown_versions_are_clear_errors() {
    let e = Plan::from_json(b"{not json").unwrap_err().to_string();
    assert!(e.contains("not a valid cubed-rs plan"), "{e}");
    let e = Plan::from_json(br#"{"version": 99, "spec": {}}"#).unwrap_err().to_string();
    assert!(e.contains("plan version 99 is not supported") && e.contains("version 3"), "{e}");
    let e = Plan::from_json(br#"{"version": 3, "spec": {"work_dir": "x", "allowed_mem": 1, "reserved_mem": 0}, "arrays": [], "ops": [{"id": "op-001", "kind": {"kind": "copy", "region": [1]}, "inputs": [3], "output": 0, "num_tasks": 1, "projected_mem": 0, "fused": [], "bytes_read": 0, "bytes_written": 0}]}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("op-001 refers to an array that does not exist"), "{e}");
}

#[test]
fn a_missing_array_names_the_url() {
    let s = spec();
    let e = cubed::from_zarr(&s, "/definitely/not/here.zarr").unwrap_err().to_string();
    assert!(e.contains("cannot open Zarr array at '/definitely/not/here.zarr'"), "{e}");
    let e = cubed::from_zarr(&s, "ftp://host/x").unwrap_err().to_string();
    assert!(e.contains("unsupported storage URL"), "{e}");
}

#[test]
fn writing_over_an_input_is_refused() {
    let s = spec();
    let (a, _) = stored_input(&s, &[4, 4], &[2, 2], 3);
    let url = match cubed::build_plan(&[Output { array: a.clone(), url: None }], &PlanOptions::default()).unwrap().plan.arrays[0].location.clone() {
        cubed_task::plan::Location::Url { url } => url,
        other => panic!("{other:?}"),
    };
    let plus = cubed::add(&a, &cubed::scalar(&s, 1.0, DType::Int64)).unwrap();
    let e = cubed::build_plan(&[Output { array: plus, url: Some(url.clone()) }], &PlanOptions::default()).err().unwrap().to_string();
    assert!(e.contains(&format!("output '{url}'")) && e.contains(&format!("is the same location as input '{url}'")), "{e}");
}

#[test]
fn shape_mismatches_say_which_axis() {
    let s = spec();
    let a = cubed::zeros(&s, &[3, 4], &[2, 2], DType::Float64).unwrap();
    let b = cubed::zeros(&s, &[5], &[2], DType::Float64).unwrap();
    let e = cubed::add(&a, &b).unwrap_err().to_string();
    assert!(e.contains("cannot be broadcast") && e.contains("axis 1 has lengths 4 and 5"), "{e}");
    let e = cubed::sum(&a, &cubed::Reduce::axis(&[2])).unwrap_err().to_string();
    assert!(e.contains("axis 2 is out of bounds"), "{e}");
    let e = cubed::rechunk(&a, &[2]).unwrap_err().to_string();
    assert!(e.contains("have 1 dimensions but the array has 2"), "{e}");
}

#[test]
fn expression_errors_point_at_the_column() {
    let s = spec();
    let inputs = std::collections::HashMap::new();
    let e = cubed::expr::evaluate("sum(frobnicate(1), axis=0)", &s, &inputs).unwrap_err().to_string();
    assert!(e.contains("column 5") && e.contains("unknown function 'frobnicate'"), "{e}");
    let e = cubed::expr::evaluate("mean(a * 2)", &s, &inputs).unwrap_err().to_string();
    assert!(e.contains("column 6") && e.contains("unknown name 'a'") && e.contains("--input a=URL"), "{e}");
    let e = cubed::expr::evaluate("sum(zeros((3, 4)), axis='x')", &s, &inputs).unwrap_err().to_string();
    assert!(e.contains("axis must be an integer"), "{e}");
}

#[test]
fn over_budget_plans_are_refused_before_any_task_runs() {
    let s = spec().with_allowed_mem(150_000_000);
    let a = cubed::random(&s, &[4000, 4000], &[4000, 4000], 1, DType::Float64).unwrap();
    let out_url = data_url(&s, "never-written");
    let built = cubed::build_plan(&[Output { array: cubed::sqrt(&a).unwrap(), url: Some(out_url.clone()) }], &PlanOptions::default()).unwrap();
    let options = ComputeOptions { quiet: true, ..Default::default() };
    let err = block_on(cubed::execute(built.plan, Arc::new(LocalRunner::new(1)), &options)).unwrap_err();
    assert!(matches!(err, CubedError::OverBudget(_)));
    let e = err.to_string();
    assert!(e.contains("op-001") && e.contains("allowed_mem 150.0 MB") && e.contains("smaller chunks"), "{e}");
    // Nothing was created.
    assert!(cubed::from_zarr(&s, &out_url).is_err());
}

#[test]
fn what_numpy_refuses_is_a_plan_time_error() {
    let s = spec();
    let a = cubed::astype(&cubed::arange(&s, 0.0, 3.0, 1.0, 3, DType::Int64).unwrap(), DType::Int32).unwrap();
    let e = cubed::add(&a, &cubed::scalar(&s, 3e9, DType::Int64)).unwrap_err().to_string();
    assert!(e.contains("Python integer 3000000000 out of bounds for int32"), "{e}");
    // Comparisons are exact instead, and a scalar that fits is fine.
    assert!(cubed::less(&a, &cubed::scalar(&s, 3e9, DType::Int64)).is_ok());
    assert!(cubed::add(&a, &cubed::scalar(&s, 2147483647.0, DType::Int64)).is_ok());
    let ones = cubed::ones(&s, &[2], &[2], DType::Int64).unwrap();
    let e = cubed::pow(&ones, &cubed::scalar(&s, -1.0, DType::Int64)).unwrap_err().to_string();
    assert!(e.contains("Integers to negative integer powers are not allowed"), "{e}");
    let e = cubed::pow(&ones, &cubed::full(&s, &[2], -2.0, &[2], DType::Int64).unwrap()).unwrap_err().to_string();
    assert!(e.contains("Integers to negative integer powers are not allowed"), "{e}");
    assert!(cubed::pow(&ones, &cubed::scalar(&s, -1.0, DType::Float64)).is_ok());
}
