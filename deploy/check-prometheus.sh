#!/usr/bin/env bash
# Checks the monitoring files against the real tools: starts zarrbench and a
# real Prometheus (Debian's `prometheus` package, installed if missing) that
# scrapes it on loopback, runs a few small jobs, then
#   - `promtool check metrics` on the scraped /metrics text is clean;
#   - `promtool check config` and `promtool check rules` pass on
#     deploy/prometheus.yml and deploy/alerts.yml, and every alert rule
#     evaluates without error in the running Prometheus;
#   - every PromQL query of grafana/dashboards/zarrbench.json, with
#     $instance = .* and $__rate_interval = 1m, evaluates through the HTTP API
#     without error and returns data (the webhook panel may be empty only when
#     the binary cannot deliver webhooks to loopback; the script says so).
# Usage: deploy/check-prometheus.sh [path/to/zarrbench]  (default: builds
# target/debug/zarrbench). Finishes in well under two minutes once built.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'check-prometheus: %s\n' "$*"; }
fail() { say "FAIL: $*"; exit 1; }

if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    say "installing Debian's prometheus package"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
fi

binary=${1:-}
if [[ -z $binary ]]; then
    cargo build --quiet --bin zarrbench
    binary=target/debug/zarrbench
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# --- zarrbench on a free loopback port ----------------------------------------
serve_flags=(serve --host 127.0.0.1 --port 0 --data-dir "$work/data" --max-jobs 2)
webhooks=no
if "$binary" serve --help | grep -q -- '--webhook-allow-private'; then
    # Callbacks to a closed loopback port: each attempt fails at once, so the
    # webhook series exist without an external receiver.
    serve_flags+=(--webhook-allow-private --webhook-retry-schedule 0 --webhook-timeout 2)
    webhooks=yes
fi
# No API key, no rate limits (the script polls fast), no result cache (every
# job must really run so that run-time and data series move).
env -u BENCHMARK_API_KEY -u BENCHMARK_API_KEY_FILE -u BENCHMARK_SERVER_PORT -u BENCHMARK_HOST \
    BENCHMARK_SUBMIT_RATE_LIMIT=0 BENCHMARK_READ_RATE_LIMIT=0 BENCHMARK_RESULT_CACHE=0 \
    "$binary" "${serve_flags[@]}" >"$work/zarrbench.out" 2>"$work/zarrbench.log" &
pids+=($!)
base=
for _ in $(seq 100); do
    base=$(sed -n 's/^zarrbench listening on //p' "$work/zarrbench.out" | head -n1)
    [[ -n $base ]] && break
    sleep 0.1
done
[[ -n $base ]] || { cat "$work/zarrbench.log"; fail "zarrbench did not start"; }
target=${base#http://}
say "zarrbench at $base"

# --- Prometheus scraping it every second --------------------------------------
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp deploy/alerts.yml "$work/alerts.yml"
sed -e 's/scrape_interval: 15s/scrape_interval: 1s/' \
    -e 's/evaluation_interval: 15s/evaluation_interval: 1s/' \
    -e 's/scrape_timeout: 5s/scrape_timeout: 1s/' \
    -e "s/127.0.0.1:8080/$target/" \
    deploy/prometheus.yml >"$work/prometheus.yml"
grep -q "$target" "$work/prometheus.yml" || fail "deploy/prometheus.yml no longer targets 127.0.0.1:8080"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)
prom=http://127.0.0.1:$prom_port
for _ in $(seq 100); do
    curl -fsS "$prom/-/ready" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "$prom/-/ready" >/dev/null || { cat "$work/prometheus.log"; fail "prometheus did not start"; }
scraped=no
for _ in $(seq 150); do
    if curl -fsS "$prom/api/v1/query" --data-urlencode 'query=up{job="zarrbench"} == 1' | grep -q '"value"'; then
        scraped=yes
        break
    fi
    sleep 0.2
done
[[ $scraped == yes ]] || { cat "$work/prometheus.log"; fail "prometheus never scraped zarrbench"; }
say "prometheus at $prom scrapes zarrbench"

