//! The cubed-rs task function for AWS Lambda: one binary for every op kind.
//! All the work is in [`cubed_task::handler`]; `main` only wires the runtime.

#[global_allocator]
static ALLOC: cubed_task::memory::CountingAllocator = cubed_task::memory::CountingAllocator;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    cubed_task::memory::mark_allocator_installed();
    lambda_runtime::run(lambda_runtime::service_fn(cubed_task::handler::function_handler)).await
}
