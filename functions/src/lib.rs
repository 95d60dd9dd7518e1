//! # cubed-task
//!
//! What ONE cubed-rs task does, and the contract it shares with the driver.
//! Modules form layers that import one way (a test below enforces it), lowest
//! first:
//!
//! 1. [`dtype`], [`grid`], [`float_json`], [`url`], [`memory`], [`random`]:
//!    element types and promotion, the chunk grid, plan number encoding, URL
//!    normal forms, memory accounting, deterministic random blocks;
//! 2. [`chunk`]: chunk data of any element type;
//! 3. [`error`]: task errors (retryable or not);
//! 4. [`faults`] (injected faults, for tests) and [`kernel`]: per-chunk
//!    computations (elementwise, reductions), as a small expression tree that
//!    is part of the plan, generated from the elementwise declarations of
//!    [`table::elementwise`] (plain token lists, below every layer);
//! 5. [`table`] (every array function, declared once) and [`plan`] (arrays,
//!    ops, spec: versioned JSON with a digest, checked when read);
//! 6. [`storage`]: Zarr arrays by URL (paths, `file://`, `memory://`, `s3://`)
//!    through zarrs and object_store, with bounded chunk decoding;
//! 7. [`task`]: running one task (read chunks, compute, write whole chunks);
//! 8. [`handler`]: the Lambda function (payload in, report out).
//!
//! Nothing here schedules: retries, backups and concurrency live in the driver.

pub mod chunk;
pub mod dtype;
pub mod error;
pub mod faults;
pub mod float_json;
pub mod grid;
pub mod handler;
pub mod kernel;
pub mod memory;
pub mod plan;
pub mod random;
pub mod storage;
pub mod table;
pub mod task;
pub mod url;

pub use chunk::ChunkData;
pub use dtype::DType;
pub use error::TaskError;
pub use plan::{Plan, PLAN_VERSION};
pub use task::{LoadedPlan, TaskStats};

/// The unit tests run under the counting allocator, as the binaries do.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: memory::CountingAllocator = memory::CountingAllocator;

#[cfg(test)]
mod layers {
    /// Each module's layer (see the crate documentation); a module may refer
    /// only to modules of lower layers.
    const LAYERS: &[(&str, u32)] = &[
        ("dtype", 1),
        ("grid", 1),
        ("float_json", 1),
        ("url", 1),
        ("memory", 1),
        ("random", 1),
        ("chunk", 2),
        ("error", 3),
        ("faults", 4),
        ("kernel", 4),
        // The elementwise declaration lists (macros in table/elementwise.rs):
        // plain tokens with no imports, expanded by the kernel layer into
        // kernels and by the table layer into rows.
        ("declarations", 1),
        ("table", 5),
        ("plan", 5),
        ("storage", 6),
        ("task", 7),
        ("handler", 8),
    ];

    /// Crate-root names and the module they come from (re-exports and exported macros).
    const ROOT_NAMES: &[(&str, &str)] = &[
        ("ChunkData", "chunk"),
        ("DType", "dtype"),
        ("TaskError", "error"),
        ("Plan", "plan"),
        ("PLAN_VERSION", "plan"),
        ("LoadedPlan", "task"),
        ("TaskStats", "task"),
        ("each", "chunk"),
        ("map_same", "chunk"),
        ("with_type", "chunk"),
        ("each_pair", "chunk"),
        ("unary_functions", "declarations"),
        ("binary_functions", "declarations"),
    ];

    fn layer(module: &str) -> u32 {
        LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l).unwrap_or_else(|| panic!("module '{module}' has no layer in LAYERS"))
    }

    #[test]
    fn modules_import_one_way() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![];
        let mut dirs = vec![src.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
        let mut wrong = vec![];
        for f in files {
            let rel = f.strip_prefix(&src).unwrap().to_string_lossy().to_string();
            let module = rel.split(['/', '.']).next().unwrap().to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let own = layer(&module);
            for (n, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
                let code = line.split("//").next().unwrap();
                for (i, _) in code.match_indices("crate::") {
                    let rest = &code[i + 7..];
                    // `crate::{a, b::c}` names several.
                    let names: Vec<&str> = match rest.strip_prefix('{') {
                        Some(group) => group.split('}').next().unwrap().split(',').map(|p| p.trim().split("::").next().unwrap()).collect(),
                        None => vec![rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap()],
                    };
                    for name in names.into_iter().filter(|n| !n.is_empty()) {
                        let target = ROOT_NAMES.iter().find(|(r, _)| *r == name).map_or(name, |(_, m)| m);
                        if target != module && layer(target) >= own {
                            wrong.push(format!("{rel}:{}: {module} (layer {own}) uses crate::{name} (layer {})", n + 1, layer(target)));
                        }
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
    }
}
