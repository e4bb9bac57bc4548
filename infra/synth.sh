#!/usr/bin/env bash
# Runs the real CDK CLI: `cdk synth` for a test customer, offline, with no
# AWS credentials, after `make build` produced the function bootstraps.
set -euo pipefail
cd "$(dirname "$0")"
export CDK_DISABLE_VERSION_CHECK=true CDK_DISABLE_CLI_TELEMETRY=true
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
../.tools/node_modules/.bin/cdk synth -c customer="${CUSTOMER:-ci}" --no-notices --quiet -o "$out" >/dev/null
test -s "$out/Batchplane-${CUSTOMER:-ci}.template.json"
echo "cdk synth: Batchplane-${CUSTOMER:-ci} ($(grep -c '"AWS::ApiGatewayV2::Route"' "$out/Batchplane-${CUSTOMER:-ci}.template.json") routes)"
../.tools/node_modules/.bin/asl-validator --json-path statemachines/run.asl.json
