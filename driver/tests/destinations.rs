//! No data lost: outputs never destroy inputs, the work dir or a user's files;
//! existing destinations need `--overwrite` (Zarr only); one run at a time
//! holds an output (leases); options and paths are checked before launch;
//! intermediates are cleaned up; `--resume` refuses changed inputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// A scratch directory with a work dir inside, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("cubed-dest-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("work")).unwrap();
        Scratch(dir.canonicalize().unwrap())
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    fn s(&self, rel: &str) -> String {
        self.path(rel).to_string_lossy().into_owned()
    }

    fn work(&self) -> String {
        self.s("work")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cubed"));
    c.args(args).current_dir(dir).env("AWS_EC2_METADATA_DISABLED", "true").env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:1").env_remove("CUBED_FAULTS");
    c
}

fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out: Output = command(dir, args).output().expect("cubed runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let (ok, out, err) = run(dir, args);
    assert!(ok, "{args:?} failed:\n{err}");
    out
}

fn refused(dir: &Path, args: &[&str], expected: &[&str]) -> String {
    let (ok, _, err) = run(dir, args);
    assert!(!ok, "{args:?} should be refused");
    for e in expected {
        assert!(err.contains(e), "{args:?}: expected '{e}' in:\n{err}");
    }
    err
}

/// Every file under `dir` with its bytes: a snapshot to prove nothing changed.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    files
}

/// Writes a 6 × 4 array with values `seed * 100 + i` to `url` (through cubed itself).
fn make_input(s: &Scratch, rel: &str, seed: u32) {
    let expr = format!("asarray(((0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11), (12, 13, 14, 15), (16, 17, 18, 19), (20, 21, 22, 23)), dtype=float64, chunks=(2, 2)) + {}", seed * 100);
    std::fs::create_dir_all(s.path(rel).parent().unwrap()).unwrap();
    ok(&s.0, &["eval", &expr, "-o", &s.s(rel), "-q", "--work-dir", &s.work()]);
}

fn total(s: &Scratch, rel: &str) -> String {
    ok(&s.0, &["eval", "sum(a)", "-i", &format!("a={}", s.s(rel)), "-q", "--work-dir", &s.work()]).trim().to_string()
}

#[test]
fn an_output_that_is_an_input_in_another_spelling_is_refused() {
    let s = Scratch::new("same");
    make_input(&s, "o/a.zarr", 1);
    std::os::unix::fs::symlink(s.path("o"), s.path("link")).unwrap();
    let before = snapshot(&s.path("o"));
    let abs = s.s("o/a.zarr");
    for out in ["./o/a.zarr", "o/a.zarr/", &format!("file://{abs}"), "o/x/../a.zarr", "link/a.zarr", "o//a.zarr"] {
        refused(&s.0, &["eval", "a+1", "-i", "a=o/a.zarr", "-o", out, "-q", "--work-dir", &s.work()], &["is the same location as input 'o/a.zarr'"]);
    }
    // Containing or inside an input.
    refused(&s.0, &["eval", "a+1", "-i", "a=o/a.zarr", "-o", "o", "-q", "--work-dir", &s.work()], &["contains input"]);
    refused(&s.0, &["eval", "a+1", "-i", "a=o/a.zarr", "-o", "o/a.zarr/c/new", "-q", "--work-dir", &s.work()], &["lies inside input"]);
    assert_eq!(snapshot(&s.path("o")), before, "the input was touched");
    assert_eq!(total(&s, "o/a.zarr"), "2676.0");
}

