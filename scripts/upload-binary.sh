#!/usr/bin/env bash
# Uploads this checkout's linux-x64 build to s3://<project>-models/bin/synkti, with its SHA-256
# and version. Builds dist/synkti first when it is missing. Every argument goes to
#   dist/synkti upload binary --project-name <project> ...
# so --region, --output json, --concurrency work as documented there.
#
#   scripts/upload-binary.sh --project-name my-app [--region eu-west-1] [--output json]
#
# The build needs a linux-x64 host (CI or a Linux box); on another host this script stops with
# that remedy. (The upload itself reads the build's version from its bytes, on any host.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary="$root/dist/synkti"

project=""
file_given=false
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --project-name | -p) project="${args[i + 1]:-}" ;;
    --project-name=*) project="${args[i]#*=}" ;;
    --file | -f | --file=*) file_given=true ;;
  esac
done
if [[ -z "$project" ]]; then
  echo "usage: scripts/upload-binary.sh --project-name <project> [--region <region>] [--output json]" >&2
  exit 2
fi

if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "upload-binary: dist/synkti is a linux-x64 build; this host is $(uname -s)-$(uname -m)." >&2
  echo "Run it on linux-x64 (e.g. in CI), or upload an existing linux-x64 build:" >&2
  echo "Run: synkti upload binary --project-name $project --file <linux-x64-build>" >&2
  exit 1
fi

if [[ ! -x "$binary" ]]; then
  echo "upload-binary: $binary is missing; building it (npm run build)" >&2
  (cd "$root" && npm run --silent build)
fi

# The flags are passed through untouched (--project-name is among them). Without --file, upload
# this checkout's build, whatever the current directory.
if [[ "$file_given" == true ]]; then
  exec "$binary" upload binary "$@"
fi
exec "$binary" upload binary --file "$binary" "$@"
