//! Where results go, and how cubed-rs keeps from destroying data there.
//!
//! - [`check_locations`]: every input, output and the work dir is compared in
//!   normal form ([`cubed_task::url`]); an output equal to, inside or
//!   containing an input, the work dir or another output is refused before
//!   anything is written.
//! - [`claim_outputs`]: an existing destination is refused unless the run may
//!   overwrite it (`--overwrite`, and only when it is Zarr) or resume it (its
//!   chunks were written by this same plan, `--resume`). A directory holding
//!   anything that is not Zarr is never written into or deleted from.
//! - Leases: a run holds each output through a lease object
//!   ([`LEASE`]) written with a create-only put, so a second run writing the
//!   same output at once is refused, naming the holder. `--resume` of the same
//!   computation takes a lease over; `--break-lease` breaks a stale one. An
//!   orderly end of the run (success or failure) releases it.

use std::collections::HashSet;

use cubed_task::plan::{Location, Plan};
use cubed_task::storage::StoreUrl;
use cubed_task::task::PLAN_MARKER;
use cubed_task::url::{NormalUrl, Root};
use cubed_task::LoadedPlan;
use serde::{Deserialize, Serialize};

use crate::error::{CubedError, Result};

/// The lease object inside an output held by a run.
pub const LEASE: &str = "cubed-lease.json";

/// Zarr metadata object names (v3 and v2).
const METADATA: [&str; 5] = ["zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"];

/// Refuses a plan whose outputs overlap an input, the work dir or each other.
pub fn check_locations(plan: &Plan) -> Result<()> {
    let normal = |what: &str, url: &str| {
        NormalUrl::parse(url).map_err(|e| CubedError::Invalid(format!("{what} '{url}': {e}")))
    };
    let mut others: Vec<(String, NormalUrl)> = vec![(format!("the work dir '{}'", plan.spec.work_dir), normal("work dir", &plan.spec.work_dir)?)];
    let mut outputs = Vec::new();
    for a in &plan.arrays {
        if let Location::Url { url } = &a.location {
            let n = normal(if a.is_written() { "output" } else { "input" }, url)?;
            if a.is_written() {
                outputs.push((url.clone(), n));
            } else {
                others.push((format!("input '{url}'"), n));
            }
        }
    }
    for (i, (url, out)) in outputs.iter().enumerate() {
        if out.segments.is_empty() && out.root == Root::File {
            return Err(CubedError::Invalid(format!("output '{url}' is the filesystem root: write the array to a new directory, e.g. /data/out.zarr")));
        }
        let earlier = outputs[..i].iter().map(|(u, n)| (format!("output '{u}'"), n));
        for (what, other) in others.iter().map(|(w, n)| (w.clone(), n)).chain(earlier) {
            if out.overlaps(other) {
                let how = if out == other {
                    "is the same location as".to_string()
                } else if out.segments.len() > other.segments.len() {
                    "lies inside".to_string()
                } else {
                    "contains".to_string()
                };
                return Err(CubedError::Invalid(format!(
                    "output '{url}' ({out}) {how} {what} ({other}): writing it would destroy or corrupt that data; write the result to a new location"
                )));
            }
        }
    }
    Ok(())
}

/// What a run may do to existing destinations.
#[derive(Debug, Clone, Default)]
pub struct OutputPolicy {
    /// Replace an existing Zarr array or group (zarr-python's `mode="w"`).
    pub overwrite: bool,
    /// Keep the chunks an earlier run of this same plan wrote, and take over its lease.
    pub resume: bool,
    /// Break a lease held by another run (one known to be dead).
    pub break_lease: bool,
}

/// The content of a lease object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// Identifies the holding run.
    pub run: String,
    /// Digest of the plan the holder runs.
    pub digest: String,
    /// Host and process of the holder.
    pub host: String,
    /// Process id of the holder.
    pub pid: u32,
    /// When the lease was taken, seconds since the Unix epoch.
    pub since_unix_s: u64,
}

impl Lease {
    /// A lease for a run of the plan with `digest` by this process; `run`
    /// names it (a batch job uses its job dir, shared by its partitions).
    pub fn new(run: impl Into<String>, digest: &str) -> Lease {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| "unknown-host".into());
        Lease {
            run: run.into(),
            digest: digest.to_string(),
            host,
            pid: std::process::id(),
            since_unix_s: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        }
    }

    /// A lease naming this process as a run of `digest`.
    pub fn for_this_process(digest: &str) -> Lease {
        let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let mut lease = Lease::new(String::new(), digest);
        lease.run = format!("{}:{}:{millis}", lease.host, lease.pid);
        lease
    }

    fn describe(&self) -> String {
        format!(
            "run {} (process {} on {}, plan {}, since {} s after the epoch)",
            self.run,
            self.pid,
            self.host,
            self.digest.chars().take(16).collect::<String>(),
            self.since_unix_s
        )
    }
}

