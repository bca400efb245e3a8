#!/bin/bash
# synkti worker boot (EC2 user-data), rendered by the deployer from scripts/user-data.sh.tpl.
# Nothing here is secret: credentials come from the instance profile, never from user-data.
# The local cloud runs this same script with SYNKTI_INSTALL_PREFIX / SYNKTI_MODELS_DIR in a temp
# folder and AWS_ENDPOINT_URL / AWS_EC2_METADATA_SERVICE_ENDPOINT on loopback (inherited as set).
set -euo pipefail
umask 022

PROJECT='{{project}}'
MODEL='{{model}}'
BUCKET='{{bucket}}'
BINARY_KEY='{{binaryKey}}'
BINARY_SHA256='{{binarySha256}}'
BUCKET_OWNER='{{bucketOwner}}'
export AWS_REGION='{{region}}' AWS_DEFAULT_REGION='{{region}}'
INSTALL_PREFIX="${SYNKTI_INSTALL_PREFIX:-/usr/local/bin}"
MODELS_DIR="${SYNKTI_MODELS_DIR:-/models}"
MODEL_DIR="$MODELS_DIR/$MODEL"

log() { echo "synkti-boot: $*" >&2; }
# A worker that cannot boot only costs money (a GPU, idle): after saying why, it terminates itself
# with its instance role (allowed on the project's instances), best effort.
terminate_self() {
  local imds token id
  imds="${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}"
  imds="${imds%/}"
  token="$(curl -sf -m 2 -X PUT "$imds/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')" || return 1
  id="$(curl -sf -m 2 -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/instance-id")" || return 1
  log "terminating $id: it cannot serve"
  aws ec2 terminate-instances --instance-ids "$id" >/dev/null
}
die() {
  log "FATAL: $*"
  terminate_self || log "could not terminate this instance; it stays up idle until: synkti down --project-name $PROJECT"
  exit 1
}
# S3 through the aws CLI; it retries throttling itself, this covers a network that is still coming up.
# Usage: retry ATTEMPTS command...
retry() {
  local attempts=$1 n
  shift
  for ((n = 1; n <= attempts; n++)); do
    "$@" && return 0
    log "attempt $n of $attempts failed: $*"
    ((n == attempts)) || sleep $((n * 2))
  done
  return 1
}
command -v aws >/dev/null || die "the aws CLI is missing (it ships with the Deep Learning AMIs)"

# 1. The binary: refuse to run anything whose SHA-256 is not the one the deployer launched with.
mkdir -p "$INSTALL_PREFIX"
tmp="$(mktemp "$INSTALL_PREFIX/.synkti.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
log "downloading s3://$BUCKET/$BINARY_KEY"
retry 5 aws s3 cp --only-show-errors "s3://$BUCKET/$BINARY_KEY" "$tmp" || die "could not download s3://$BUCKET/$BINARY_KEY"
actual="$(sha256sum "$tmp" | cut -d' ' -f1)"
[ "$actual" = "$BINARY_SHA256" ] ||
  die "binary SHA-256 mismatch: expected $BINARY_SHA256, got $actual; refusing to run it (re-upload: synkti upload binary --project-name $PROJECT, then launch again)"
chmod 0755 "$tmp"
mv -f "$tmp" "$INSTALL_PREFIX/synkti"
log "binary verified ($BINARY_SHA256)"

# 2. The weights, from the deployer's own bucket only: names are global, and unlike the binary the
# weights are checked against a manifest from the same bucket, so a bucket of the same name in
# another account (taken first, or re-taken after a delete) must be refused. The network is up by now.
retry 2 aws s3api head-bucket --bucket "$BUCKET" --expected-bucket-owner "$BUCKET_OWNER" >/dev/null ||
  die "s3://$BUCKET is not a bucket of account $BUCKET_OWNER (or is unreachable); refusing its weights (check: synkti infra status --project-name $PROJECT)"
# The manifest first: it says which files are the model, and only those are fetched. Objects an
# older upload left behind, or another model under the same prefix (org vs org/name), never reach
# the folder the model server reads, and the disk sized from the manifest is enough.
command -v python3 >/dev/null || die "python3 is missing (it ships with the Deep Learning AMIs); it reads the manifest"
mkdir -p "$MODEL_DIR"
retry 2 aws s3 cp --only-show-errors "s3://$BUCKET/$MODEL/manifest.json" "$MODEL_DIR/manifest.json" ||
  die "s3://$BUCKET/$MODEL/manifest.json is missing: the upload never completed (synkti upload model --project-name $PROJECT --model $MODEL --from <weights-dir>)"
python3 - "$MODEL_DIR/manifest.json" >"$MODEL_DIR/.sha256sums" <<'PY' || die "manifest.json is not a synkti manifest"
import json, sys
for f in json.load(open(sys.argv[1]))["files"]:
    print(f"{f['sha256']}  {f['path']}")
PY
includes=()
while IFS= read -r line; do includes+=(--include "${line#*  }"); done <"$MODEL_DIR/.sha256sums"
log "syncing the $(wc -l <"$MODEL_DIR/.sha256sums") files manifest.json lists from s3://$BUCKET/$MODEL/ to $MODEL_DIR"
retry 5 aws s3 sync --only-show-errors --exclude '*' "${includes[@]}" "s3://$BUCKET/$MODEL/" "$MODEL_DIR/" ||
  die "could not sync s3://$BUCKET/$MODEL/"
(cd "$MODEL_DIR" && sha256sum --check --quiet --strict .sha256sums) ||
  die "weights of $MODEL do not match manifest.json; refusing to serve them"
log "weights verified ($(wc -l <"$MODEL_DIR/.sha256sums") files)"

# 3. The worker: same role, same model, whatever instance this is (fungible compute). Its own
# preflight re-checks the running binary against the same SHA-256.
export SYNKTI_MODELS_DIR="$MODELS_DIR" SYNKTI_EXPECTED_SHA256="$BINARY_SHA256"
trap - EXIT
# User-data runs once and nothing else restarts the agent, so this loop keeps it. By exit code:
#   0, 130, 143  stopped on purpose (SIGTERM, Ctrl-C, shutdown): done.
#   1, 2, 3      an answer a restart would only repeat (UNSAFE preflight, a usage error, still
#                unobservable after the agent's own boot patience, gave up on the model server):
#                the instance terminates itself. The decision is the boot's: an agent an operator
#                starts by hand on the instance never terminates it for a refused preflight.
#   anything else  a crash (4: a bug; 137: killed, e.g. out of memory): restarted after 1, 2, 4 s.
#                A 4th crash in a row (runs shorter than 10 minutes) terminates the instance.
crashes=0
while :; do
  started=$SECONDS
  status=0
  "$INSTALL_PREFIX/synkti" --project-name "$PROJECT" --model "$MODEL" || status=$?
  case "$status" in
    0 | 130 | 143) log "the worker agent stopped (exit $status)"; exit 0 ;;
    1 | 2 | 3) die "the worker agent will not serve (exit $status); its report is above" ;;
  esac
  if ((SECONDS - started >= 600)); then crashes=0; fi
  crashes=$((crashes + 1))
  [ "$crashes" -le 3 ] || die "the worker agent crashed $crashes times in a row (last exit $status)"
  log "the worker agent crashed (exit $status); restarting it in $((2 ** (crashes - 1))) s ($crashes of 3 restarts)"
  sleep $((2 ** (crashes - 1)))
done
