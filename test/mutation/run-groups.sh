#!/bin/bash
# The whole mutation run, one module group after another (each group's report is written when it
# ends, so a long run still leaves the groups it finished): test/mutation/reports/<group>.json.
# Every group runs against all the unit tests of test/mutation/vitest.config.ts, as one
# `npm run test:mutation` would. Prints each group's wall time. STRYKER_ARGS adds options to each
# run, e.g. STRYKER_ARGS=--ignoreStatic REPORT_SUFFIX=-nostatic for the quick pass without static
# mutants (module-level constants, each of which reruns every related test). OWN_TESTS=1 runs each
# group against its own folder's tests only (MUTATION_TESTS): what makes the static mutants
# affordable, since a static mutant reruns every included test that imports its file. Prints each
# group's wall time and the CPU time (user + system) of the run and its test runners.
set -u
cd "$(dirname "$0")/../.."
groups=("${@:-api ingest schemas notifier projector deleter}")
for group in ${groups[@]}; do
  case $group in
    schemas) dir='schemas/src' ;;
    *) dir="services/$group/src/domain" ;;
  esac
  glob="$dir/**/*.ts,!**/*.test.ts"
  if [ "${OWN_TESTS:-}" = 1 ]; then export MUTATION_TESTS="$dir/**/*.test.ts"; fi
  start=$(date +%s)
  report=$group${REPORT_SUFFIX:-}
  # shellcheck disable=SC2086
  /usr/bin/time -o "test/mutation/reports/$report.time" -f '%U %S' env STRYKER_REPORT="$report" npx stryker run test/mutation/stryker.config.mjs --mutate "$glob" --reporters json,html,clear-text,progress ${STRYKER_ARGS:-} > "test/mutation/reports/$report.log" 2>&1
  rc=$?
  cpu=$(awk '{ printf "%.1f", ($1 + $2) / 60 }' "test/mutation/reports/$report.time")
  echo "$report rc=$rc $(( $(date +%s) - start ))s wall, $cpu CPU minutes"
done
