#!/usr/bin/env bash
# The conformance scenarios again, every step through PostgreSQL (the durable
# runtime and its store), with the same expected traces.
set -u
build=$1 src=$2
[ -n "${BPMND_TEST_DATABASE_URL:-}" ] || { echo "needs BPMND_TEST_DATABASE_URL: run under tools/with-postgres"; exit 77; }
BPMND_SCENARIO_DATABASE="$BPMND_TEST_DATABASE_URL" exec bash "$src/tests/cli/conformance.sh" "$build" "$src"