/// The outputs a run holds; release them with [`Claims::release`].
#[must_use = "release the claims when the run ends"]
pub struct Claims {
    held: Vec<StoreUrl>,
    lease: Lease,
}

/// What is at a destination.
enum Existing {
    /// Nothing.
    Empty,
    /// Chunks (and maybe metadata) of this same plan.
    SamePlan,
    /// A Zarr array or group (or an incomplete cubed-rs output of another plan).
    Zarr,
}

/// Inspects every output the plan writes to a user location, decides from
/// `policy` whether the run may write there, takes a lease on each, and — with
/// `overwrite` — deletes the old Zarr data. Nothing is written to any
/// destination until every destination has been checked.
pub fn claim_outputs(lp: &LoadedPlan, policy: &OutputPolicy, lease: Lease) -> Result<Claims> {
    let mut plans = Vec::new();
    for (id, a) in lp.plan.arrays.iter().enumerate() {
        if !(a.is_written() && matches!(a.location, Location::Url { .. })) {
            continue;
        }
        let url = lp.url(id).to_string();
        let store = StoreUrl::parse(&url)?;
        let (existing, keys) = inspect(&store, &url, &lp.digest)?;
        if let Some(holder) = read_lease(&store)? {
            let same_plan_resume = holder.digest == lp.digest && policy.resume;
            if holder.run != lease.run && !same_plan_resume && !policy.break_lease {
                return Err(CubedError::Invalid(format!(
                    "output '{url}' is held by {}: two runs writing one output would mix their chunks. Wait for that run to end; if it is no longer running, run the same computation again with --resume to take the output over, or pass --break-lease to break the lease",
                    holder.describe()
                )));
            }
        }
        let wipe = match existing {
            Existing::Empty => false,
            Existing::SamePlan if policy.resume => false,
            _ if policy.overwrite => true,
            Existing::SamePlan => {
                return Err(CubedError::Invalid(format!(
                    "output '{url}' already holds chunks of this same computation (an earlier run): pass --resume to reuse them, or --overwrite to start again"
                )))
            }
            Existing::Zarr => {
                return Err(CubedError::Invalid(format!(
                    "output '{url}' already exists (a Zarr array or group): pass --overwrite to replace it, or write to a new location"
                )))
            }
        };
        plans.push((store, url, wipe, keys));
    }
    let mut claims = Claims { held: Vec::new(), lease: lease.clone() };
    let bytes = serde_json::to_vec_pretty(&lease).expect("leases serialize");
    for (store, url, wipe, keys) in plans {
        if !store.put_new(LEASE, bytes.clone())? {
            // Held by ourselves (a batch job preparing again), taken over or broken as decided above —
            // unless another run took it between the inspection and now.
            match read_lease(&store)? {
                Some(holder) if holder.run != lease.run && !(policy.break_lease || holder.digest == lp.digest && policy.resume) => {
                    claims.release();
                    return Err(CubedError::Invalid(format!("output '{url}' was just taken by {}", holder.describe())));
                }
                _ => store.put(LEASE, bytes.clone())?,
            }
        }
        claims.held.push(store.clone());
        if wipe {
            let old: Vec<String> = keys.into_iter().filter(|k| k != LEASE).collect();
            store.delete_keys(&old)?;
        }
    }
    Ok(claims)
}

impl Claims {
    /// Deletes each lease that this run still holds. Best effort: a lease
    /// that cannot be deleted is reported, not fatal.
    pub fn release(&mut self) {
        for store in self.held.drain(..) {
            match read_lease(&store) {
                Ok(Some(l)) if l.run == self.lease.run => {
                    if let Err(e) = store.delete(LEASE) {
                        eprintln!("warning: could not release the lease on {}: {e}", store.location);
                    }
                }
                Ok(_) => {}
                Err(e) => eprintln!("warning: could not read the lease on {}: {e}", store.location),
            }
        }
    }
}

/// Checks that the output `url` is held by a run of the plan with `digest`
/// (batch partitions run under the job's lease).
pub fn check_held(url: &str, digest: &str) -> Result<()> {
    match read_lease(&StoreUrl::parse(url)?)? {
        Some(l) if l.digest == digest => Ok(()),
        Some(l) => Err(CubedError::Invalid(format!("output '{url}' is now held by {}, not by this job: it was taken over; save and run the job again", l.describe()))),
        None => Err(CubedError::Invalid(format!("output '{url}' is not held by this job: run `cubed batch run-partition JOB create-arrays 1 0` first"))),
    }
}

/// Releases the lease on `url` if a run of `digest` holds it (the end of a batch op).
pub fn release_lease_of(url: &str, digest: &str) -> Result<()> {
    let store = StoreUrl::parse(url)?;
    if read_lease(&store)?.is_some_and(|l| l.digest == digest) {
        store.delete(LEASE)?;
    }
    Ok(())
}

