#!/usr/bin/env bash
# A walk through zarrbench's HTTP API with nothing but curl (and python3 to
# pick fields out of JSON): check health, submit a cryo-ET job, follow
# it to completion, fetch its results as JSON, CSV and an SVG chart, list
# jobs, see what an invalid request answers, and cancel a long job.
#
#   ZARRBENCH_URL=http://localhost:8080 bash examples/curl_walkthrough.sh
#
# Settings (environment):
#   ZARRBENCH_URL           the service (default http://localhost:8080)
#   BENCHMARK_API_KEY       sent as "Authorization: Bearer KEY" when set
#   WALKTHROUGH_DIR         where results.json, results.csv and report.svg go
#                           (default ./zarrbench-walkthrough)
#   WALKTHROUGH_SHAPE       shape of the first job (default "256, 256, 256")
#   WALKTHROUGH_PROFILE     its profile (default balanced)
#   WALKTHROUGH_LONG_SHAPE  shape of the job that gets cancelled
#                           (default "256, 256, 256")
#   WALKTHROUGH_TIMEOUT     seconds to wait for a job (default 600)
#
# Every request checks its HTTP status; any other status than the expected
# one stops the script with the answer on stderr and exit status 1.
set -euo pipefail

BASE="${ZARRBENCH_URL:-http://localhost:8080}"
BASE="${BASE%/}"
OUT_DIR="${WALKTHROUGH_DIR:-zarrbench-walkthrough}"
SHAPE="${WALKTHROUGH_SHAPE:-256, 256, 256}"
PROFILE="${WALKTHROUGH_PROFILE:-balanced}"
LONG_SHAPE="${WALKTHROUGH_LONG_SHAPE:-256, 256, 256}"
TIMEOUT="${WALKTHROUGH_TIMEOUT:-600}"

mkdir -p "$OUT_DIR"
BODY="$(mktemp)"
trap 'rm -f "$BODY"' EXIT

# With keys configured, every route but /health needs the key. The service
# accepts a comma-separated list of keys; a client sends one of them.
AUTH=()
if [[ -n "${BENCHMARK_API_KEY:-}" ]]; then
    AUTH=(-H "Authorization: Bearer ${BENCHMARK_API_KEY%%,*}")
fi

step() { printf '\n== %s\n' "$*"; }

# call EXPECTED METHOD PATH [curl options...]
# Sends the request, leaves the answer's body in $BODY and stops the script
# unless the status is one of EXPECTED (space-separated, e.g. "200 202").
call() {
    local expected=$1 method=$2 path=$3
    shift 3
    local status
    if ! status=$(curl --silent --show-error --output "$BODY" --write-out '%{http_code}' \
        --request "$method" ${AUTH[@]+"${AUTH[@]}"} "$@" "$BASE$path"); then
        echo "cannot reach the service at $BASE" >&2
        exit 1
    fi
    echo "$method $path -> HTTP $status"
    if [[ " $expected " != *" $status "* ]]; then
        echo "unexpected HTTP $status from $method $path (expected $expected):" >&2
        cat "$BODY" >&2
        echo >&2
        exit 1
    fi
}

# field PATH...: fields of the JSON answer in $BODY, by dotted paths such as
# results.best_compression.config_id, tab-separated on one line; strings
# bare, anything else as JSON, a missing field empty.
field() {
    python3 - "$BODY" "$@" <<'PY'
import json, sys
answer = json.load(open(sys.argv[1]))
values = []
for path in sys.argv[2:]:
    value = answer
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    values.append(value if isinstance(value, str) else "" if value is None else json.dumps(value))
print("\t".join(values))
PY
}

