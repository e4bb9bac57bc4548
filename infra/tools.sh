#!/usr/bin/env bash
# Installs the npm CLIs the tests use into <repo>/.tools (git-ignored), once:
# the AWS CDK CLI (cdk synth) and asl-validator (the run state machine).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
want_cdk="2.1148.1"
want_asl="4.0.0"
have() { [ -f "$tools/node_modules/$1/package.json" ] && grep -q "\"version\": \"$2\"" "$tools/node_modules/$1/package.json"; }
if have aws-cdk "$want_cdk" && have asl-validator "$want_asl"; then exit 0; fi
mkdir -p "$tools"
[ -f "$tools/package.json" ] || echo '{"name":"batchplane-tools","private":true}' > "$tools/package.json"
npm install --no-audit --no-fund --loglevel=error --prefix "$tools" "aws-cdk@$want_cdk" "asl-validator@$want_asl"
