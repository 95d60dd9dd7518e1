//! Checks of the AWS deployment in `infra/` that need no AWS account: the
//! template passes cfn-lint, its structure keeps the promises of
//! infra/README.md (least-privilege role that never deletes, read-only input
//! buckets, private encrypted bucket, expiring work dir, the function the
//! driver expects), and `infra/deploy.sh` parses, answers `--help` without
//! touching anything, refuses malformed values and passes each parameter
//! override as one argument (to a fake `sam`).
//!
//! Needs the test venv (`scripts/python-env.sh`: cfn-lint); nothing else.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use cubed_e2e::{repo_root, run, run_failing, run_python, temp_dir};
use serde_json::Value;

const TEMPLATE: &str = "infra/template.yaml";
const DEPLOY: &str = "infra/deploy.sh";

/// The venv's cfn-lint, `<repo>/.venv/bin/cfn-lint`; panics (never skips) when missing.
fn cfn_lint() -> PathBuf {
    let bin = repo_root().join(".venv").join("bin").join("cfn-lint");
    assert!(
        bin.is_file(),
        "{} is missing: the test venv has no cfn-lint; run scripts/python-env.sh \
         (from the repository root) to install it (scripts/requirements-test.txt)",
        bin.display()
    );
    bin
}

/// The template as JSON, decoded by cfn-lint's own loader (which understands
/// the short-form tags `!Ref`, `!Sub`, `!GetAtt`, ... and turns them into
/// `{"Ref": ..}`, `{"Fn::Sub": ..}`, `{"Fn::GetAtt": [..]}`).
fn template() -> Value {
    let script = r#"
import json, sys
from cfnlint.decode import decode_str
with open(sys.argv[1]) as f:
    template, matches = decode_str(f.read())
assert not matches, "cannot decode the template: %s" % matches
print(json.dumps(template))
"#;
    let out = run_python(script, [repo_root().join(TEMPLATE)]);
    serde_json::from_str(&out).expect("the decoder prints JSON")
}

/// Logical ids of the resources of type `ty`.
fn resources_of_type<'a>(t: &'a Value, ty: &str) -> Vec<(&'a str, &'a Value)> {
    t["Resources"]
        .as_object()
        .expect("Resources is a map")
        .iter()
        .filter(|(_, r)| r["Type"] == ty)
        .map(|(id, r)| (id.as_str(), r))
        .collect()
}

/// The one resource of type `ty`.
fn only_resource<'a>(t: &'a Value, ty: &str) -> (&'a str, &'a Value) {
    let found = resources_of_type(t, ty);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {ty}, found {:?}",
        found.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    found[0]
}

/// A value that is a string or a list of them, as a list (IAM's Action/Resource).
fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    }
}

/// Is `resource` the ARN of the bucket `bucket` (a logical id), or of its
/// objects (`.../*`) when `objects`? Accepts `!GetAtt B.Arn`,
/// `!Sub "${B.Arn}/*"` and `!Sub "arn:${AWS::Partition}:s3:::${B}/*"`;
/// rejects any literal string (a hard-coded or wildcard resource).
fn is_bucket_arn(resource: &Value, bucket: &str, objects: bool) -> bool {
    if let Some(getatt) = resource.get("Fn::GetAtt") {
        let parts: Vec<String> = match getatt {
            Value::String(s) => s.splitn(2, '.').map(String::from).collect(),
            Value::Array(a) => a
                .iter()
                .map(|p| p.as_str().unwrap_or_default().to_string())
                .collect(),
            _ => return false,
        };
        return !objects && parts == [bucket, "Arn"];
    }
    if let Some(Value::String(sub)) = resource.get("Fn::Sub") {
        let rest = sub
            .strip_prefix(&format!("${{{bucket}.Arn}}"))
            .or_else(|| sub.strip_prefix(&format!("arn:${{AWS::Partition}}:s3:::${{{bucket}}}")));
        return match rest {
            Some(rest) if objects => rest == "/*",
            Some(rest) => rest.is_empty(),
            None => false,
        };
    }
    false
}

/// The parameter `P` when `resource` is `!Sub "${Bucket.Arn}/${P}*"`.
fn written_prefix<'a>(resource: &'a Value, bucket: &str) -> Option<&'a str> {
    let sub = resource.get("Fn::Sub")?.as_str()?;
    sub.strip_prefix(&format!("${{{bucket}.Arn}}/${{"))?.strip_suffix("}*")
}