#[test]
fn outputs_overlapping_the_work_dir_each_other_or_the_root_are_refused() {
    let s = Scratch::new("workdir");
    let w = s.work();
    refused(&s.0, &["eval", "arange(4)", "-o", &format!("{w}/out.zarr"), "-q", "--work-dir", &w], &["lies inside the work dir"]);
    refused(&s.0, &["eval", "arange(4)", "-o", &s.s(""), "-q", "--work-dir", &w], &["contains the work dir"]);
    refused(&s.0, &["eval", "arange(4)", "-o", "/", "-q", "--work-dir", &w], &["is the filesystem root"]);
    refused(&s.0, &["eval", "(arange(4), arange(5))", "-o", "x.zarr", "-o", "x.zarr/y", "-q", "--work-dir", &w], &["lies inside output 'x.zarr'"]);
    assert!(!s.path("x.zarr").exists());
}

#[test]
fn an_existing_output_needs_overwrite_and_only_zarr_is_replaced() {
    let s = Scratch::new("overwrite");
    let w = s.work();
    make_input(&s, "out.zarr", 1);
    let before = snapshot(&s.path("out.zarr"));
    refused(&s.0, &["eval", "arange(24)", "-o", "out.zarr", "-q", "--work-dir", &w], &["already exists", "--overwrite"]);
    assert_eq!(snapshot(&s.path("out.zarr")), before);
    ok(&s.0, &["eval", "zeros((3,), chunks=(2,)) + 7", "-o", "out.zarr", "--overwrite", "-q", "--work-dir", &w]);
    assert_eq!(total(&s, "out.zarr"), "21.0");
    // The old chunks are gone, not mixed in: only the new array's keys remain.
    let keys: Vec<String> = snapshot(&s.path("out.zarr")).keys().map(|p| p.strip_prefix(s.path("out.zarr")).unwrap().display().to_string()).collect();
    assert!(keys.iter().all(|k| k == "zarr.json" || k == "cubed-plan-digest" || k == "c/0" || k == "c/1"), "{keys:?}");

    // A directory with anything else in it is never written into, even with --overwrite.
    std::fs::create_dir_all(s.path("mine/c")).unwrap();
    std::fs::write(s.path("mine/zarr.json"), b"{\"my\": \"notes\"}").unwrap();
    std::fs::write(s.path("mine/.zattrs"), b"{}").unwrap();
    std::fs::write(s.path("mine/c/0"), b"my data").unwrap();
    std::fs::write(s.path("mine/notes.txt"), b"thesis draft").unwrap();
    let mine = snapshot(&s.path("mine"));
    for extra in [&[][..], &["--overwrite"][..]] {
        let mut args = vec!["eval", "arange(4)", "-o", "mine", "-q", "--work-dir", &w];
        args.extend_from_slice(extra);
        refused(&s.0, &args, &["not Zarr", "notes.txt"]);
    }
    // Chunk-like files without Zarr metadata are not Zarr either.
    std::fs::remove_file(s.path("mine/notes.txt")).unwrap();
    std::fs::remove_file(s.path("mine/zarr.json")).unwrap();
    std::fs::remove_file(s.path("mine/.zattrs")).unwrap();
    refused(&s.0, &["eval", "arange(4)", "-o", "mine", "--overwrite", "-q", "--work-dir", &w], &["not Zarr"]);
    let mut left = mine.clone();
    left.retain(|p, _| p.ends_with("c/0"));
    assert_eq!(snapshot(&s.path("mine")), left);
    // A file is not replaced.
    std::fs::write(s.path("file.zarr"), b"precious").unwrap();
    refused(&s.0, &["eval", "arange(4)", "-o", "file.zarr", "--overwrite", "-q", "--work-dir", &w], &["is an existing file"]);
    assert_eq!(std::fs::read(s.path("file.zarr")).unwrap(), b"precious");
}

fn wait_for(path: &Path, child: &mut Child) {
    for _ in 0..600 {
        if path.exists() {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "the first run ended before taking its lease");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{} never appeared", path.display());
}

fn kill(mut child: Child) {
    let pid = child.id();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!Path::new(&format!("/proc/{pid}")).exists() || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(" Z "));
}

