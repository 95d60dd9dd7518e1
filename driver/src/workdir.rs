//! What a run keeps in its work dir, `<work_dir>/cubed-<digest>/`, besides
//! its history: a fingerprint of every input (so `--resume` never reuses
//! chunks computed from data that has since changed), and the intermediates,
//! deleted after a successful run unless asked to keep them.

use cubed_task::plan::{intermediate_dir_name, Location, Plan};
use cubed_task::storage::StoreUrl;
use cubed_task::LoadedPlan;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CubedError, Result};

/// Name of the input fingerprints inside the plan's work directory.
pub const INPUTS_FILE: &str = "inputs.json";

/// What identifies one input's content without reading its chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFingerprint {
    /// The input's URL.
    pub url: String,
    /// sha256 of its Zarr metadata objects (zarr.json, or .zarray and .zattrs).
    pub metadata: String,
    /// Number of objects under it.
    pub objects: u64,
    /// sha256 of its listing: every key with size, modification time and entity tag.
    pub listing: String,
}

/// The directory of the plan with `digest` in its work dir,
/// `<work_dir>/cubed-<digest prefix>`: intermediates, history, plan file, job.
pub fn plan_dir(plan: &Plan, digest: &str) -> String {
    format!("{}/{}", plan.spec.work_dir.trim_end_matches('/'), intermediate_dir_name(digest))
}

fn hex(hash: impl AsRef<[u8]>) -> String {
    hash.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Fingerprints every input the plan reads from a user location (one listing each).
pub fn fingerprint_inputs(lp: &LoadedPlan) -> Result<Vec<InputFingerprint>> {
    let mut out = Vec::new();
    for (id, a) in lp.plan.arrays.iter().enumerate() {
        if a.is_written() || !matches!(a.location, Location::Url { .. }) {
            continue;
        }
        let url = lp.url(id);
        let store = StoreUrl::parse(url)?;
        let mut meta = Sha256::new();
        for name in ["zarr.json", ".zarray", ".zattrs"] {
            if let Some(bytes) = store.get(name)? {
                meta.update(name.as_bytes());
                meta.update((bytes.len() as u64).to_le_bytes());
                meta.update(&bytes);
            }
        }
        let mut objects = store.list_objects("")?;
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        let mut listing = Sha256::new();
        for o in &objects {
            listing.update(format!("{}\0{}\0{}\0{}\n", o.key, o.size, o.modified_ms, o.e_tag.as_deref().unwrap_or("")).as_bytes());
        }
        out.push(InputFingerprint { url: url.to_string(), metadata: hex(meta.finalize()), objects: objects.len() as u64, listing: hex(listing.finalize()) });
    }
    Ok(out)
}

/// Records the inputs' fingerprints for a fresh run, or — resuming — checks
/// that they are unchanged since the run that wrote the chunks being reused.
pub fn record_or_check_inputs(lp: &LoadedPlan, resume: bool) -> Result<()> {
    let now = fingerprint_inputs(lp)?;
    let dir = StoreUrl::parse(&plan_dir(&lp.plan, &lp.digest))?;
    if resume {
        if let Some(bytes) = dir.get(INPUTS_FILE)? {
            let then: Vec<InputFingerprint> = serde_json::from_slice(&bytes).map_err(|e| {
                CubedError::Invalid(format!("{}/{INPUTS_FILE} is unreadable ({e}): run without --resume to start again", dir.location))
            })?;
            for t in &then {
                match now.iter().find(|n| n.url == t.url) {
                    Some(n) if n == t => {}
                    Some(n) => {
                        let what = if n.metadata != t.metadata { "its Zarr metadata" } else { "its chunks" };
                        return Err(CubedError::Invalid(format!(
                            "input '{}' has changed since the run being resumed began ({what} differ: {} objects then, {} now): chunks computed from the old data cannot be reused; run again without --resume (with --overwrite to replace the old output)",
                            t.url, t.objects, n.objects
                        )));
                    }
                    None => {}
                }
            }
            return Ok(());
        }
        // An earlier run that recorded nothing (it was interrupted before it
        // started any op): record now.
    }
    dir.put(INPUTS_FILE, serde_json::to_vec_pretty(&now).expect("fingerprints serialize"))?;
    Ok(())
}

/// Deletes the plan's temporaries: every intermediate array that an op reads,
/// except `keep`. Intermediates no op reads are results (outputs requested
/// without a URL) and stay, as do the history and job files.
pub fn delete_intermediates(lp: &LoadedPlan, keep: &[usize]) -> Result<u64> {
    let mut deleted = 0;
    for (id, a) in lp.plan.arrays.iter().enumerate() {
        let read = lp.plan.ops.iter().any(|op| op.inputs.contains(&id));
        if a.location != Location::Intermediate || !read || keep.contains(&id) {
            continue;
        }
        let store = StoreUrl::parse(lp.url(id))?;
        let keys = store.list_keys("")?;
        store.delete_keys(&keys)?;
        deleted += keys.len() as u64;
    }
    Ok(deleted)
}
