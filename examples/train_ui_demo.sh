#!/usr/bin/env bash
# The UI learning loop end to end: the flaky suite runs under Arc into the embedded collector, a GRPO
# job on Ray trains a tool policy from those spans and publishes it to the registry's canary channel,
# the suite runs again following the canary, and `arc policy compare` shows failures and added time
# per policy version. Everything stays in a temporary folder; the collector is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup >/dev/null
export PATH="$PWD/.venv/bin:$PATH"
WORK=$(mktemp -d)
STORE="$WORK/store"
export ARC_REGISTRY="$WORK/registry"

arc collector --store "$STORE" --listen 127.0.0.1:0 --query-listen 127.0.0.1:0 > "$WORK/collector.log" 2>&1 &
COLLECTOR=$!
trap 'kill "$COLLECTOR" 2>/dev/null; wait "$COLLECTOR" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do grep -q "^arc collector: otlp" "$WORK/collector.log" && break; sleep 0.2; done
OTLP=$(sed -n 's/^arc collector: otlp \([^ ]*\) .*/\1/p' "$WORK/collector.log")
echo "== collector at $OTLP, store $STORE"

run_suite() {  # $1 = label; extra env via the caller
  echo "== flaky suite ($1)"
  OTEL_EXPORTER_OTLP_ENDPOINT="$OTLP" OTEL_SERVICE_NAME=flaky-suite ARC_PRIVACY_MODE=local_inference \
    ARC_EXPORT_DELAY_MS=50 arc-instrument python examples/flaky_ui_suite.py --rounds 3 --timeout-ms 1500
}

run_suite "seed rule"
echo "== training (GRPO on a local Ray, 2 workers)"
arc train ui-policy --store "$STORE" --since 1h --iterations "${ITERATIONS:-6}" --group 8 --workers 2 --publish
arc registry list
ARC_VISION_POLICY=registry:ui-policy ARC_VISION_POLICY_CANARY=1.0 run_suite "trained policy on canary"
for _ in $(seq 1 100); do  # until the second run's spans have landed
  arc query --store "$STORE" "SELECT count() FROM arc_ui_actions WHERE policy_version LIKE 'ui-policy-%'" \
    2>/dev/null | grep -qv '^0$' && break
  sleep 0.2
done
echo "== per policy version"
arc policy compare --store "$STORE" --since 1h
echo "promote it with: ARC_REGISTRY=$ARC_REGISTRY arc registry promote models ui-policy"