/// The role's policy statements, each with the condition it is under (a
/// statement written `!If [COND, STATEMENT, !Ref AWS::NoValue]`).
fn role_statements(role: &Value) -> Vec<(Option<&str>, &Value)> {
    let mut out = Vec::new();
    for policy in role["Properties"]["Policies"].as_array().expect("inline Policies") {
        for st in policy["PolicyDocument"]["Statement"].as_array().expect("Statement list") {
            match st.get("Fn::If") {
                Some(Value::Array(branches)) if branches.len() == 3 => {
                    assert_eq!(branches[2], serde_json::json!({"Ref": "AWS::NoValue"}), "a conditional statement is present or absent: {st}");
                    out.push((Some(branches[0].as_str().expect("condition name")), &branches[1]));
                }
                Some(other) => panic!("unexpected Fn::If {other}"),
                None => out.push((None, st)),
            }
        }
    }
    out
}

/// Evaluates the intrinsic functions the template's role uses (`Ref` to a
/// parameter, `Fn::Join`, `Fn::Split`, `Fn::Sub` with a variable map,
/// `Fn::Equals`, `Fn::Not`), with `params` as the parameters' values.
fn evaluate(v: &Value, params: &HashMap<&str, Value>) -> Value {
    let Some((name, arg)) = v.as_object().filter(|o| o.len() == 1).and_then(|o| o.iter().next()) else {
        return v.clone();
    };
    let args = |i: usize| evaluate(&arg[i], params);
    match name.as_str() {
        "Ref" => params.get(arg.as_str().unwrap()).cloned().unwrap_or_else(|| panic!("no value for {v}")),
        "Fn::Join" => {
            let parts: Vec<String> = args(1).as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
            Value::String(parts.join(arg[0].as_str().expect("a literal delimiter")))
        }
        "Fn::Split" => args(1).as_str().unwrap().split(arg[0].as_str().unwrap()).map(|p| Value::String(p.into())).collect(),
        "Fn::Sub" => {
            let mut text = arg[0].as_str().expect("Fn::Sub [template, variables]").to_string();
            for (var, value) in arg[1].as_object().unwrap() {
                text = text.replace(&format!("${{{var}}}"), evaluate(value, params).as_str().unwrap());
            }
            assert!(!text.contains("${"), "unresolved variable in {text}");
            Value::String(text)
        }
        "Fn::Equals" => Value::Bool(args(0) == args(1)),
        "Fn::Not" => Value::Bool(!args(0).as_bool().unwrap()),
        _ => panic!("cannot evaluate {v}"),
    }
}

#[test]
fn template_passes_cfn_lint() {
    let lint = cfn_lint();
    // Exit status 0: no errors, no warnings, no informational findings.
    run(Command::new(lint).arg(TEMPLATE).current_dir(repo_root()));
}