# wait_until JOB_ID STATE: polls /status until the job is in STATE; any other
# final state, or the timeout, stops the script.
wait_until() {
    local job_id=$1 wanted=$2 started=$SECONDS fields state configs_done configs_total line shown=""
    while true; do
        call 200 GET "/status/$job_id" >/dev/null
        fields=$(field status progress.done progress.total)
        IFS=$'\t' read -r state configs_done configs_total <<<"$fields"
        line="  $state, $configs_done/$configs_total configurations"
        if [[ $line != "$shown" ]]; then
            echo "$line"
            shown=$line
        fi
        if [[ $state == "$wanted" ]]; then
            return 0
        fi
        case $state in
        completed | failed | cancelled)
            echo "job $job_id ended $state, not $wanted: $(field error)" >&2
            exit 1
            ;;
        esac
        if ((SECONDS - started > TIMEOUT)); then
            echo "job $job_id still $state after ${TIMEOUT} s" >&2
            exit 1
        fi
        sleep 0.5
    done
}

step "health: no key needed; job counts, workers and queue"
call 200 GET /health
cat "$BODY"
echo

step "submit a cryo-ET job (201 Created, Location: /status/{job_id})"
call 201 POST /benchmark -H "Content-Type: application/json" -d @- <<JSON
{
  "dataset_type": "cryoet",
  "shape": [$SHAPE],
  "voxel_size": [2.5, 2.5, 2.5],
  "compression_profile": "$PROFILE"
}
JSON
JOB_ID=$(field job_id)
echo "job $JOB_ID: $(field status) ($(field message))"

step "poll GET /status/$JOB_ID until the job has completed"
wait_until "$JOB_ID" completed
echo "status: completed"
echo "recommendations: $(field results.recommendations)"
echo "best compression: $(field results.best_compression.config_id), ratio $(field results.best_compression.ratio)"

step "the results object (the same as 'zarrbench run --format json')"
python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1]))["results"], sys.stdout, indent=2)' \
    "$BODY" >"$OUT_DIR/results.json"
echo "saved $OUT_DIR/results.json ($(wc -c <"$OUT_DIR/results.json") bytes)"

step "the results as CSV, one row per configuration"
call 200 GET "/jobs/$JOB_ID/results.csv"
cp "$BODY" "$OUT_DIR/results.csv"
head -n 3 "$OUT_DIR/results.csv"
echo "saved $OUT_DIR/results.csv ($(($(wc -l <"$OUT_DIR/results.csv") - 1)) configurations)"

step "the trade-off chart as SVG (open it in a browser)"
call 200 GET "/jobs/$JOB_ID/report.svg"
cp "$BODY" "$OUT_DIR/report.svg"
if ! grep -q "<svg" "$OUT_DIR/report.svg"; then
    echo "report.svg is not an SVG document" >&2
    exit 1
fi
echo "saved $OUT_DIR/report.svg ($(wc -c <"$OUT_DIR/report.svg") bytes)"

step "list jobs, newest first, five to a page (?status=&limit=&offset=)"
call 200 GET "/jobs?limit=5"
python3 - "$BODY" <<'PY'
import json, sys
page = json.load(open(sys.argv[1]))
for job in page["jobs"]:
    shape = "x".join(str(n) for n in job["shape"])
    print(f"  {job['job_id']}  {job['status']:<9}  {job['dataset_type']} {shape}")
print(f"  {len(page['jobs'])} of {page['total']} job(s) from offset {page['offset']}")
PY

step "an invalid request: every error is JSON with a stable 'code'"
call 400 POST /benchmark -H "Content-Type: application/json" \
    -d '{"dataset_type": "hologram", "shape": [64, 64, 64]}'
echo "code: $(field code)"
echo "error: $(field error)"

step "cancel a long job: 200 while pending, 202 while running"
# "cache": false makes it a fresh run even if the same job completed before,
# so there is something left to cancel.
call 201 POST /benchmark -H "Content-Type: application/json" -d @- <<JSON
{"dataset_type": "cryoet", "shape": [$LONG_SHAPE], "compression_profile": "archival", "cache": false}
JSON
LONG_ID=$(field job_id)
echo "job $LONG_ID submitted"
call "200 202" DELETE "/jobs/$LONG_ID"
echo "$(field status): $(field message)"
wait_until "$LONG_ID" cancelled
echo "job $LONG_ID cancelled"

step "done"
echo "walk-through finished; files in $OUT_DIR"
