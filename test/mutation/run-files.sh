#!/bin/bash
# The mutation run one module file at a time, each against only the tests that exercise it
# (`<dir>/<name>*.test.ts`, or the test files named below): static mutants included. A static
# mutant (a module-level constant) is tried by rerunning every included test that imports its file,
# so against a whole group's tests the API alone was estimated at over two hours; against its own
# tests a file takes seconds to minutes. The score is a lower bound of the group's (fewer tests can
# only kill fewer). Reports: test/mutation/reports/file-<group>-<name>.json; prints each file's wall
# time and CPU minutes (user + system, the test runners included).
# Usage: test/mutation/run-files.sh api [ingest ...]   (STRYKER_ARGS adds options, e.g. --concurrency 1)
#        test/mutation/run-files.sh services/api/src/domain/keyset.ts [...]   (one file of a group)
set -u
cd "$(dirname "$0")/../.."
mkdir -p test/mutation/reports

# Files whose behaviour is tested from another module's test files.
tests_of() {
  case $1 in
    services/api/src/domain/answers.ts) echo 'services/api/src/domain/answers.exact.test.ts,services/api/src/domain/serialize.exact.test.ts' ;;
    services/api/src/domain/keys.ts | services/api/src/domain/rows.ts) echo 'services/api/src/domain/serialize.exact.test.ts' ;;
    services/api/src/domain/alerts-serialize.ts) echo 'services/api/src/domain/artifact-bundle.exact.test.ts,services/api/src/domain/answers.exact.test.ts' ;;
    services/ingest/src/domain/pipeline.ts | services/ingest/src/domain/rejections.ts) echo 'services/ingest/src/domain/stages.test.ts,services/ingest/src/domain/golden.test.ts' ;;
    *) echo "${1%.ts}*.test.ts" ;;
  esac
}

# Files whose tests need vitest's forks (they change process.env.TZ, which worker threads cannot).
pool_of() {
  case $1 in
    services/ingest/src/domain/normalize.ts) echo forks ;;
    *) echo threads ;;
  esac
}

for group in "$@"; do
  case $group in
    *.ts) files=("$group"); group=$(case $group in schemas/*) echo schemas ;; *) echo "$group" | cut -d/ -f2 ;; esac) ;;
    schemas) files=(schemas/src/*.ts) ;;
    *) files=("services/$group/src/domain"/*.ts) ;;
  esac
  for file in "${files[@]}"; do
    case $file in *.test.ts) continue ;; esac
    tests=$(tests_of "$file")
    # shellcheck disable=SC2086
    if ! compgen -G "${tests%%,*}" > /dev/null; then echo "$file: no tests ($tests)"; continue; fi
    name=$(basename "$file" .ts)
    report=file-$group-$name
    start=$(date +%s)
    # shellcheck disable=SC2086
    /usr/bin/time -o "test/mutation/reports/$report.time" -f '%U %S' env STRYKER_REPORT="$report" MUTATION_TESTS="$tests" STRYKER_VITEST_POOL="$(pool_of "$file")" npx stryker run test/mutation/stryker.config.mjs --mutate "$file" --reporters json,clear-text ${STRYKER_ARGS:-} > "test/mutation/reports/$report.log" 2>&1
    rc=$?
    cpu=$(awk '{ printf "%.1f", ($1 + $2) / 60 }' "test/mutation/reports/$report.time")
    echo "$report rc=$rc $(( $(date +%s) - start ))s wall, $cpu CPU minutes"
  done
done