#[test]
fn role_grants_s3_on_the_bucket_only_and_logs_on_its_log_group() {
    let t = template();
    let (bucket, _) = only_resource(&t, "AWS::S3::Bucket");
    let (log_group, _) = only_resource(&t, "AWS::Logs::LogGroup");
    let (role_id, role) = only_resource(&t, "AWS::IAM::Role");
    assert!(
        resources_of_type(&t, "AWS::IAM::Policy").is_empty(),
        "policies belong inline in {role_id}"
    );
    assert!(
        resources_of_type(&t, "AWS::IAM::ManagedPolicy").is_empty(),
        "no managed policies expected"
    );
    let props = &role["Properties"];
    assert!(
        props.get("ManagedPolicyArns").is_none(),
        "{role_id} must not attach managed policies (they grant more than the bucket)"
    );
    assert_eq!(
        props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com",
        "{role_id} is for Lambda"
    );

    // The function deletes nothing (chunks are whole-object PUTs, empty ones
    // included; the driver removes stale metadata with its user's credentials).
    let object_actions = ["s3:GetObject", "s3:PutObject"];
    let mut granted = Vec::new();
    for (condition, st) in role_statements(role) {
        assert_eq!(st["Effect"], "Allow", "unexpected statement {st}");
        assert!(
            st.get("NotAction").is_none() && st.get("NotResource").is_none(),
            "no NotAction/NotResource: {st}"
        );
        let actions: Vec<&str> = one_or_many(&st["Action"])
            .iter()
            .map(|a| a.as_str().expect("literal action"))
            .collect();
        let resources = one_or_many(&st["Resource"]);
        assert!(!resources.is_empty(), "statement without Resource: {st}");
        for action in &actions {
            assert!(!action.contains('*'), "wildcard action {action} in {st}");
            assert!(
                !action.eq_ignore_ascii_case("s3:DeleteObject"),
                "the task function deletes nothing, yet {action} is granted: {st}"
            );
        }
        if let Some(condition) = condition {
            // Input buckets: read-only (what on, see input_buckets_are_read_only).
            assert_eq!(condition, "HasInputBuckets", "{st}");
            for action in &actions {
                assert!(
                    ["s3:GetObject", "s3:ListBucket"].contains(action),
                    "input buckets are read-only, yet {action} is granted: {st}"
                );
            }
            continue;
        }
        for action in &actions {
            granted.push(action.to_string());
            if action.to_ascii_lowercase().starts_with("s3:") {
                let objects = object_actions.contains(action);
                assert!(
                    objects || *action == "s3:ListBucket",
                    "S3 action {action} is not needed by the task function"
                );
                if *action == "s3:PutObject" {
                    // Writes only under the work dir and the output prefix: inputs stay read-only.
                    let mut prefixes: Vec<&str> = resources.iter().filter_map(|r| written_prefix(r, bucket)).collect();
                    prefixes.sort_unstable();
                    assert!(
                        prefixes == ["OutputPrefix", "WorkPrefix"] && resources.len() == 2,
                        "s3:PutObject must be granted on `${{Bucket.Arn}}/${{WorkPrefix}}*` and `${{Bucket.Arn}}/${{OutputPrefix}}*` only, got {resources:?}"
                    );
                    continue;
                }
                for r in &resources {
                    assert!(
                        is_bucket_arn(r, bucket, objects),
                        "S3 action {action} must be granted on {} of {bucket} only, got resource {r}",
                        if objects { "the objects (`${Bucket.Arn}/*`)" } else { "the ARN (`!GetAtt Bucket.Arn`)" }
                    );
                }
            } else if action.starts_with("logs:") {
                assert!(
                    ["logs:CreateLogStream", "logs:PutLogEvents"].contains(action),
                    "logs action {action} is not needed (the log group is created by the template)"
                );
                for r in &resources {
                    let own = r
                        .get("Fn::GetAtt")
                        .is_some_and(|g| g[0] == log_group && g[1] == "Arn")
                        || r.get("Fn::Sub")
                            .and_then(Value::as_str)
                            .is_some_and(|s| s.contains(&format!("${{{log_group}}}")));
                    assert!(
                        own,
                        "{action} must be limited to the log group {log_group}, got {r}"
                    );
                }
            } else {
                panic!("action {action} is outside what the task function needs: {st}");
            }
        }
    }
    granted.sort();
    let mut expected: Vec<String> = object_actions
        .iter()
        .chain(&["s3:ListBucket", "logs:CreateLogStream", "logs:PutLogEvents"])
        .map(|a| a.to_string())
        .collect();
    expected.sort();
    assert_eq!(
        granted, expected,
        "the role grants exactly what the task function needs"
    );
}

