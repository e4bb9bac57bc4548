#!/usr/bin/env bash
# Installs the npm CLIs the infra checks use into <repo>/.tools (git-ignored),
# only when missing: the AWS CDK CLI (cdk synth; the CLI is versioned apart
# from aws-cdk-lib and reads every older cloud-assembly schema),
# asl-validator (the run state machine), and the two OpenAPI linters the
# API document must pass (shared/api TestOpenAPILint); and, in
# .tools/cfnguard, the AWS Control Tower proactive controls that infra's
# TestControlTowerRules runs (see below).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"

# install PREFIX NPM-FLAGS PACKAGE@VERSION...: npm-installs into PREFIX the
# packages whose installed version is not the pinned one.
install() {
  local prefix="$1" flags="$2" missing=() pkg name version manifest
  shift 2
  for pkg in "$@"; do
    name="${pkg%@*}" version="${pkg##*@}"
    manifest="$prefix/node_modules/$name/package.json"
    if ! { [ -f "$manifest" ] && node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' "$manifest" "$version"; }; then
      missing+=("$pkg")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    mkdir -p "$prefix"
    [ -f "$prefix/package.json" ] || echo '{"name":"batchplane-tools","private":true}' >"$prefix/package.json"
    echo "tools.sh: installing ${missing[*]} into $prefix"
    # shellcheck disable=SC2086 # flags is a word list
    npm install --no-audit --no-fund --loglevel=error --save-exact $flags --prefix "$prefix" "${missing[@]}"
  fi
}

install "$tools" "" aws-cdk@2.1148.1 asl-validator@4.0.0 @redocly/cli@2.77.0 @stoplight/spectral-cli@6.16.3

# cdklabs' CDK policy-validation plugin ships the cfn-guard binary (bin/,
# per OS and architecture) and Control Tower's proactive-control rules
# (rules/control-tower/cfn-guard) inside the package, so nothing is fetched
# at install or test time. The infra app is Go and cannot load the
# TypeScript plugin: the test runs that binary on those rules itself. Its
# own prefix, without its peer dependency aws-cdk-lib (--omit=peer: only
# the plugin's TypeScript needs it, and a later install into a shared
# prefix would bring the whole library in).
install "$tools/cfnguard" "--omit=peer" @cdklabs/cdk-validator-cfnguard@0.0.62

# oapi-codegen and the generated client's runtime, pinned by their own
# module (kept out of the service's go.mod and of every Lambda).
(cd "$root/shared/api/testdata/openapiclient" && go mod download)
