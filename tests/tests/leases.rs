//! One writer per output on S3 too: the lease is a conditional (create-only)
//! PUT, so a second run writing the same `s3://` output is refused while the
//! first holds it, and `--resume` takes a dead holder's lease over.

use std::process::{Command, Stdio};
use std::time::Duration;

use cubed_e2e::{run, run_failing, LocalCloud};

/// HTTP status of a GET of `key` in the test bucket (signed like the AWS CLI).
fn status(cloud: &LocalCloud, key: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "test:test"])
        .arg(format!("{}/{}/{key}", cloud.s3_endpoint, cloud.bucket))
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_second_writer_of_an_s3_output_is_refused_and_resume_takes_over() {
    let cloud = LocalCloud::start("moto");
    let work = cloud.url("work");
    let out = cloud.url("out/same.zarr");
    let expr = "zeros((8, 8), chunks=(2, 2)) + 1";
    // The first run hangs in its tasks while it holds the output.
    let mut first = cloud
        .cubed()
        .env("CUBED_FAULTS", "hang=1.0;seed=1")
        .args(["eval", expr, "-q", "--no-backups", "--work-dir", &work, "-o", &out])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lease = "out/same.zarr/cubed-lease.json";
    let mut waited = 0;
    while status(&cloud, lease) != "200" {
        assert!(first.try_wait().unwrap().is_none(), "the first run ended before taking its lease");
        assert!(waited < 300, "no lease appeared at {lease}");
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    }
    let err = run_failing(cloud.cubed().args(["eval", "zeros((8, 8), chunks=(2, 2)) + 10", "-q", "--work-dir", &work, "-o", &out]));
    assert!(err.contains("is held by run") && err.contains(&format!("process {}", first.id())), "{err}");
    let pid = first.id();
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(!std::path::Path::new(&format!("/proc/{pid}/status")).exists(), "the first run is still there");
    // The holder is dead: --resume of the same computation takes the output over and releases it at the end.
    run(cloud.cubed().args(["eval", expr, "-q", "--resume", "--work-dir", &work, "-o", &out]));
    assert_eq!(status(&cloud, lease), "404", "the lease is released");
    let total = run(cloud.cubed().args(["eval", "sum(a)", "-q", "--work-dir", &work, "-i", &format!("a={out}")]));
    assert_eq!(total.trim(), "64.0", "{}", cloud.logs());
}
