#!/usr/bin/env bash
# Builds, deploys and tears down the cubed-rs task function on AWS.
# Run `infra/deploy.sh --help` for the commands; infra/README.md walks through
# a whole session. Without arguments it only prints the help.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPLATE="$REPO/infra/template.yaml"
# Fixed so that the template's CodeUri (../target/lambda/cubed-task/bootstrap.zip)
# finds the zip even when CARGO_TARGET_DIR points elsewhere.
LAMBDA_DIR="$REPO/target/lambda"
BIN=cubed-task

usage() {
    cat <<'EOF'
usage: infra/deploy.sh COMMAND [OPTIONS]

Commands:
  build      Build the task function (binary cubed-task of functions/) for Lambda:
             target/lambda/cubed-task/bootstrap and bootstrap.zip.
               --arch arm64|x86_64     instruction set (default arm64)
               --compiler C            cargo lambda backend: cargo-zigbuild (its default,
                                       needs zig), cargo (needs a cross toolchain for a
                                       foreign arch) or cross (needs Docker)
  deploy     Deploy. Method sam (the default when `sam` is installed): the whole stack
             of infra/template.yaml (bucket, role, log group, function).
             Method cargo-lambda (the default otherwise): the function only, with an
             existing role (--role); e.g. code-only updates of a sam-deployed stack.
               --method sam|cargo-lambda
               --stack NAME            CloudFormation stack (default cubed-rs)
               --function NAME         function name (default cubed-task)
               --memory MB             function memory, >= the driver's --allowed-mem
                                       (template default 2048)
               --timeout SECONDS       invocation timeout, <= 900 (default 300)
               --arch arm64|x86_64     sam: the Architecture parameter (match the build)
               --bucket NAME           sam: bucket name (default: generated)
               --work-prefix P/        sam: work dir prefix (default work/)
               --output-prefix P/      sam: prefix the function may write outputs under
                                       (default out/; nothing else is writable)
               --work-expiration-days N  sam: expiry of the work dir (default 7)
               --input-buckets B1,B2   sam: other buckets the function may read (names
                                       or ARNs; read-only; default none)
               --log-retention-days N  log retention (default 14)
               --role ARN              cargo-lambda: execution role (required; the
                                       stack's TaskRoleArn output, for instance)
               --region R, --profile P AWS region / profile (default: environment)
             With sam, options not given keep the stack's current values.
             Values are checked before anything runs: names and prefixes of
             [A-Za-z0-9_.-] as each option says, numbers as numbers.
  teardown   Delete what deploy created. Asks for confirmation unless --yes.
               --method sam            delete the stack (default). Fails while the
                                       bucket holds objects: add --empty-bucket.
               --method cargo-lambda   delete the function only (aws lambda delete-function)
               --stack NAME, --function NAME, --region R, --profile P
               --empty-bucket          first delete EVERY object in the stack's bucket
               --yes                   do not ask

Examples:
  infra/deploy.sh build
  infra/deploy.sh deploy --stack cubed-rs --region eu-west-1
  infra/deploy.sh teardown --stack cubed-rs --region eu-west-1 --empty-bucket
EOF
}

log() { echo "[deploy] $*" >&2; }
die() { log "error: $*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# cargo lambda: the cargo subcommand if installed, else the venv's binary (from
# scripts/python-env.sh). The venv goes first on PATH so that cargo lambda finds
# a `pip install ziglang` made there.
cargo_lambda() {
    if [[ -x "$REPO/.venv/bin/cargo-lambda" ]]; then
        PATH="$REPO/.venv/bin:$PATH" "$REPO/.venv/bin/cargo-lambda" lambda "$@"
    elif have cargo-lambda; then
        cargo lambda "$@"
    else
        die "cargo lambda not found: run scripts/python-env.sh (or install cargo-lambda)"
    fi
}

have_zig() {
    have zig || PATH="$REPO/.venv/bin:$PATH" python3 -c 'import ziglang' 2>/dev/null
}

# Options shared by the commands (unset = not given).
method="" stack=cubed-rs function="" memory="" timeout="" arch="" bucket="" work_prefix=""
output_prefix="" work_days="" log_days="" role="" region="" profile="" compiler="" input_buckets="" empty_bucket=0 yes=0

parse_options() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --method) method="${2:?--method needs a value}"; shift 2 ;;
            --stack) stack="${2:?--stack needs a value}"; shift 2 ;;
            --function) function="${2:?--function needs a value}"; shift 2 ;;
            --memory) memory="${2:?--memory needs a value}"; shift 2 ;;
            --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
            --arch) arch="${2:?--arch needs a value}"; shift 2 ;;
            --bucket) bucket="${2:?--bucket needs a value}"; shift 2 ;;
            --work-prefix) work_prefix="${2:?--work-prefix needs a value}"; shift 2 ;;
            --output-prefix) output_prefix="${2:?--output-prefix needs a value}"; shift 2 ;;
            --work-expiration-days) work_days="${2:?--work-expiration-days needs a value}"; shift 2 ;;
            --input-buckets) input_buckets="${2:?--input-buckets needs a value}"; shift 2 ;;
            --log-retention-days) log_days="${2:?--log-retention-days needs a value}"; shift 2 ;;
            --role) role="${2:?--role needs a value}"; shift 2 ;;
            --region) region="${2:?--region needs a value}"; shift 2 ;;
            --profile) profile="${2:?--profile needs a value}"; shift 2 ;;
            --compiler) compiler="${2:?--compiler needs a value}"; shift 2 ;;
            --empty-bucket) empty_bucket=1; shift ;;
            --yes) yes=1; shift ;;
            -h | --help) usage; exit 0 ;;
            *) usage >&2; die "unknown option '$1'" ;;
        esac
    done
    case "$arch" in "" | arm64 | x86_64) ;; *) die "--arch must be arm64 or x86_64" ;; esac
    case "$method" in "" | sam | cargo-lambda) ;; *) die "--method must be sam or cargo-lambda" ;; esac
    check_values
}

