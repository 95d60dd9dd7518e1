//! The Lambda handler's request reader, against a real plan in memory: any
//! payload is served or answered with a clear error, never a crash. A
//! `"digest": "PLAN"` in the input is replaced by the stored plan's digest, so
//! the fuzzer gets past the digest check to the op and task-range checks.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// Stores a small plan (one op of 4 tasks) under memory://fuzz-payload/plan; returns its digest.
fn setup() -> &'static str {
    static DIGEST: OnceLock<String> = OnceLock::new();
    DIGEST.get_or_init(|| {
        let spec = cubed::Spec::new("memory://fuzz-payload/work");
        let a = cubed::ones(&spec, &[4, 4], &[2, 2], cubed::DType::Float64).unwrap();
        let out = cubed::Output { array: cubed::sqrt(&a).unwrap(), url: None };
        let plan = cubed::build_plan(&[out], &cubed::PlanOptions::default()).unwrap().plan;
        cubed_task::storage::StoreUrl::parse("memory://fuzz-payload/plan").unwrap().put(cubed_task::handler::PLAN_FILE, plan.to_json()).unwrap();
        plan.digest()
    })
}

fuzz_target!(|data: &[u8]| {
    let digest = setup();
    let Ok(mut payload) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Some(d) = payload.get_mut("digest").filter(|d| d.as_str() == Some("PLAN")) {
        *d = serde_json::Value::String(digest.to_string());
    }
    let _ = cubed_task::handler::handle(payload);
});
