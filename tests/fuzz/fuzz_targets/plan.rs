//! The plan reader: arbitrary bytes are a plan or a clear error, and a plan
//! that validates can be loaded, its memory checked and its tasks addressed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(plan) = cubed::Plan::from_json(data) else { return };
    let _ = cubed::check_memory(&plan);
    let _ = cubed::destination::check_locations(&plan);
    for op in &plan.ops {
        for index in [0, op.num_tasks / 2, op.num_tasks.saturating_sub(1)] {
            if index < op.num_tasks {
                let _ = op.task_block(&plan, index);
            }
        }
    }
});