#[test]
fn input_buckets_are_read_only() {
    let t = template();
    let param = &t["Parameters"]["InputBucketArns"];
    assert_eq!(param["Type"], "CommaDelimitedList");
    assert_eq!(param["Default"], "", "no input buckets unless asked");
    let (_, role) = only_resource(&t, "AWS::IAM::Role");
    let inputs: Vec<&Value> = role_statements(role)
        .into_iter()
        .filter_map(|(c, st)| c.map(|_| st))
        .collect();
    assert_eq!(inputs.len(), 2, "one statement for objects, one for listing");
    let arns = ["arn:aws:s3:::era5-public", "arn:aws-cn:s3:::my.inputs"];
    for (value, present) in [(serde_json::json!([""]), false), (serde_json::json!(arns), true)] {
        let params = HashMap::from([("InputBucketArns", value)]);
        assert_eq!(
            evaluate(&t["Conditions"]["HasInputBuckets"], &params),
            Value::Bool(present),
            "input statements present only with input buckets"
        );
        if !present {
            continue;
        }
        let mut grants: Vec<(String, Value)> = inputs
            .iter()
            .flat_map(|st| {
                let resource = evaluate(&st["Resource"], &params);
                one_or_many(&st["Action"]).into_iter().map(move |a| (a.as_str().unwrap().to_string(), resource.clone()))
            })
            .collect();
        grants.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            grants,
            vec![
                ("s3:GetObject".to_string(), serde_json::json!([format!("{}/*", arns[0]), format!("{}/*", arns[1])])),
                ("s3:ListBucket".to_string(), serde_json::json!(arns)),
            ],
            "reads of the objects and listings of exactly the input buckets"
        );
    }
    // The pattern applies to each ARN: whole buckets of a partition, nothing else.
    let pattern = param["AllowedPattern"].as_str().expect("an AllowedPattern");
    run_python(
        r#"
import re, sys
pattern = sys.argv[1]
for ok in ["", "arn:aws:s3:::era5-public", "arn:aws-us-gov:s3:::a.b-c"]:
    assert re.fullmatch(pattern, ok), ok
for bad in ["*", "arn:aws:s3:::*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/prefix", "era5-public", "arn:aws:s3:::B", "arn:aws:s3:::a b"]:
    assert not re.fullmatch(pattern, bad), bad
"#,
        [pattern],
    );
}

#[test]
fn bucket_is_private_encrypted_and_expires_the_work_dir() {
    let t = template();
    let (_, bucket) = only_resource(&t, "AWS::S3::Bucket");
    let p = &bucket["Properties"];
    for flag in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(p["PublicAccessBlockConfiguration"][flag], true, "{flag}");
    }
    assert_eq!(
        p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            ["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "AES256",
        "SSE-S3"
    );
    let rules = p["LifecycleConfiguration"]["Rules"]
        .as_array()
        .expect("lifecycle rules");
    let work = rules
        .iter()
        .find(|r| r.get("ExpirationInDays").is_some())
        .expect("a rule expiring the work dir");
    assert_eq!(work["Status"], "Enabled");
    let prefix = work
        .get("Prefix")
        .or_else(|| work.pointer("/Filter/Prefix"));
    assert_eq!(
        prefix,
        Some(&serde_json::json!({"Ref": "WorkPrefix"})),
        "expiry limited to WorkPrefix: {work}"
    );
    assert_eq!(
        work["ExpirationInDays"],
        serde_json::json!({"Ref": "WorkExpirationDays"})
    );
    assert!(
        rules
            .iter()
            .any(|r| r["Status"] == "Enabled" && r.get("AbortIncompleteMultipartUpload").is_some()),
        "incomplete multipart uploads are aborted"
    );

    let params = &t["Parameters"];
    assert_eq!(params["WorkPrefix"]["Default"], "work/");
    assert_eq!(params["WorkExpirationDays"]["Default"], 7);
    assert_eq!(
        params["BucketName"]["Default"], "",
        "the bucket name is optional"
    );
    let (_, logs) = only_resource(&t, "AWS::Logs::LogGroup");
    assert!(
        logs["Properties"].get("RetentionInDays").is_some(),
        "the log group has a retention"
    );
}

