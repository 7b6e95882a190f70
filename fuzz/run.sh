#!/bin/sh
# Runs every libFuzzer target of a -DRG_FUZZ=ON build for FUZZ_SECONDS (default 60) each,
# starting from its seed corpora (read-only; new inputs go to BUILD/fuzz-corpus/<target>).
# usage: fuzz/run.sh BUILD_DIR        (`make fuzz` calls it)
# A crash leaves crash-* / leak-* / timeout-* files in BUILD/fuzz-artifacts and exits 1.
set -eu
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz/run.sh BUILD_DIR}
secs=${FUZZ_SECONDS:-60}
mkdir -p "$build/fuzz-artifacts"
for t in jose discovery callback; do
  case $t in
    jose) seeds="fuzz/corpus/jose tests/data/jose/bad-tokens tests/data/jose/bad-jwks" ;;
    discovery) seeds="fuzz/corpus/discovery tests/data/oidc/discovery" ;;
    callback) seeds="fuzz/corpus/callback" ;;
  esac
  mkdir -p "$build/fuzz-corpus/$t"
  echo "fuzz: $t for ${secs}s"
  # shellcheck disable=SC2086
  "$build/fuzz_$t" -max_total_time="$secs" -max_len=131072 -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
      "$build/fuzz-corpus/$t" $seeds
done
echo "fuzz: no crash in any target"
