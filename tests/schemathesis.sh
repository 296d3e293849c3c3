#!/usr/bin/env bash
# Property-based API fuzzing: starts `zarrbench serve` on a free port with a
# temporary data directory and runs schemathesis (PyPI) against its
# /openapi.json. Fails on any 5xx, a response that breaks the documented
# schema, status code, content type or headers, a schema-violating request
# that is accepted, a server crash, or a panic in the server's log.
#
# positive_data_acceptance is not checked: some rules cannot be written in
# OpenAPI (voxel_size and chunk shapes must have the rank of `shape`, the
# volume must fit the byte limit), so a schema-valid body may rightly get 400.
#
# Environment: ZARRBENCH_BIN (default: target/debug/zarrbench, built if
# missing), ST_MAX_EXAMPLES (default 100 per operation), ST_SEED.
set -euo pipefail

cd "$(dirname "$0")/.."

bin="${ZARRBENCH_BIN:-target/debug/zarrbench}"
if [[ ! -x "$bin" ]]; then
    cargo build --quiet --bin zarrbench
fi

if ! command -v st >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Tiny volumes so that accepted jobs finish at once; a deep queue so that
# 429 stays rare (it is documented, so it would not fail the run either).
"$bin" serve --host 127.0.0.1 --port 0 --data-dir "$work/data" \
    --max-volume-bytes 65536 --max-queued 100000 --max-jobs 2 \
    --submit-rate-limit 0 --read-rate-limit 0 \
    >"$work/stdout" 2>"$work/server.log" &
server_pid=$!

base=""
for _ in $(seq 1 100); do
    base="$(sed -n 's/^zarrbench listening on //p' "$work/stdout" | head -n 1)"
    [[ -n "$base" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$base" ]] || { echo "schemathesis.sh: the server did not start" >&2; exit 1; }
echo "schemathesis.sh: fuzzing $base"

# Run from the scratch directory: schemathesis keeps its example database in
# the working directory.
status=0
(cd "$work" && st run "$base/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,unsupported_method \
    --max-examples "${ST_MAX_EXAMPLES:-100}" \
    ${ST_SEED:+--seed "$ST_SEED"} \
    --request-timeout 10 \
    --no-color) || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis.sh: the server died during the run" >&2
    tail -n 50 "$work/server.log" >&2
    exit 1
fi
if grep -q "panicked" "$work/server.log"; then
    echo "schemathesis.sh: the server panicked during the run" >&2
    grep -A 5 "panicked" "$work/server.log" | head -n 40 >&2
    exit 1
fi
exit "$status"