#[test]
fn a_second_writer_is_refused_and_resume_takes_a_stale_lease_over() {
    let s = Scratch::new("lease");
    let w = s.work();
    let expr = "zeros((8, 8), chunks=(2, 2)) + 1";
    // The first run hangs in its tasks while holding the output.
    let mut first = command(&s.0, &["eval", expr, "-o", "same.zarr", "-q", "--no-backups", "--work-dir", &w]).env("CUBED_FAULTS", "hang=1.0;seed=1").spawn().unwrap();
    wait_for(&s.path("same.zarr/cubed-lease.json"), &mut first);
    let err = refused(&s.0, &["eval", "zeros((8, 8), chunks=(2, 2)) + 10", "-o", "same.zarr", "-q", "--work-dir", &w], &["is held by run", &format!("process {}", first.id())]);
    assert!(err.contains("--resume") && err.contains("--break-lease"), "{err}");
    // Even the same computation is refused while the holder runs, unless resumed.
    refused(&s.0, &["eval", expr, "-o", "same.zarr", "-q", "--work-dir", &w], &["is held by run"]);
    kill(first);
    // The holder died: --resume of the same computation takes the output over.
    ok(&s.0, &["eval", expr, "-o", "same.zarr", "-q", "--resume", "--work-dir", &w]);
    assert_eq!(total(&s, "same.zarr"), "64.0");
    assert!(!s.path("same.zarr/cubed-lease.json").exists(), "the lease is released at the end");

    // A stale lease of another computation is broken only when asked.
    let mut other = command(&s.0, &["eval", expr, "-o", "other.zarr", "-q", "--no-backups", "--work-dir", &w]).env("CUBED_FAULTS", "hang=1.0;seed=1").spawn().unwrap();
    wait_for(&s.path("other.zarr/cubed-lease.json"), &mut other);
    kill(other);
    let different = "zeros((8, 8), chunks=(2, 2)) + 2";
    refused(&s.0, &["eval", different, "-o", "other.zarr", "--overwrite", "-q", "--work-dir", &w], &["is held by run"]);
    ok(&s.0, &["eval", different, "-o", "other.zarr", "--overwrite", "--break-lease", "-q", "--work-dir", &w]);
    assert_eq!(total(&s, "other.zarr"), "128.0");
}

#[test]
fn a_failed_run_releases_its_lease_and_resume_continues_it() {
    let s = Scratch::new("failed");
    let w = s.work();
    let expr = "zeros((8, 8), chunks=(2, 2)) + 3";
    let out = command(&s.0, &["eval", expr, "-o", "f.zarr", "-q", "--attempts", "1", "--work-dir", &w]).env("CUBED_FAULTS", "fail=0.5;seed=3").output().unwrap();
    assert!(!out.status.success());
    assert!(!s.path("f.zarr/cubed-lease.json").exists() && !s.path("f.zarr/zarr.json").exists());
    refused(&s.0, &["eval", expr, "-o", "f.zarr", "-q", "--work-dir", &w], &["same computation", "--resume"]);
    ok(&s.0, &["eval", expr, "-o", "f.zarr", "-q", "--resume", "--work-dir", &w]);
    assert_eq!(total(&s, "f.zarr"), "192.0");
}

#[test]
fn options_and_paths_are_checked_before_launch() {
    let s = Scratch::new("options");
    let w = s.work();
    std::fs::create_dir_all(s.path("run")).unwrap();
    make_input(&s, "in/a.zarr", 1);
    // Relative paths with `..` work for inputs and outputs alike.
    ok(&s.path("run"), &["eval", "a * 2", "-i", "a=../in/a.zarr", "-o", "../out/b.zarr", "-q", "--work-dir", &w]);
    assert_eq!(total(&s, "out/b.zarr"), "5352.0");
    assert!(snapshot(&s.0).keys().all(|p| !p.to_string_lossy().contains("%2E")));
    refused(&s.0, &["eval", "a + b", "-i", "a=in/a.zarr", "-i", "a=in/a.zarr", "-q", "--work-dir", &w], &["--input 'a' is given twice"]);
    refused(&s.0, &["eval", "arange(4)", "-o", "z.zarr", "--codec", "zstd:999", "-q", "--work-dir", &w], &["zstd level 999 is out of range"]);
    refused(&s.0, &["eval", "arange(4)", "-o", "z.zarr", "--summary-json", "/no/such/dir/s.json", "-q", "--work-dir", &w], &["cannot write the summary"]);
    assert!(!s.path("z.zarr").exists(), "nothing was computed");
    let out = command(&s.0, &["eval", "sum(a)", "-i", "a=s3://cubed-test/a.zarr", "-q", "--work-dir", &w])
        .env("AWS_ENDPOINT_URL", "127.0.0.1:not-a-port")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("is not a usable endpoint") && !err.contains("panicked"), "{err}");
}