# check OPTION VALUE REGEX WHAT: dies unless VALUE (when given) matches REGEX.
check() {
    [[ -z "$2" || "$2" =~ $3 ]] || die "$1 '$2' is not valid: it must be $4"
}

# check_range OPTION VALUE MIN MAX: dies unless VALUE (when given) is an integer in [MIN, MAX].
check_range() {
    [[ -z "$2" ]] && return 0
    [[ "$2" =~ ^[0-9]{1,9}$ ]] && ((10#$2 >= $3 && 10#$2 <= $4)) || die "$1 '$2' is not valid: it must be a whole number from $3 to $4"
}

# Every value that reaches a command line or a template parameter has a known
# format; checking it here also keeps spaces and quotes out of sam's
# --parameter-overrides, which splits its values at spaces.
BUCKET_RE='^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'
check_values() {
    check --stack "$stack" '^[A-Za-z][A-Za-z0-9-]{0,127}$' "a letter then up to 127 of [A-Za-z0-9-] (a CloudFormation stack name)"
    check --function "$function" '^[A-Za-z0-9_-]{1,64}$' "1 to 64 of [A-Za-z0-9_-] (a Lambda function name)"
    check_range --memory "$memory" 128 10240
    check_range --timeout "$timeout" 1 900
    check --bucket "$bucket" "$BUCKET_RE" "3 to 63 of [a-z0-9.-], starting and ending with a letter or digit (an S3 bucket name)"
    check --work-prefix "$work_prefix" '^([A-Za-z0-9_.-]+/)+$' "one or more path segments of [A-Za-z0-9_.-], each ending in '/' (e.g. work/ or tmp/cubed/)"
    check --output-prefix "$output_prefix" '^([A-Za-z0-9_.-]+/)+$' "one or more path segments of [A-Za-z0-9_.-], each ending in '/' (e.g. out/ or results/era5/)"
    check_range --work-expiration-days "$work_days" 1 3650
    check_range --log-retention-days "$log_days" 1 3653
    check --region "$region" '^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$' "an AWS region such as eu-west-1"
    check --profile "$profile" '^[A-Za-z0-9_.@+=,-]{1,64}$' "a profile name of [A-Za-z0-9_.@+=,-]"
    check --role "$role" '^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$' "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
    local b
    if [[ -n "$input_buckets" ]]; then
        IFS=, read -r -a input_list <<<"$input_buckets"
        for b in "${input_list[@]}"; do
            b="${b#arn:aws:s3:::}"
            b="${b#arn:aws-cn:s3:::}"
            b="${b#arn:aws-us-gov:s3:::}"
            check --input-buckets "$b" "$BUCKET_RE" "a comma-separated list of S3 bucket names (or arn:aws:s3:::NAME ARNs)"
            [[ -n "$b" ]] || die "--input-buckets '$input_buckets' has an empty entry: list bucket names separated by single commas"
        done
    fi
}

# The ARNs of --input-buckets, comma-separated, in the partition of --region.
input_bucket_arns() {
    local partition=aws b arns=()
    case "$region" in cn-*) partition=aws-cn ;; us-gov-*) partition=aws-us-gov ;; esac
    for b in "${input_list[@]}"; do
        [[ "$b" == arn:* ]] || b="arn:$partition:s3:::$b"
        arns+=("$b")
    done
    local IFS=,
    echo "${arns[*]}"
}