#[test]
fn function_is_what_the_driver_expects() {
    let t = template();
    let functions = resources_of_type(&t, "AWS::Serverless::Function");
    let (id, f) = match functions.as_slice() {
        [one] => *one,
        [] => only_resource(&t, "AWS::Lambda::Function"),
        _ => panic!("one task function expected"),
    };
    let p = &f["Properties"];
    assert_eq!(p["Runtime"], "provided.al2023", "{id}");
    assert_eq!(p["Handler"], "bootstrap", "{id}");
    assert_eq!(
        p["MemorySize"],
        serde_json::json!({"Ref": "FunctionMemoryMB"})
    );
    assert_eq!(p["Timeout"], serde_json::json!({"Ref": "TimeoutSeconds"}));
    assert_eq!(
        p["Architectures"],
        serde_json::json!([{"Ref": "Architecture"}])
    );
    let (role_id, _) = only_resource(&t, "AWS::IAM::Role");
    assert_eq!(
        p["Role"]["Fn::GetAtt"][0], role_id,
        "the function runs with {role_id}"
    );
    assert!(
        p.get("Environment").is_none(),
        "the function needs no environment variables"
    );

    let params = &t["Parameters"];
    let mem = &params["FunctionMemoryMB"];
    // The driver refuses a function with less memory than allowed_mem, whose
    // default is 2 GB = 1908 MiB.
    let default_mb = mem["Default"].as_u64().expect("numeric default");
    assert!(
        default_mb >= 2_000_000_000u64.div_ceil(1 << 20),
        "default memory {default_mb} MB < the default allowed_mem"
    );
    assert_eq!(
        (mem["MinValue"].as_u64(), mem["MaxValue"].as_u64()),
        (Some(128), Some(10240))
    );
    let timeout = &params["TimeoutSeconds"];
    assert_eq!(timeout["Default"], 300);
    assert!(
        timeout["MaxValue"].as_u64().is_some_and(|m| m <= 900),
        "a synchronous Invoke lasts at most 15 minutes"
    );
    assert_eq!(params["Architecture"]["Default"], "arm64");
    assert_eq!(
        params["Architecture"]["AllowedValues"],
        serde_json::json!(["arm64", "x86_64"])
    );

    for output in [
        "BucketName",
        "FunctionName",
        "FunctionArn",
        "WorkDir",
        "DriverCommand",
    ] {
        assert!(t["Outputs"].get(output).is_some(), "output {output}");
    }
}

#[test]
fn deploy_script_parses_and_helps_without_side_effects() {
    let root = repo_root();
    run(Command::new("bash")
        .arg("-n")
        .arg(DEPLOY)
        .current_dir(&root));
    let help = run(Command::new(root.join(DEPLOY))
        .arg("--help")
        .current_dir(&root));
    for word in ["build", "deploy", "teardown", "--empty-bucket", "--role"] {
        assert!(help.contains(word), "--help mentions {word}:\n{help}");
    }
    // No arguments: only the help, success.
    let bare = run(Command::new(root.join(DEPLOY)).current_dir(&root));
    assert!(bare.contains("usage:"), "{bare}");
    // Destructive commands need a confirmation; without a terminal and --yes
    // (or without any AWS tool at all) teardown refuses before doing anything.
    let stderr = run_failing(
        Command::new(root.join(DEPLOY))
            .arg("teardown")
            .stdin(Stdio::null())
            .current_dir(&root),
    );
    assert!(
        stderr.contains("without --yes") || stderr.contains("is needed"),
        "{stderr}"
    );
    let stderr = run_failing(
        Command::new(root.join(DEPLOY))
            .args(["deploy", "--bogus"])
            .current_dir(&root),
    );
    assert!(stderr.contains("unknown option"), "{stderr}");
}

/// A copy of `infra/` (deploy.sh and the template) in a temporary repository
/// with a stand-in `bootstrap.zip`, run with a fake `sam` first on `PATH`
/// that records its arguments and succeeds.
struct FakeDeploy {
    dir: cubed_e2e::TempDir,
}