#[test]
fn intermediates_are_deleted_after_success_unless_kept() {
    let s = Scratch::new("cleanup");
    let w = s.work();
    // A rechunk through an intermediate, and a reduction with an intermediate round.
    let expr = "x = random((64, 64), chunks=(4, 64), seed=2); (rechunk(x, (64, 4)), sum(x, axis=0, split_every=2))";
    let files = |rel: &str| snapshot(&s.path(rel)).into_keys().map(|p| p.strip_prefix(&s.0).unwrap().display().to_string()).collect::<Vec<_>>();
    ok(&s.0, &["eval", expr, "-o", "r.zarr", "-o", "m.zarr", "-q", "--work-dir", &w, "--keep-intermediates"]);
    let kept = files("work");
    assert!(kept.iter().any(|k| k.contains("/arr-") && k.contains("/c/")), "intermediate chunks expected: {kept:?}");
    ok(&s.0, &["eval", expr, "-o", "r2.zarr", "-o", "m2.zarr", "-q", "--work-dir", &w]);
    let after = files("work");
    let fresh: Vec<&String> = after.iter().filter(|k| !kept.contains(k)).collect();
    assert!(fresh.iter().any(|k| k.contains("/history/run-")), "history stays: {fresh:?}");
    assert!(fresh.iter().all(|k| k.contains("/history/") || k.ends_with("inputs.json")), "only history is left: {fresh:?}");
    assert_eq!(total(&s, "r2.zarr"), total(&s, "r.zarr"));
    // A printed result that another op also reads is kept until it is printed.
    assert_eq!(ok(&s.0, &["eval", "x = rechunk(arange(8), (2,)) + 1; (x, sum(x))", "-q", "--work-dir", &w]), "[1, 2, 3, 4, 5, 6, 7, 8]\n36\n");
}

#[test]
fn resume_refuses_an_input_that_changed() {
    let s = Scratch::new("changed");
    let w = s.work();
    make_input(&s, "in.zarr", 1);
    let args = ["eval", "a * 2", "-i", "a=in.zarr", "-o", "o.zarr", "-q", "--attempts", "1", "--work-dir", &w];
    let out = command(&s.0, &args).env("CUBED_FAULTS", "fail=0.5;seed=3").output().unwrap();
    assert!(!out.status.success());
    // The input is rewritten with other values (same shape, chunks and type: the same plan).
    ok(&s.0, &["eval", "zeros((6, 4), chunks=(2, 2)) + 1", "-o", "in2.zarr", "-q", "--work-dir", &w]);
    std::fs::remove_dir_all(s.path("in.zarr")).unwrap();
    std::fs::rename(s.path("in2.zarr"), s.path("in.zarr")).unwrap();
    let mut resume: Vec<&str> = args.to_vec();
    resume.push("--resume");
    refused(&s.0, &resume, &["input", "in.zarr", "has changed since the run being resumed began"]);
    // Without --resume the run starts again from the new data.
    let mut fresh: Vec<&str> = args.to_vec();
    fresh.push("--overwrite");
    ok(&s.0, &fresh);
    assert_eq!(total(&s, "o.zarr"), "48.0");
}
