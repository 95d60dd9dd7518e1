//! The expression parser and evaluator, then planning and the plan's JSON
//! round trip: any text gives arrays or a clear error, never a crash, and every
//! plan built from an accepted expression is read back by `Plan::from_json`.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let spec = cubed::Spec::new("memory://fuzz-expr/work");
    let mut inputs = HashMap::new();
    if let Ok(a) = cubed::zeros(&spec, &[6, 4], &[4, 3], cubed::DType::Float64) {
        inputs.insert("a".to_string(), a);
    }
    let Ok(arrays) = cubed::expr::evaluate(text, &spec, &inputs) else { return };
    let outputs: Vec<cubed::Output> = arrays.into_iter().map(|array| cubed::Output { array, url: None }).collect();
    if let Ok(built) = cubed::build_plan(&outputs, &cubed::PlanOptions::default()) {
        let back = cubed::Plan::from_json(&built.plan.to_json()).expect("a plan the planner built must read back");
        assert_eq!(back.digest(), built.plan.digest());
    }
});
