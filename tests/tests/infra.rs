//! Checks of the AWS deployment in `infra/` that need no AWS account: the
//! template passes cfn-lint, its structure keeps the promises of
//! infra/README.md (least-privilege role, private encrypted bucket, expiring
//! work dir, the function the driver expects), and `infra/deploy.sh` parses
//! and answers `--help` without touching anything.
//!
//! Needs the test venv (`scripts/python-env.sh`: cfn-lint); nothing else.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use cubed_e2e::{repo_root, run, run_failing, run_python};
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

    let object_actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"];
    let mut granted = Vec::new();
    for policy in props["Policies"].as_array().expect("inline Policies") {
        for st in policy["PolicyDocument"]["Statement"]
            .as_array()
            .expect("Statement list")
        {
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
                granted.push(action.to_string());
                if action.to_ascii_lowercase().starts_with("s3:") {
                    let objects = object_actions.contains(action);
                    assert!(
                        objects || *action == "s3:ListBucket",
                        "S3 action {action} is not needed by the task function"
                    );
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