fn read_lease(store: &StoreUrl) -> Result<Option<Lease>> {
    let Some(bytes) = store.get(LEASE)? else { return Ok(None) };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        CubedError::Invalid(format!(
            "{}/{LEASE} is not a cubed-rs lease ({e}): remove it only if you know no run holds this output",
            store.location
        ))
    })
}

/// Classifies what is at a destination, refusing anything that is not Zarr.
fn inspect(store: &StoreUrl, url: &str, digest: &str) -> Result<(Existing, Vec<String>)> {
    if store.is_object()? {
        return Err(CubedError::Invalid(format!("output '{url}' is an existing file, not a Zarr array: cubed-rs never replaces it; write to a new location")));
    }
    let keys = store.list_keys("")?;
    let ours: HashSet<&str> = [PLAN_MARKER, LEASE].into();
    if keys.iter().all(|k| ours.contains(k.as_str())) {
        let marker = store.get(PLAN_MARKER)?;
        return Ok((if marker.as_deref() == Some(digest.as_bytes()) { Existing::SamePlan } else { Existing::Empty }, keys));
    }
    if let Some(foreign) = non_zarr_keys(&keys).first() {
        return Err(CubedError::Invalid(format!(
            "output '{url}' holds files that are not Zarr (e.g. '{foreign}'): cubed-rs never writes into or deletes from such a directory; write to a new location"
        )));
    }
    let root_is_node = keys.iter().any(|k| METADATA.contains(&k.as_str()) || k == PLAN_MARKER);
    if !root_is_node {
        return Err(CubedError::Invalid(format!(
            "output '{url}' holds data but no Zarr metadata at its top: it is not a Zarr array or group, so cubed-rs leaves it alone; write to a new location"
        )));
    }
    let marker = store.get(PLAN_MARKER)?;
    Ok((if marker.as_deref() == Some(digest.as_bytes()) { Existing::SamePlan } else { Existing::Zarr }, keys))
}

/// The keys that are neither Zarr metadata, cubed-rs markers, nor chunk keys
/// of a Zarr array found among `keys`.
fn non_zarr_keys(keys: &[String]) -> Vec<&str> {
    let node_dirs: HashSet<&str> = keys
        .iter()
        .filter_map(|k| {
            let (dir, name) = k.rsplit_once('/').unwrap_or(("", k));
            (name == "zarr.json" || name == ".zarray" || name == PLAN_MARKER).then_some(dir)
        })
        .collect();
    keys.iter()
        .map(String::as_str)
        .filter(|k| {
            let (dir, name) = k.rsplit_once('/').unwrap_or(("", k));
            let meta = METADATA.contains(&name) || name == PLAN_MARKER || (dir.is_empty() && name == LEASE);
            !meta && !is_chunk_key_of_some(k, &node_dirs)
        })
        .collect()
}

/// True when `key` is `<node dir>/<chunk key>` for one of `node_dirs`, where a
/// chunk key is v3's `c`, `c/0/1`, `c.0.1` or v2's `0.1`, `0/1`.
fn is_chunk_key_of_some(key: &str, node_dirs: &HashSet<&str>) -> bool {
    let numbers = |s: &str, sep: char| !s.is_empty() && s.split(sep).all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let chunk_key = |rest: &str| {
        rest == "c"
            || rest.strip_prefix("c/").is_some_and(|r| numbers(r, '/'))
            || rest.strip_prefix("c.").is_some_and(|r| numbers(r, '.'))
            || numbers(rest, '.')
            || numbers(rest, '/')
    };
    node_dirs.iter().any(|dir| {
        let rest = if dir.is_empty() { Some(key) } else { key.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) };
        rest.is_some_and(chunk_key)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn zarr_keys_are_recognised() {
        let v3 = keys(&["zarr.json", "c/0/0", "c/1/0", "c", "t2m/zarr.json", "t2m/c/0/0", "t2m/c.3.4", ".zattrs"]);
        assert!(non_zarr_keys(&v3).is_empty());
        let v2 = keys(&[".zgroup", ".zmetadata", "u/.zarray", "u/.zattrs", "u/0.0", "u/10.3", "v/.zarray", "v/0/1"]);
        assert!(non_zarr_keys(&v2).is_empty());
        let ours = keys(&[PLAN_MARKER, LEASE, "c/0/0"]);
        assert!(non_zarr_keys(&ours).is_empty());
    }

    #[test]
    fn anything_else_is_foreign() {
        let mixed = keys(&["zarr.json", "c/0/0", "notes.txt", "c/0/x", "sub/c/0/0", "c/0/0.bak"]);
        assert_eq!(non_zarr_keys(&mixed), ["notes.txt", "c/0/x", "sub/c/0/0", "c/0/0.bak"]);
        // Chunk-like names without an array above them are not Zarr either.
        assert_eq!(non_zarr_keys(&keys(&["0.0", "data/1/2"])), ["0.0", "data/1/2"]);
        assert_eq!(non_zarr_keys(&keys(&["sub/cubed-lease.json"])), ["sub/cubed-lease.json"]);
    }
}
