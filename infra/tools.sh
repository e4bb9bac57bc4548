#!/usr/bin/env bash
# Installs the npm CLIs the infra checks use into <repo>/.tools (git-ignored),
# only when missing: the AWS CDK CLI (cdk synth; the CLI is versioned apart
# from aws-cdk-lib and reads every older cloud-assembly schema),
# asl-validator (the run state machine), and the two OpenAPI linters the
# API document must pass (shared/api TestOpenAPILint).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
want=(aws-cdk@2.1148.1 asl-validator@4.0.0 @redocly/cli@2.77.0 @stoplight/spectral-cli@6.16.3)

missing=()
for pkg in "${want[@]}"; do
  name="${pkg%@*}" version="${pkg##*@}"
  manifest="$tools/node_modules/$name/package.json"
  if ! { [ -f "$manifest" ] && node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' "$manifest" "$version"; }; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"name":"batchplane-tools","private":true}' >"$tools/package.json"
  echo "tools.sh: installing ${missing[*]} into $tools"
  npm install --no-audit --no-fund --loglevel=error --save-exact --prefix "$tools" "${missing[@]}"
fi

# oapi-codegen and the generated client's runtime, pinned by their own
# module (kept out of the service's go.mod and of every Lambda).
(cd "$root/shared/api/testdata/openapiclient" && go mod download)
