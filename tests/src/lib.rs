//! Shared helpers for cubed-rs end-to-end tests.
//!
//! The end-to-end tests drive the `cubed` binary as a subprocess and check its
//! results with independent tools (zarr-python and numpy from the test venv).
//! Nothing here skips silently: a missing venv or binary fails the test with a
//! message that says how to provide it.
//!
//! Prerequisites:
//! - `scripts/python-env.sh` has created `<repo>/.venv` (zarr 3, numpy, ...);
//! - `cargo build -p cubed --bin cubed` has built the binary in the same target
//!   directory (and profile) as the tests.
//!
//! Set `CUBED_E2E_KEEP=1` to keep the temp directories of a run for inspection.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use tempfile::TempDir;

/// The repository root (the workspace directory that holds `tests/`).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
}

/// The Python interpreter of the test venv, `<repo>/.venv/bin/python`.
///
/// Panics (never skips) when the venv is missing, saying how to create it.
pub fn venv_python() -> PathBuf {
    let python = repo_root().join(".venv").join("bin").join("python");
    assert!(
        python.is_file(),
        "the test venv python {} is missing; run scripts/python-env.sh \
         (from the repository root) to create it",
        python.display()
    );
    python
}

/// The cargo profile directory the running test binary was built into, e.g.
/// `<target>/debug`.
///
/// Integration-test executables live in `<target>/<profile>/deps/`, so this is
/// two levels above [`std::env::current_exe`].
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the path of the running test executable");
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("cannot derive the target directory from {}", exe.display()))
        .to_path_buf()
}

/// The `cubed` binary next to the test executables, `<target>/<profile>/cubed`.
///
/// Panics when it has not been built, saying how to build it. Note that the
/// tests use whatever binary is there: rebuild it after changing the driver.
pub fn cubed_bin() -> PathBuf {
    let bin = profile_dir().join(format!("cubed{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the cubed binary {} is missing; build it with `cargo build -p cubed --bin cubed` \
         (same profile as the tests)",
        bin.display()
    );
    bin
}

/// The fake Lambda fleet next to the test executables,
/// `<target>/<profile>/lambda-fleet` (docs/FLEET.md).
///
/// Panics when it has not been built, saying how to build it.
pub fn fleet_bin() -> PathBuf {
    let bin = profile_dir().join(format!("lambda-fleet{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the lambda-fleet binary {} is missing; build it with `cargo build -p cubed-e2e --bin lambda-fleet` \
         (same profile as the tests)",
        bin.display()
    );
    bin
}

/// A new, empty, uniquely named directory under [`std::env::temp_dir`], removed
/// when dropped (unless `CUBED_E2E_KEEP` is set).
///
/// `label` is part of the name, to tell the tests' directories apart.
pub fn temp_dir(label: &str) -> TempDir {
    temp_dir_under(label, &std::env::temp_dir())
}

/// Like [`temp_dir`], but in memory (`/dev/shm`) where the system has it:
/// for tests writing tens of thousands of small files, which a busy disk
/// creates and deletes slowly.
pub fn memory_temp_dir(label: &str) -> TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        temp_dir_under(label, shm)
    } else {
        temp_dir(label)
    }
}

fn temp_dir_under(label: &str, base: &Path) -> TempDir {
    let mut dir = tempfile::Builder::new()
        .prefix(&format!("cubed-e2e-{label}-"))
        .tempdir_in(base)
        .expect("create a temp dir");
    if std::env::var_os("CUBED_E2E_KEEP").is_some() {
        eprintln!("keeping {}", dir.path().display());
        dir.disable_cleanup(true);
    }
    dir
}

/// Runs `cmd` to completion and returns its stdout (lossily decoded).
///
/// Panics when it cannot start or exits unsuccessfully; the message shows the
/// command line, the exit status, stdout and stderr.
pub fn run(cmd: &mut Command) -> String {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)));
    if !output.status.success() {
        panic!("{}", failure_message(cmd, &output));
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `cmd` to completion, expecting it to FAIL; returns its stderr.
///
/// Panics when it cannot start or exits successfully, with stdout and stderr in
/// the message.
pub fn run_failing(cmd: &mut Command) -> String {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)));
    if output.status.success() {
        panic!(
            "expected failure, but it succeeded\n{}",
            failure_message(cmd, &output)
        );
    }
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn failure_message(cmd: &Command, output: &Output) -> String {
    format!(
        "command {}\nexited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        describe(cmd),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}

/// The command line of `cmd`, for messages.
fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| {
        let a = a.to_string_lossy();
        if a.contains(|c: char| c.is_whitespace() || c == '\'') {
            format!("{a:?}")
        } else {
            a.into_owned()
        }
    }));
    parts.join(" ")
}

/// A command running `script` with the venv python (`python -c script ARGS...`);
/// the script sees `args` as `sys.argv[1:]`.
///
/// Python scripts should fail loudly (assert / `np.testing`), so that [`run`]
/// turns a mismatch into a test failure with the traceback in the message.
pub fn python<I, S>(script: &str, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(venv_python());
    cmd.arg("-c").arg(script).args(args);
    cmd
}