# --- a few small jobs, in two rounds so that rates see counters move -----------
submit() { # dataset profile [callback]
    local body="{\"dataset_type\": \"$1\", \"shape\": [16, 16, 16], \"compression_profile\": \"$2\", \"repeats\": 1"
    [[ -n ${3:-} ]] && body+=", \"callback_url\": \"$3\""
    curl -fsS -X POST "$base/benchmark" -H 'content-type: application/json' -d "$body}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["job_id"])'
}
wait_final() {
    for id in "$@"; do
        for _ in $(seq 300); do
            status=$(curl -fsS "$base/status/$id" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')
            [[ $status == completed || $status == failed || $status == cancelled ]] && break
            sleep 0.1
        done
        [[ $status == completed ]] || fail "job $id ended $status"
    done
}
callback=
[[ $webhooks == yes ]] && callback=http://127.0.0.1:9/zarrbench-check
for round in 1 2; do
    ids=("$(submit synthetic fast "$callback")" "$(submit synthetic fast)")
    curl -s -o /dev/null "$base/no-such-route"
    wait_final "${ids[@]}"
    sleep 4 # several scrapes, and time for webhook attempts
done
say "jobs ran; $(curl -fsS "$base/health")"

# --- promtool on the scraped text and the shipped files ------------------------
curl -fsS "$base/metrics" >"$work/metrics.txt"
grep -q '^zarrbench_build_info' "$work/metrics.txt" || fail "/metrics has no zarrbench_build_info"
if ! problems=$(promtool check metrics <"$work/metrics.txt" 2>&1) || [[ -n $problems ]]; then
    fail "promtool check metrics: $problems"
fi
say "promtool check metrics: clean"
promtool check config deploy/prometheus.yml >/dev/null || fail "promtool check config deploy/prometheus.yml"
promtool check rules deploy/alerts.yml >/dev/null || fail "promtool check rules deploy/alerts.yml"
say "promtool check config / check rules: pass"

# --- every dashboard query and alert rule through the HTTP API -----------------
PROM=$prom WEBHOOKS=$webhooks python3 - <<'PY'
import json, math, os, sys, urllib.parse, urllib.request

prom = os.environ["PROM"]
webhooks = os.environ["WEBHOOKS"] == "yes"

def api(path, **params):
    url = f"{prom}/api/v1/{path}?{urllib.parse.urlencode(params, doseq=True)}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.load(reply)

def fill(expr):
    for name, value in (("${__rate_interval}", "1m"), ("$__rate_interval", "1m"),
                        ("${instance:regex}", ".*"), ("${instance}", ".*"), ("$instance", ".*")):
        expr = expr.replace(name, value)
    if "$" in expr:
        raise SystemExit(f"unfilled variable in {expr}")
    return expr

dashboard = json.load(open("grafana/dashboards/zarrbench.json"))
queries = [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]
failures, empty_allowed = [], []
for title, expr in queries:
    reply = api("query", query=fill(expr))
    if reply.get("status") != "success":
        failures.append(f"{title}: {expr}: {reply.get('error')}")
        continue
    result = reply["data"]["result"]
    values = [float(r["value"][1]) for r in result] if reply["data"]["resultType"] == "vector" else []
    if not result or not any(not math.isnan(v) for v in values):
        if "zarrbench_webhook_deliveries_total" in expr and not webhooks:
            empty_allowed.append(title)
            continue
        failures.append(f"{title}: {fill(expr)}: no data ({result})")
print(f"check-prometheus: {len(queries)} dashboard queries evaluated")

# The instance variable's query (Grafana's label_values) through the label API.
instances = api("label/instance/values", **{"match[]": "zarrbench_build_info"})["data"]
if not instances:
    failures.append("variable instance: label_values(zarrbench_build_info, instance) is empty")

rules = [r for g in api("rules")["data"]["groups"] for r in g["rules"]]
if not rules:
    failures.append("no alert rules loaded")
for rule in rules:
    if rule.get("health") != "ok":
        failures.append(f"alert {rule['name']}: health {rule.get('health')}: {rule.get('lastError')}")
print(f"check-prometheus: {len(rules)} alert rules evaluated")

for title in empty_allowed:
    print(f"check-prometheus: allowed empty (binary has no loopback webhooks): {title}")
if failures:
    print("check-prometheus: FAIL:\n  " + "\n  ".join(failures), file=sys.stderr)
    sys.exit(1)
PY
say "OK"