impl FakeDeploy {
    fn new() -> FakeDeploy {
        let dir = temp_dir("deploy");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("infra")).unwrap();
        for file in [DEPLOY, TEMPLATE] {
            std::fs::copy(repo_root().join(file), repo.join(file)).unwrap();
        }
        let zip = repo.join("target/lambda/cubed-task");
        std::fs::create_dir_all(&zip).unwrap();
        std::fs::write(zip.join("bootstrap.zip"), b"").unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("sam"), "#!/usr/bin/env bash\nprintf '%s\\0' \"$@\" >\"$FAKE_SAM_ARGV\"\n").unwrap();
        run(Command::new("chmod").arg("755").arg(bin.join("sam")));
        FakeDeploy { dir }
    }

    /// `infra/deploy.sh deploy ARGS` of the copy.
    fn deploy(&self, args: &[&str]) -> Command {
        let path = format!("{}:{}", self.dir.path().join("bin").display(), std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new("bash");
        cmd.arg(self.dir.path().join("repo").join(DEPLOY))
            .arg("deploy")
            .args(args)
            .env("PATH", path)
            .env("FAKE_SAM_ARGV", self.dir.path().join("sam-argv"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_METADATA_ENDPOINT", "http://127.0.0.1:1")
            .stdin(Stdio::null());
        cmd
    }

    /// The arguments the fake `sam` received, if it ran.
    fn sam_argv(&self) -> Option<Vec<String>> {
        let bytes = std::fs::read(self.dir.path().join("sam-argv")).ok()?;
        let text = String::from_utf8(bytes).unwrap();
        Some(text.trim_end_matches('\0').split('\0').map(String::from).collect())
    }
}

#[test]
fn deploy_script_refuses_malformed_values_before_running_anything() {
    let fake = FakeDeploy::new();
    let cases = [
        (["--work-prefix", "tmp/ BucketName=other"], "--work-prefix 'tmp/ BucketName=other' is not valid: it must be one or more path segments"),
        (["--output-prefix", "out/ WorkPrefix=x/"], "--output-prefix 'out/ WorkPrefix=x/' is not valid: it must be one or more path segments"),
        (["--work-prefix", "tmp"], "--work-prefix 'tmp' is not valid"),
        (["--bucket", "b FunctionName=x"], "--bucket 'b FunctionName=x' is not valid: it must be 3 to 63 of [a-z0-9.-]"),
        (["--function", "f\"x"], "--function 'f\"x' is not valid"),
        (["--memory", "2048 TimeoutSeconds=1"], "--memory '2048 TimeoutSeconds=1' is not valid: it must be a whole number from 128 to 10240"),
        (["--timeout", "901"], "--timeout '901' is not valid"),
        (["--input-buckets", "era5,b WorkPrefix=x/"], "--input-buckets 'b WorkPrefix=x/' is not valid"),
        (["--input-buckets", "era5,,b"], "has an empty entry"),
        (["--stack", "s --capabilities"], "--stack 's --capabilities' is not valid"),
        (["--region", "eu-west-1 x"], "--region 'eu-west-1 x' is not valid"),
    ];
    for (args, expected) in cases {
        let stderr = run_failing(&mut fake.deploy(&["--method", "sam", args[0], args[1]]));
        assert!(stderr.contains(expected), "{args:?}: expected '{expected}' in\n{stderr}");
        assert_eq!(fake.sam_argv(), None, "{args:?}: sam must not run");
    }
}

#[test]
fn deploy_script_passes_each_override_as_one_argument() {
    let fake = FakeDeploy::new();
    run(&mut fake.deploy(&[
        "--method", "sam", "--work-prefix", "tmp/cubed/", "--output-prefix", "results/era5/", "--bucket", "my-bucket", "--memory", "4096",
        "--input-buckets", "era5-public,arn:aws:s3:::other", "--region", "eu-west-1",
    ]));
    let argv = fake.sam_argv().expect("sam ran");
    let at = argv.iter().position(|a| a == "--parameter-overrides").expect("--parameter-overrides");
    let overrides: Vec<&str> = argv[at + 1..].iter().take_while(|a| !a.starts_with("--")).map(String::as_str).collect();
    assert_eq!(
        overrides,
        ["FunctionMemoryMB=4096", "BucketName=my-bucket", "WorkPrefix=tmp/cubed/", "OutputPrefix=results/era5/", "InputBucketArns=arn:aws:s3:::era5-public,arn:aws:s3:::other"],
        "{argv:?}"
    );
    assert_eq!(argv.iter().filter(|a| a.starts_with("WorkPrefix=")).count(), 1, "{argv:?}");
    assert!(overrides.iter().all(|o| !o.contains([' ', '"', '\''])), "sam splits override values at spaces: {overrides:?}");
    assert!(argv.windows(2).any(|w| w == ["--region", "eu-west-1"]) && argv.windows(2).any(|w| w == ["--stack-name", "cubed-rs"]), "{argv:?}");
    // Input buckets in the region's partition.
    run(&mut fake.deploy(&["--input-buckets", "data", "--region", "cn-north-1"]));
    let argv = fake.sam_argv().expect("sam ran");
    assert!(argv.contains(&"InputBucketArns=arn:aws-cn:s3:::data".to_string()), "{argv:?}");
}