/// Runs `script` with the venv python (see [`python`]) and returns its stdout.
pub fn run_python<I, S>(script: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run(&mut python(script, args))
}

/// A command running the `cubed` binary with no arguments yet.
pub fn cubed() -> Command {
    Command::new(cubed_bin())
}

/// Builder for `cubed eval` with `-q` and a work dir, run with [`Eval::run`].
///
/// ```no_run
/// # use cubed_e2e::Eval;
/// # let dir = std::path::Path::new("/tmp");
/// let printed = Eval::new("sum(a, axis=0)", dir.join("work"))
///     .input("a", dir.join("a.zarr"))
///     .run();
/// ```
pub struct Eval {
    cmd: Command,
}

impl Eval {
    /// `cubed eval EXPR -q --work-dir WORK_DIR`.
    pub fn new(expr: &str, work_dir: impl AsRef<Path>) -> Self {
        let mut cmd = cubed();
        cmd.arg("eval")
            .arg(expr)
            .arg("-q")
            .arg("--work-dir")
            .arg(work_dir.as_ref());
        Eval { cmd }
    }

    /// Adds `--input NAME=PATH`.
    pub fn input(mut self, name: &str, path: impl AsRef<Path>) -> Self {
        let mut arg = std::ffi::OsString::from(format!("{name}="));
        arg.push(path.as_ref());
        self.cmd.arg("--input").arg(arg);
        self
    }

    /// Adds `--output PATH` (one per result, in order).
    pub fn output(mut self, path: impl AsRef<Path>) -> Self {
        self.cmd.arg("--output").arg(path.as_ref());
        self
    }

    /// Adds further raw arguments, e.g. `["--codec", "gzip:6"]`.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Runs it, asserting success (see [`run`]); returns stdout, i.e. the
    /// printed results when there is no `--output`.
    pub fn run(mut self) -> String {
        run(&mut self.cmd)
    }

    /// The underlying command, e.g. for [`run_failing`].
    pub fn command(&mut self) -> &mut Command {
        &mut self.cmd
    }
}

/// A local cloud started with `localstack/up.sh` (an S3 server and `cargo
/// lambda watch` serving the task function) on free loopback ports, stopped
/// with `localstack/down.sh` when dropped.
pub struct LocalCloud {
    /// Environment to give the driver (credentials, region, endpoints).
    pub env: Vec<(String, String)>,
    /// The bucket created for the tests.
    pub bucket: String,
    /// S3 endpoint URL.
    pub s3_endpoint: String,
    /// Lambda Invoke endpoint URL.
    pub lambda_endpoint: String,
    state: TempDir,
    stopped: bool,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port").local_addr().unwrap().port()
}

impl LocalCloud {
    /// Starts the stack with `s3` = `moto` or `localstack`.
    pub fn start(s3: &str) -> LocalCloud {
        Self::start_with(s3, &[])
    }

