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
# The binary's key and the manifest's (<model>/manifest-<sha256>.json, which the agent fetches)
# are named by the hashes the deployer launched with and never overwritten: a replacement launched
# from this same user-data after any re-upload gets the very same bits.
BINARY_KEY='{{binaryKey}}'
BINARY_SHA256='{{binarySha256}}'
MANIFEST_SHA256='{{manifestSha256}}'
BUCKET_OWNER='{{bucketOwner}}'
# The weights' total size (0: unknown): an instance store smaller than this is left alone.
WEIGHTS_BYTES='{{weightsBytes}}'
LOGS_PREFIX='{{logsPrefix}}'
STATE_TAG='{{stateTag}}'
export AWS_REGION='{{region}}' AWS_DEFAULT_REGION='{{region}}'
INSTALL_PREFIX="${SYNKTI_INSTALL_PREFIX:-/usr/local/bin}"
MODELS_DIR="${SYNKTI_MODELS_DIR:-/models}"

# Everything this script and the agent print also goes to the boot log: its last 64 KiB is what a
# failure leaves in S3, and the agent refreshes it there on every state change. The local cloud
# (which sets the install prefix) keeps it next to its prefix; SYNKTI_BOOT_LOG names it outright.
if [ -n "${SYNKTI_BOOT_LOG:-}" ]; then BOOT_LOG="$SYNKTI_BOOT_LOG"
elif [ -n "${SYNKTI_INSTALL_PREFIX:-}" ]; then BOOT_LOG="$(dirname "$SYNKTI_INSTALL_PREFIX")/synkti-boot.log"
else BOOT_LOG=/var/log/synkti-boot.log; fi
{ mkdir -p "$(dirname "$BOOT_LOG")" && touch "$BOOT_LOG"; } 2>/dev/null || BOOT_LOG="$(mktemp "${TMPDIR:-/tmp}/synkti-boot-log.XXXXXX")"
chmod 0640 "$BOOT_LOG" || true
# The tees ignore SIGTERM (an OS shutdown signals every process at once): they end when the agent
# and this script close the pipe, so the agent's last lines (its drain) are kept and its writes
# never meet a closed pipe mid-shutdown.
exec > >(trap '' TERM INT HUP; exec tee -a "$BOOT_LOG") 2> >(trap '' TERM INT HUP; exec tee -a "$BOOT_LOG" >&2)
export SYNKTI_BOOT_LOG="$BOOT_LOG"

