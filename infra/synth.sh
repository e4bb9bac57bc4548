#!/usr/bin/env bash
# Runs the real CDK CLI offline, with no AWS credentials: builds every
# function's bootstrap the way `make build` does (the list comes from
# shared/routes through cmd/samgen -functions), then `cdk synth` for a test
# customer into a temporary cloud assembly, failing on any error or warning
# annotation (so on any unsuppressed cdk-nag finding);
# then validates the run state machine. Needs `bash infra/tools.sh` first.
#   CUSTOMER=name  the customer to synthesize (default ci)
#   BP_SKIP_BUILD=1  use the bootstraps already in .build
set -euo pipefail
infra="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$infra")"
customer="${CUSTOMER:-ci}"
bin="$root/.tools/node_modules/.bin"
[ -x "$bin/cdk" ] || { echo "synth.sh: no cdk CLI in .tools: run bash infra/tools.sh" >&2; exit 1; }

if [ "${BP_SKIP_BUILD:-}" != 1 ]; then
  fns="$(cd "$infra" && go run ./cmd/samgen -functions)"
  for fn in $fns; do
    (cd "$root" && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' \
      -o ".build/$fn/bootstrap" "./functions/$fn")
  done
fi

export CDK_DISABLE_VERSION_CHECK=true CDK_DISABLE_CLI_TELEMETRY=true
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$infra"
"$bin/cdk" synth -c customer="$customer" --strict --no-notices --quiet -o "$out"
template="$out/Batchplane-$customer.template.json"
test -s "$template"
echo "synth.sh: cdk synth Batchplane-$customer: $(grep -c '"AWS::ApiGatewayV2::Route"' "$template") routes, $(grep -c '"AWS::Lambda::Function"' "$template") functions"
"$bin/asl-validator" --json-path statemachines/run.asl.json