    /// Starts the stack with extra environment for the function (e.g. `CUBED_FAULTS`).
    pub fn start_with(s3: &str, function_env: &[(&str, &str)]) -> LocalCloud {
        let state = temp_dir(&format!("cloud-{s3}"));
        let (s3_port, lambda_port) = (free_port(), free_port());
        run(Command::new(repo_root().join("localstack/up.sh"))
            .args(["--s3", s3, "--state"])
            .arg(state.path())
            .env("CUBED_S3_PORT", s3_port.to_string())
            .env("CUBED_LAMBDA_PORT", lambda_port.to_string())
            .env("CUBED_FUNCTION_ENV", function_env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")));
        let env_text = std::fs::read_to_string(state.path().join("env")).expect("up.sh writes its env file");
        let env: Vec<(String, String)> = env_text
            .lines()
            .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).expect("variable in env file");
        LocalCloud { bucket: get("CUBED_TEST_BUCKET"), s3_endpoint: get("AWS_ENDPOINT_URL_S3"), lambda_endpoint: get("AWS_ENDPOINT_URL_LAMBDA"), env, state, stopped: false }
    }

    /// `cubed` with this cloud's environment.
    pub fn cubed(&self) -> Command {
        let mut cmd = cubed();
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// An `s3://` URL in the test bucket.
    pub fn url(&self, path: &str) -> String {
        format!("s3://{}/{}", self.bucket, path)
    }

    /// PID of the S3 server process (the first process up.sh started).
    pub fn s3_pid(&self) -> u32 {
        let pids = std::fs::read_to_string(self.state.path().join("pids")).expect("up.sh records its PIDs");
        pids.lines().next().and_then(|l| l.trim().parse().ok()).expect("a PID per line")
    }

    /// Every process of the stack now: the PIDs up.sh recorded and their
    /// descendants (cargo lambda watch's function processes).
    pub fn processes(&self) -> Vec<u32> {
        let recorded = std::fs::read_to_string(self.state.path().join("pids")).unwrap_or_default();
        let mut out = vec![];
        let mut todo: Vec<u32> = recorded.lines().filter_map(|l| l.trim().parse().ok()).collect();
        while let Some(pid) = todo.pop() {
            out.push(pid);
            todo.extend(children(pid));
        }
        out
    }

    /// Stops the stack with `localstack/down.sh` and checks that every one of
    /// its processes is gone and its ports are free again; the error says
    /// which are not.
    pub fn stop(mut self) -> Result<(), String> {
        self.stopped = true;
        self.shut_down()
    }

    fn shut_down(&self) -> Result<(), String> {
        let processes = self.processes();
        log_pids(&processes);
        let out = Command::new(repo_root().join("localstack/down.sh")).arg("--state").arg(self.state.path()).output().map_err(|e| format!("cannot run down.sh: {e}"))?;
        let mut problems = vec![];
        if !out.status.success() {
            problems.push(format!("down.sh failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let alive: Vec<u32> = processes.into_iter().filter(|&p| is_alive(p)).collect();
        if !alive.is_empty() {
            problems.push(format!("processes still running: {alive:?}"));
        }
        for endpoint in [&self.s3_endpoint, &self.lambda_endpoint] {
            let port: u16 = endpoint.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0);
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                problems.push(format!("port {port} ({endpoint}) is still held"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// The log of the S3 server and of `cargo lambda watch`, for failure messages.
    pub fn logs(&self) -> String {
        ["s3.log", "lambda.log"]
            .iter()
            .map(|f| format!("--- {f} ---\n{}", std::fs::read_to_string(self.state.path().join(f)).unwrap_or_default()))
            .collect()
    }
}

impl Drop for LocalCloud {
    fn drop(&mut self) {
        if !self.stopped {
            // A test that failed before `stop`: still stop everything, and say what was left.
            if let Err(e) = self.shut_down() {
                eprintln!("warning: the local cloud did not stop cleanly: {e}");
            }
        }
    }
}

/// The direct children of `pid` (from /proc).
fn children(pid: u32) -> Vec<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).map(|d| d.filter_map(|e| e.ok()).collect::<Vec<_>>()).unwrap_or_default();
    tasks
        .iter()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| c.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<u32>>())
        .collect()
}

/// The fields of /proc/PID/stat after the parenthesised command name: the
/// state is the first, the start time the 20th.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat.rsplit_once(") ")?.1.split_whitespace().map(str::to_string).collect())
}

/// True while `pid` runs (a zombie, exited but not yet reaped, is not running).
pub fn is_alive(pid: u32) -> bool {
    stat_fields(pid).and_then(|f| f.first().cloned()).is_some_and(|state| state != "Z" && state != "X")
}

/// Appends `PID START` lines for `pids` to the file `CUBED_TEST_PID_LOG`
/// names, if set (START: the start time in /proc/PID/stat, so that a reused
/// PID is not mistaken for it): the test script checks after the whole suite
/// that none of them is alive.
fn log_pids(pids: &[u32]) {
    let Ok(path) = std::env::var("CUBED_TEST_PID_LOG") else { return };
    let start = |pid: u32| stat_fields(pid).and_then(|f| f.get(19).cloned());
    let lines: String = pids.iter().filter_map(|&p| start(p).map(|s| format!("{p} {s}\n"))).collect();
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(lines.as_bytes());
    }
}

/// A running fake Lambda fleet (`src/bin/lambda-fleet.rs`, docs/FLEET.md)
/// on 127.0.0.1, stopped (killed) when dropped if [`Fleet::stop`] was not called.
pub struct Fleet {
    child: std::process::Child,
    port: u16,
}

impl Fleet {
    /// Its Invoke endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts the fleet with `args` and reads its port from its first line.
    pub fn start(args: &[&str]) -> Fleet {
        let mut child = Command::new(fleet_bin())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start lambda-fleet");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("read the fleet's first line");
        let port = line.trim().strip_prefix("listening on http://127.0.0.1:").and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the fleet's first line is not 'listening on http://127.0.0.1:PORT': {line:?}");
        };
        Fleet { child, port }
    }

    /// `GET /fleet/stats`.
    pub fn stats(&self) -> serde_json::Value {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the fleet");
        stream.write_all(b"GET /fleet/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").expect("send the request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read the answer");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(head.starts_with("HTTP/1.1 200"), "{response}");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("stats are not JSON ({e}): {body}"))
    }

    /// Stops the fleet with SIGTERM by its PID; it must exit successfully
    /// within 10 s and be gone afterwards.
    pub fn stop(mut self) {
        let pid = self.child.id();
        let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("run kill");
        assert!(status.success(), "kill -TERM {pid} failed");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("wait for the fleet") {
                break exit;
            }
            assert!(std::time::Instant::now() < deadline, "the fleet (pid {pid}) did not stop within 10 s of SIGTERM");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(exit.success(), "the fleet exited with {exit} on SIGTERM");
        assert!(!is_alive(pid), "the fleet (pid {pid}) is still alive");
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        // After a failed assertion: never leave the process behind.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