# Region/profile options, the same for aws, sam and cargo lambda. Arrays are
# expanded as ${a[@]+"${a[@]}"}: safe under set -u with an empty array, also in
# the bash 3.2 of macOS.
opts=()
set_aws_opts() {
    [[ -z "$region" ]] || opts+=(--region "$region")
    [[ -z "$profile" ]] || opts+=(--profile "$profile")
}

cmd_build() {
    local target="${arch:-arm64}" flag host
    [[ "$target" == arm64 ]] && flag=--arm64 || flag=--x86-64
    host="$(uname -s)-$(uname -m)"
    case "$host" in Linux-aarch64 | Linux-arm64) host=arm64 ;; Linux-x86_64) host=x86_64 ;; esac
    # cargo lambda's default backend (cargo-zigbuild) needs zig even for a native
    # build; it also links against an old glibc, which Lambda's AL2023 (2.34) has.
    if [[ -z "$compiler" ]] && ! have_zig; then
        local triple
        [[ "$target" == arm64 ]] && triple=aarch64-unknown-linux-gnu || triple=x86_64-unknown-linux-gnu
        local native="  or:     infra/deploy.sh build --arch $target --compiler cargo   (native build: check that the
          binary needs glibc <= 2.34, see infra/README.md)"
        [[ "$host" == "$target" ]] || native="  or:     rustup target add $triple, a cross linker (infra/README.md), then
          infra/deploy.sh build --arch $target --compiler cargo"
        die "building for Lambda ($target) with cargo lambda's default backend needs zig, which the
  venv's cargo-lambda lacks (installed --no-deps).
  Either: $REPO/.venv/bin/pip install ziglang   (then rerun; ~100 MB)
$native
  or:     infra/deploy.sh build --arch $target --compiler cross   (Docker)"
    fi
    local args=(build --release "$flag" --bin "$BIN" --lambda-dir "$LAMBDA_DIR")
    [[ -z "$compiler" ]] || args+=(--compiler "$compiler")
    cd "$REPO"
    log "cargo lambda ${args[*]}"
    cargo_lambda "${args[@]}"
    # The zip for sam (same build, repackaged); the bare binary stays for cargo lambda deploy.
    cargo_lambda "${args[@]}" --output-format zip
    log "built $LAMBDA_DIR/$BIN/bootstrap and bootstrap.zip ($target)"
}