log() { echo "synkti-boot: $*" >&2; }
INSTANCE_ID=''
# Sets INSTANCE_ID from the metadata service (IMDSv2), once.
instance_id() {
  [ -z "$INSTANCE_ID" ] || return 0
  local imds token
  imds="${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}"
  imds="${imds%/}"
  token="$(curl -sf -m 2 -X PUT "$imds/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 60')" || return 1
  INSTANCE_ID="$(curl -sf -m 2 -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/instance-id")" || return 1
  [[ $INSTANCE_ID =~ ^i-([0-9a-f]{8}|[0-9a-f]{17})$ ]] || { INSTANCE_ID=''; return 1; }
}
json_string() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$(printf '%s' "$s" | tr '\n\t\r' '   ' | tr -d '\000-\037')"
}
# Values that look like secrets never leave the instance (a model server may print its arguments):
# the same two rules as redactSecrets() in src/worker/trace/boot-log.ts.
redact() {
  sed -E 's/(--[a-zA-Z-]*(api-key|token|secret|password)[a-zA-Z-]*)([ =]+)[^ ]+/\1\3<redacted>/Ig; s/((api[_-]?key|secret[a-zA-Z_-]*|password|token)(\\?["'\''])?[[:blank:]]*[:=][[:blank:]]*\[?(\\?["'\''])?)[^][:space:]"'\''\\,}]+/\1<redacted>/Ig'
}
# To the project's own bucket only (never a same-named one of another account).
put_object() { aws s3api put-object --bucket "$BUCKET" --key "$1" --body "$2" --content-type "$3" --expected-bucket-owner "$BUCKET_OWNER" >/dev/null; }
# A worker that ends itself leaves why in its bucket, $LOGS_PREFIX<id>.json ({"instanceId",
# "at","exitCode","reason"}, no secrets) and .log (the boot log's last 64 KiB), and says
# $STATE_TAG=failed on itself; best effort each. An agent that ended itself wrote its own record,
# which says more than the exit code seen here: it is kept.
leave_trace() {
  local code=$1 reason=$2 key dir
  command -v aws >/dev/null && instance_id || { log "no failure record left (no aws CLI or no instance id)"; return 0; }
  key="$LOGS_PREFIX$INSTANCE_ID"
  dir="$(mktemp -d)"
  if [ -n "$AGENT_RAN" ] && aws s3api head-object --bucket "$BUCKET" --key "$key.json" --expected-bucket-owner "$BUCKET_OWNER" >/dev/null 2>&1; then
    log "the agent left its own failure record: kept"
  else
    printf '{"instanceId":"%s","at":"%s","exitCode":%d,"reason":%s}\n' "$INSTANCE_ID" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$code" "$(json_string "$reason")" >"$dir/record.json"
    put_object "$key.json" "$dir/record.json" application/json || log "could not write s3://$BUCKET/$key.json"
  fi
  # Written after the record, so the lines that said why have reached the file; never mid-line.
  if [ "$(stat -c %s "$BOOT_LOG")" -gt 65536 ]; then tail -c 65536 "$BOOT_LOG" | tail -n +2; else cat "$BOOT_LOG"; fi | redact >"$dir/boot.log"
  put_object "$key.log" "$dir/boot.log" 'text/plain; charset=utf-8' || log "could not write s3://$BUCKET/$key.log"
  aws ec2 create-tags --resources "$INSTANCE_ID" --tags "Key=$STATE_TAG,Value=failed" || log "could not tag $INSTANCE_ID $STATE_TAG=failed"
  rm -rf "$dir"
}
# A worker that cannot boot only costs money (a GPU, idle): after saying why, it terminates itself
# with its instance role (allowed on the project's instances), best effort.
terminate_self() {
  instance_id || return 1
  log "terminating $INSTANCE_ID: it cannot serve"
  aws ec2 terminate-instances --instance-ids "$INSTANCE_ID" >/dev/null
}
AGENT_RAN='' FAIL_CODE=1
die() {
  log "FATAL: $*"
  leave_trace "$FAIL_CODE" "$*" || log "could not leave a failure record"
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
# --- model server user and metadata block ---
# vLLM serves the network and needs no AWS credentials; the agent needs the instance role. Both run
# on the host, where the IMDS hop limit (1) does not separate them, so the model server runs as its
# own user (the agent, as root, starts it as that user when the user exists) and every packet of
# that user to the metadata addresses is rejected: a compromised model server cannot fetch the
# role's credentials. Only as root on a real instance: the local cloud (SYNKTI_INSTALL_PREFIX set)
# runs this script as an ordinary user and leaves the model server as it is.
MODEL_SERVER_USER=synkti-model
isolate_model_server() {
  local home=/var/lib/$MODEL_SERVER_USER
  id -u "$MODEL_SERVER_USER" >/dev/null 2>&1 ||
    useradd --system --home-dir "$home" --create-home --shell /usr/sbin/nologin "$MODEL_SERVER_USER" || return 1
  if command -v iptables >/dev/null; then
    iptables -C OUTPUT -d 169.254.169.254 -m owner --uid-owner "$MODEL_SERVER_USER" -j REJECT 2>/dev/null ||
      iptables -I OUTPUT 1 -d 169.254.169.254 -m owner --uid-owner "$MODEL_SERVER_USER" -j REJECT || return 1
    if command -v ip6tables >/dev/null; then
      ip6tables -C OUTPUT -d fd00:ec2::254 -m owner --uid-owner "$MODEL_SERVER_USER" -j REJECT 2>/dev/null ||
        ip6tables -I OUTPUT 1 -d fd00:ec2::254 -m owner --uid-owner "$MODEL_SERVER_USER" -j REJECT || return 1
    fi
  elif command -v nft >/dev/null; then
    # One batch, applied all or nothing, that replaces the table whole: run again, the rules are the
    # same two (a table left half-made never passes for done).
    nft -f - <<NFT || return 1
table inet synkti
delete table inet synkti
table inet synkti {
  chain out {
    type filter hook output priority 0; policy accept;
    meta skuid $MODEL_SERVER_USER ip daddr 169.254.169.254 reject
    meta skuid $MODEL_SERVER_USER ip6 daddr fd00:ec2::254 reject
  }
}
NFT
  else
    return 1
  fi
}
if [ "$(id -u)" = 0 ] && [ -z "${SYNKTI_INSTALL_PREFIX:-}" ]; then
  isolate_model_server ||
    die "could not keep the model server away from the instance role (user $MODEL_SERVER_USER, a REJECT rule for 169.254.169.254 through iptables or nft); refusing to serve without it"
  log "the model server will run as $MODEL_SERVER_USER, without access to the metadata service"
fi
# --- end of model server user and metadata block ---

# --- after a reboot ---
# User-data runs once per instance. After a reboot (EC2 maintenance, recovery from a kernel panic)
# nothing would start the agent again: the instance would stay "running", holding its slot while
# serving nothing (repair replaces only what EC2 calls gone), and the metadata block above (rules
# in memory) would be gone. cloud-init runs every script in scripts/per-boot/ on each later boot,
# so this script puts a copy of itself there (root only; nothing in it is secret): a reboot then
# runs the whole boot again: the block, the binary check, the disk, the agent, which resumes the
# weights already on disk. On the first boot cloud-init has already passed that folder.
PER_BOOT_DIR="${SYNKTI_PER_BOOT_DIR:-/var/lib/cloud/scripts/per-boot}"
run_again_after_reboot() {
  [ -d "$PER_BOOT_DIR" ] || { log "no cloud-init per-boot folder ($PER_BOOT_DIR): after a reboot nothing restarts the agent"; return 0; }
  [ "$0" -ef "$PER_BOOT_DIR/synkti-worker.sh" ] && return 0 # this is the run after a reboot
  install -m 0700 "$0" "$PER_BOOT_DIR/synkti-worker.sh" || return 1
  log "installed $PER_BOOT_DIR/synkti-worker.sh: a reboot starts the worker again"
}
if [ "$(id -u)" = 0 ] && [ -z "${SYNKTI_INSTALL_PREFIX:-}" ]; then
  run_again_after_reboot || log "could not install $PER_BOOT_DIR/synkti-worker.sh: after a reboot nothing restarts the agent"
fi
# --- end of after a reboot ---

command -v aws >/dev/null || die "the aws CLI is missing (it ships with the Deep Learning AMIs)"

# 1. The binary: refuse to run anything whose SHA-256 is not the one the deployer launched with,
# fetched from the deployer's own bucket only (the expected owner).
mkdir -p "$INSTALL_PREFIX"
tmp="$(mktemp "$INSTALL_PREFIX/.synkti.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
log "downloading s3://$BUCKET/$BINARY_KEY"
retry 5 aws s3api get-object --bucket "$BUCKET" --key "$BINARY_KEY" --expected-bucket-owner "$BUCKET_OWNER" "$tmp" >/dev/null ||
  die "could not download s3://$BUCKET/$BINARY_KEY, the build this worker was launched with, from a bucket of account $BUCKET_OWNER (check: synkti infra status --project-name $PROJECT)"
actual="$(sha256sum "$tmp" | cut -d' ' -f1)"
[ "$actual" = "$BINARY_SHA256" ] ||
  die "binary SHA-256 mismatch: expected $BINARY_SHA256, got $actual; refusing to run it (re-upload: synkti upload binary --project-name $PROJECT, then launch again)"
chmod 0755 "$tmp"
mv -f "$tmp" "$INSTALL_PREFIX/synkti"
log "binary verified ($BINARY_SHA256)"

# 2. A disk as fast as the network for the models folder: the instance's NVMe instance store
# (g4dn, g5, g6, p4d, p5 ...), striped when there are several, formatted and mounted on the models
# folder. Without one, the root gp3 volume was launched with throughput sized for the weights.
# Best effort: on any failure the weights go to the root volume, which is sized for them anyway.
# Never in the local cloud (it sets SYNKTI_MODELS_DIR): the host's disks are not the instance's.
# SYNKTI_SYSFS_ROOT (a fake sysfs, as the agent's DMI check reads) lets a test show the devices.
mount_instance_store() {
  local devices=() dev target
  for dev in "${SYNKTI_SYSFS_ROOT:-/sys}"/block/nvme*n1; do
    [ "$(tr -d ' ' <"$dev/device/model" 2>/dev/null)" = AmazonEC2NVMeInstanceStorage ] && devices+=("/dev/${dev##*/}")
  done
  ((${#devices[@]} > 0)) || { log "no instance-store NVMe: the weights go to the root volume"; return 0; }
  ! mountpoint -q "$MODELS_DIR" || return 0
  target="${devices[0]}"
  local bytes=$(($(cat "${SYNKTI_SYSFS_ROOT:-/sys}/block/${target##*/}/size" 2>/dev/null || echo 0) * 512))
  # After a reboot the kernel has put the array together again: it is used as it is.
  if ((${#devices[@]} > 1)) && command -v mdadm >/dev/null; then
    { [ -e /dev/md/synkti ] || mdadm --create /dev/md/synkti --run --level=0 --raid-devices=${#devices[@]} "${devices[@]}" >/dev/null; } &&
      target=/dev/md/synkti && bytes=$((bytes * ${#devices[@]}))
  fi
  # An instance store smaller than the model (g4dn.xlarge has 125 GB) would fail every fetch with a
  # full disk; the root volume was launched with room for the weights. 5% for the file system.
  if ((${WEIGHTS_BYTES:-0} > 0 && bytes > 0 && bytes * 95 / 100 < ${WEIGHTS_BYTES:-0})); then
    log "instance-store NVMe ($target, $bytes bytes) is smaller than the weights ($WEIGHTS_BYTES bytes): the weights go to the root volume"
    return 0
  fi
  # Formatted once, labelled: after a reboot the weights on it are kept (the agent re-verifies them).
  [ "$(blkid -s LABEL -o value "$target" 2>/dev/null)" = synkti-models ] ||
    mkfs.xfs -f -K -q -L synkti-models "$target" || mkfs.ext4 -F -q -E nodiscard -L synkti-models "$target" || target=''
  [ -n "$target" ] && mkdir -p "$MODELS_DIR" && mount -o noatime "$target" "$MODELS_DIR" ||
    { log "could not mount ${target:-the instance store} on $MODELS_DIR: the weights go to the root volume"; return 0; }
  log "models folder $MODELS_DIR on instance-store NVMe ($target, ${#devices[@]} device(s))"
}
[ -n "${SYNKTI_MODELS_DIR:-}" ] || mount_instance_store

# 3. The worker: same role, same model, whatever instance this is (fungible compute). It fetches
# the weights the pinned manifest lists itself (ranged GETs in parallel, each chunk verified as it
# lands, resumed after a restart) before its preflight re-checks the running binary against the
# same SHA-256; no model server starts before every byte is verified.
export SYNKTI_MODELS_DIR="$MODELS_DIR" SYNKTI_EXPECTED_SHA256="$BINARY_SHA256" SYNKTI_EXPECTED_MANIFEST_SHA256="$MANIFEST_SHA256"
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
  AGENT_RAN=1
  "$INSTALL_PREFIX/synkti" --project-name "$PROJECT" --model "$MODEL" || status=$?
  FAIL_CODE=$status
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
