//! # cubed-task
//!
//! What ONE cubed-rs task does, and the contract it shares with the driver:
//!
//! - [`plan`]: the plan (arrays, ops, spec) as versioned JSON with a digest;
//! - [`decode`]: bounded decoding of stored chunks;
//! - [`kernel`] and [`chunk`]: per-chunk computations over `ndarray` data;
//! - [`storage`]: Zarr arrays by URL (paths, `file://`, `memory://`, `s3://`)
//!   through zarrs and object_store;
//! - [`task`]: running a task (read chunks, compute, write whole chunks);
//! - [`memory`]: per-task peak memory and process peak RSS.
//!
//! Nothing here schedules: retries, backups and concurrency live in the driver.

pub mod chunk;
pub mod decode;
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