cmd_deploy() {
    if [[ -z "$method" ]]; then
        if have sam; then method=sam; else method=cargo-lambda; fi
    fi
    cd "$REPO"
    if [[ "$method" == sam ]]; then
        have sam || die "sam (AWS SAM CLI) is not installed: install it, or use --method cargo-lambda --role ARN"
        [[ -f "$LAMBDA_DIR/$BIN/bootstrap.zip" ]] || die "no $LAMBDA_DIR/$BIN/bootstrap.zip: run infra/deploy.sh build first"
        local overrides=()
        [[ -z "$function" ]] || overrides+=("FunctionName=$function")
        [[ -z "$memory" ]] || overrides+=("FunctionMemoryMB=$memory")
        [[ -z "$timeout" ]] || overrides+=("TimeoutSeconds=$timeout")
        [[ -z "$arch" ]] || overrides+=("Architecture=$arch")
        [[ -z "$bucket" ]] || overrides+=("BucketName=$bucket")
        [[ -z "$work_prefix" ]] || overrides+=("WorkPrefix=$work_prefix")
        [[ -z "$output_prefix" ]] || overrides+=("OutputPrefix=$output_prefix")
        [[ -z "$work_days" ]] || overrides+=("WorkExpirationDays=$work_days")
        [[ -z "$log_days" ]] || overrides+=("LogRetentionDays=$log_days")
        [[ -z "$input_buckets" ]] || overrides+=("InputBucketArns=$(input_bucket_arns)")
        local args=(deploy --template-file "$TEMPLATE" --stack-name "$stack" --resolve-s3
            --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset ${opts[@]+"${opts[@]}"})
        # One argument per Key=Value (sam collects them up to the next option);
        # check_values has kept spaces and quotes out of every value.
        [[ ${#overrides[@]} -eq 0 ]] || args+=(--parameter-overrides "${overrides[@]}")
        log "sam ${args[*]}"
        sam "${args[@]}"
        log "deployed stack $stack; its Outputs (above) give BucketName, FunctionName, WorkDir and a driver command"
    else
        [[ -n "$role" ]] || die "--method cargo-lambda deploys the function only and needs --role ARN (an execution role with the permissions of TaskRole in infra/template.yaml, e.g. the TaskRoleArn output of a sam-deployed stack); or install sam to deploy the whole stack"
        [[ -f "$LAMBDA_DIR/$BIN/bootstrap" ]] || die "no $LAMBDA_DIR/$BIN/bootstrap: run infra/deploy.sh build first"
        [[ -z "$bucket$work_prefix$output_prefix$work_days$input_buckets" ]] || log "warning: --bucket/--work-prefix/--output-prefix/--work-expiration-days/--input-buckets apply to the sam stack only; ignored"
        local args=(deploy "${function:-cubed-task}" --binary-name "$BIN" --lambda-dir "$LAMBDA_DIR"
            --memory "${memory:-2048}" --timeout "${timeout:-300}" --iam-role "$role"
            --log-retention "${log_days:-14}" ${opts[@]+"${opts[@]}"})
        log "cargo lambda ${args[*]}"
        cargo_lambda "${args[@]}"
    fi
}

# confirm WHAT: asks to type "yes" unless --yes.
confirm() {
    [[ $yes -eq 1 ]] && return 0
    [[ -t 0 ]] || die "refusing to $1 without --yes (stdin is not a terminal)"
    local answer
    read -r -p "[deploy] $1? type 'yes' to go on: " answer
    [[ "$answer" == yes ]] || die "cancelled"
}

cmd_teardown() {
    if [[ "$method" == cargo-lambda ]]; then
        have aws || die "the AWS CLI (aws) is needed to delete the function"
        local fn="${function:-cubed-task}"
        confirm "delete the Lambda function '$fn'"
        aws lambda delete-function --function-name "$fn" ${opts[@]+"${opts[@]}"}
        log "deleted function $fn (its log group /aws/lambda/$fn stays, with its retention)"
        return
    fi
    have sam || have aws || die "sam or the AWS CLI (aws) is needed to delete the stack"
    if [[ $empty_bucket -eq 1 ]]; then
        have aws || die "--empty-bucket needs the AWS CLI (aws)"
        local b
        b="$(aws cloudformation describe-stacks --stack-name "$stack" ${opts[@]+"${opts[@]}"} \
            --query "Stacks[0].Outputs[?OutputKey=='BucketName'].OutputValue" --output text)"
        [[ -n "$b" && "$b" != None ]] || die "stack $stack has no BucketName output"
        confirm "delete EVERY object in s3://$b, then the stack '$stack'"
        log "emptying s3://$b"
        aws s3 rm "s3://$b" --recursive --only-show-errors ${opts[@]+"${opts[@]}"}
    else
        log "warning: CloudFormation cannot delete a bucket that still holds objects; if the"
        log "  stack's bucket is not empty, deletion fails (DELETE_FAILED) and leaves it: rerun"
        log "  with --empty-bucket, or empty it yourself (aws s3 rm s3://BUCKET --recursive)"
        confirm "delete the stack '$stack' (function, role, log group, bucket)"
    fi
    if have sam; then
        sam delete --stack-name "$stack" --no-prompts ${opts[@]+"${opts[@]}"}
    else
        aws cloudformation delete-stack --stack-name "$stack" ${opts[@]+"${opts[@]}"}
        log "waiting for the stack to be deleted"
        aws cloudformation wait stack-delete-complete --stack-name "$stack" ${opts[@]+"${opts[@]}"}
    fi
    log "deleted stack $stack"
}

main() {
    [[ $# -gt 0 ]] || { usage; exit 0; }
    local command="$1"
    shift
    case "$command" in
        -h | --help | help) usage; exit 0 ;;
        build | deploy | teardown) ;;
        *) usage >&2; die "unknown command '$command'" ;;
    esac
    parse_options "$@"
    set_aws_opts
    "cmd_$command"
}

main "$@"
