#!/usr/bin/env bash
# Learning from failures, end to end on the embedded defaults (no network, no provider key):
# an app hits every failure of `arc dev-llm`'s catalogue (plus 5 % random 429s) under arc-instrument,
# Arc records spans into the embedded collector (chDB) and the calls into a cassette; `arc learn
# patterns` mines the spans, verifies candidate fixes by replaying the cassette (Ray tasks) and
# publishes the verified ones; the app runs again on other prompts and values, with and without them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup >/dev/null
BIN=$PWD/.venv/bin
WORK=$(mktemp -d /tmp/arc-learn-demo.XXXXXX)
export ARC_REGISTRY=$WORK/registry
unset ARC_PATTERNS ARC_CAPTURE OTEL_EXPORTER_OTLP_ENDPOINT
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT

first_line() {  # wait (up to 60 s) for a line starting with $2 in log file $1
  for _ in $(seq 600); do
    if grep -q "^$2" "$1" 2>/dev/null; then grep -m1 "^$2" "$1"; return; fi
    sleep 0.1
  done
  echo "learn_demo: no '$2' in $1:" >&2; cat "$1" >&2; exit 1
}

"$BIN/arc" dev-llm --port 0 --fail-rate 0.05 --fail-status 429 >"$WORK/dev-llm.log" 2>&1 & PIDS+=($!)
URL=$(first_line "$WORK/dev-llm.log" "dev-llm listening on" | awk '{print $NF}')
"$BIN/arc" collector --listen 127.0.0.1:0 --query-listen 127.0.0.1:0 --store "$WORK/store" >"$WORK/collector.log" 2>&1 & PIDS+=($!)
LINE=$(first_line "$WORK/collector.log" "arc collector: otlp")
OTLP=$(echo "$LINE" | awk '{for (i = 1; i < NF; i++) if ($i == "otlp") print $(i + 1)}')
echo "== dev-llm $URL (5 % of requests answered 429); collector $OTLP -> chDB $WORK/store"

run_app() {  # SERVICE ARGS...: the app under arc-instrument, then wait until its spans are stored
  local service=$1; shift
  OTEL_EXPORTER_OTLP_ENDPOINT=$OTLP OTEL_SERVICE_NAME=$service ARC_LOG_LEVEL=WARNING \
    "$BIN/arc-instrument" "$BIN/python" examples/learn_app.py --base-url "$URL" "$@" >"$WORK/$service.json"
  local want; want=$("$BIN/python" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["calls"]))' "$WORK/$service.json")
  for _ in $(seq 300); do
    [ "$("$BIN/arc" query --store "$WORK/store" "SELECT count() FROM arc_llm_calls WHERE service = '$service'")" = "$want" ] && return
    sleep 0.1
  done
}

echo; echo "== 1. failures before: the app (no Arc code) under arc-instrument, calls captured (ARC_CAPTURE)"
ARC_CAPTURE=$WORK/calls.jsonl ARC_CAPTURE_RATE=1 run_app learn-run --seed 1 --rounds 10
"$BIN/arc" query --store "$WORK/store" --format PrettyCompactMonoBlock \
  "SELECT model, outcome, error_code, error_param, http_status, count() AS calls FROM arc_llm_calls
   WHERE service = 'learn-run' AND outcome != 'ok' GROUP BY ALL ORDER BY calls DESC, model"

echo; echo "== 2. arc learn patterns: mine the spans, verify each candidate by replaying the cassette, publish"
"$BIN/arc" learn patterns --store "$WORK/store" --since 1h --capture "$WORK/calls.jsonl" \
  --verify-base-url "$URL" --publish --name learned --out "$WORK/bundle.json" >"$WORK/job.json"
echo; echo "   the learned patterns, with their evidence (support, lift, replays):"
"$BIN/python" - "$WORK/bundle.json" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))["patterns"]:
    ev, rp = p["provenance"], p["provenance"].get("replay", {})
    print(f"   - when {json.dumps(p['pattern'])}\n     fix  {json.dumps(p['fix'])}  confidence {p['confidence']}"
          f"\n     seen {ev['support']} failures ({ev['kind']}) in {ev['calls']} calls, lift {ev['lift']}; replayed:"
          f" {rp.get('resolved')}/{rp.get('failing')} resolved, {rp.get('broken')} of {rp.get('healthy')} healthy broken")
PY
"$BIN/arc" registry list
"$BIN/arc" query --store "$WORK/store" --format PrettyCompactMonoBlock \
  "SELECT id, status, artifact, metrics FROM arc_training_jobs ORDER BY updated"

echo; echo "== 3. failures after: other prompts and parameter values (held out), bare vs ARC_PATTERNS=registry:learned@canary"
echo "   (the server still answers 5 % of requests 429: no pattern may touch those)"
run_app held-out-bare --seed 2 --rounds 10 --held-out 2>&1 | sed 's/^/   bare:    /'
ARC_PATTERNS=registry:learned@canary run_app held-out-fixed --seed 2 --rounds 10 --held-out 2>&1 | sed 's/^/   learned: /'
"$BIN/arc" query --store "$WORK/store" --format PrettyCompactMonoBlock \
  "SELECT service, count() AS calls, countIf(outcome != 'ok') AS failed, countIf(http_status = 429) AS rate_limited,
          countIf(fix_applied) AS fixed_by_arc FROM arc_llm_calls WHERE service LIKE 'held-out-%' GROUP BY service ORDER BY service"
echo; echo "== files in $WORK (cassette, bundle, store); replay them any time: arc replay $WORK/calls.jsonl --patterns $WORK/bundle.json --base-url <dev-llm>"
