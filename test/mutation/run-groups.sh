#!/bin/bash
# The whole mutation run, one module group after another (each group's report is written when it
# ends, so a long run still leaves the groups it finished): test/mutation/reports/<group>.json.
# Every group runs against all the unit tests of test/mutation/vitest.config.ts, as one
# `npm run test:mutation` would. Prints each group's wall time. STRYKER_ARGS adds options to each
# run, e.g. STRYKER_ARGS=--ignoreStatic REPORT_SUFFIX=-nostatic for the quick pass without static
# mutants (module-level constants, each of which reruns every related test).
set -u
cd "$(dirname "$0")/../.."
groups=("${@:-api ingest schemas notifier projector deleter}")
for group in ${groups[@]}; do
  case $group in
    schemas) glob='schemas/src/**/*.ts,!**/*.test.ts' ;;
    *) glob="services/$group/src/domain/**/*.ts,!**/*.test.ts" ;;
  esac
  start=$(date +%s)
  report=$group${REPORT_SUFFIX:-}
  # shellcheck disable=SC2086
  STRYKER_REPORT=$report npx stryker run test/mutation/stryker.config.mjs --mutate "$glob" --reporters json,html,clear-text,progress ${STRYKER_ARGS:-} > "test/mutation/reports/$report.log" 2>&1
  echo "$report rc=$? $(( $(date +%s) - start ))s"
done
