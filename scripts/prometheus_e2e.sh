#!/usr/bin/env bash
# `mini_oms serve --metrics-port` against the real Prometheus (Debian's prometheus package,
# which also ships promtool). ctest runs it as prometheus_e2e (tests/CMakeLists.txt).
#   scripts/prometheus_e2e.sh MINI_OMS_BINARY
# 1. serve --port 0 --metrics-port P; a scrape with curl is 200 with the 0.0.4 content type,
#    and `promtool check metrics` finds no problem in it (any lint output fails); /nope is 404.
# 2. The alert rules of docs/operations.md (its ```yaml block with `groups:`) pass
#    `promtool check rules`, and the Prometheus server below loads them.
# 3. A Prometheus server scrapes serve every second while `mini_oms loadgen` drives it, and its
#    HTTP API must answer sum(rate(mini_oms_requests_total[5s])) > 0 within 60 s.
# Every process started here is stopped on exit. Exit 77 (ctest: skipped) when prometheus,
# promtool, curl or python3 is missing, or serve has no --metrics-port, unless
# HFT_REQUIRE_PROMETHEUS=1 (CI), which fails instead.
set -euo pipefail
oms="${1:?usage: prometheus_e2e.sh MINI_OMS_BINARY}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

for tool in prometheus promtool curl python3; do
  if ! command -v "$tool" >/dev/null; then
    if [[ "${HFT_REQUIRE_PROMETHEUS:-}" == 1 ]]; then
      echo "FAIL: $tool is not installed and HFT_REQUIRE_PROMETHEUS=1 (scripts/install-deps.sh test installs it)" >&2
      exit 1
    fi
    echo "SKIP: $tool is not installed (scripts/install-deps.sh test installs Debian's prometheus and curl)"
    exit 77
  fi
done

# The help text is read whole first: `serve --help | grep -q` under pipefail fails when grep
# exits at its match before serve has written the rest (SIGPIPE, seen under ASan in CI).
serve_help=$("$oms" serve --help 2>&1 || true)
if ! grep -q -- '--metrics-port' <<<"$serve_help"; then
  if [[ "${HFT_REQUIRE_PROMETHEUS:-}" == 1 ]]; then
    echo "FAIL: $oms serve has no --metrics-port" >&2
    exit 1
  fi
  echo "SKIP: $oms serve has no --metrics-port"
  exit 77
fi

tmp="$(mktemp -d)"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
  echo "FAIL: $*" >&2
  for f in serve.err loadgen.out prometheus.log; do
    [[ -s "$tmp/$f" ]] && { echo "--- $f (last 20 lines)" >&2; tail -20 "$tmp/$f" >&2; }
  done
  exit 1
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# 1. serve, a scrape, promtool check metrics
mport="$(free_port)"
"$oms" serve --port 0 --metrics-port "$mport" >"$tmp/serve.out" 2>"$tmp/serve.err" &
pids+=($!)
port=""
for _ in $(seq 1 200); do
  port="$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\) (io.*/\1/p;T;q' "$tmp/serve.err")"  # a whole line
  [[ -n "$port" ]] && break
  kill -0 "${pids[0]}" 2>/dev/null || fail "serve exited before listening"
  sleep 0.05
done
[[ -n "$port" ]] || fail "serve printed no 'listening on HOST:PORT' within 10 s"
url="http://127.0.0.1:$mport/metrics"
for _ in $(seq 1 100); do
  curl -sS --max-time 5 -D "$tmp/headers.txt" -o "$tmp/scrape.txt" "$url" 2>/dev/null && break
  sleep 0.1
done
[[ -s "$tmp/scrape.txt" ]] || fail "no scrape from $url"
grep -qi '^HTTP/1.1 200' "$tmp/headers.txt" || fail "GET $url: $(head -1 "$tmp/headers.txt")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/headers.txt" ||
  fail "GET $url: not the 0.0.4 text format: $(grep -i '^Content-Type' "$tmp/headers.txt")"
grep -q '^# TYPE mini_oms_requests_total counter$' "$tmp/scrape.txt" || fail "the scrape has no mini_oms_requests_total counter"
if ! promtool check metrics <"$tmp/scrape.txt" >"$tmp/lint.txt" 2>&1 || [[ -s "$tmp/lint.txt" ]]; then
  echo "--- promtool check metrics:" >&2
  cat "$tmp/lint.txt" >&2
  fail "promtool check metrics found problems in the scrape of $url"
fi
code="$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/nope")"
[[ "$code" == 404 ]] || fail "GET /nope answered $code, expected 404"
echo "ok: serve on port $port, metrics on $mport: $(grep -c '^# TYPE' "$tmp/scrape.txt") families, promtool check metrics clean"

# 2. the alert rules of docs/operations.md
rules=""
if [[ -f "$root/docs/operations.md" ]]; then
  awk '/^```yaml/ { inside = 1; block = ""; next }
       /^```/ && inside { inside = 0; if (block ~ /(^|\n)groups:/) { printf "%s", block; exit } next }
       inside { block = block $0 "\n" }' "$root/docs/operations.md" >"$tmp/rules.yml"
  if [[ -s "$tmp/rules.yml" ]]; then
    promtool check rules "$tmp/rules.yml" >"$tmp/rules.txt" 2>&1 || { cat "$tmp/rules.txt" >&2; fail "promtool check rules: docs/operations.md's alert rules"; }
    rules="rule_files: ['$tmp/rules.yml']"
    echo "ok: docs/operations.md's alert rules pass promtool check rules"
  fi
fi

# 3. a Prometheus server scrapes serve under load and answers the request rate
pport="$(free_port)"
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
$rules
scrape_configs:
  - job_name: mini_oms
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOF
promtool check config "$tmp/prometheus.yml" >"$tmp/config.txt" 2>&1 || { cat "$tmp/config.txt" >&2; fail "promtool check config"; }
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)
api="http://127.0.0.1:$pport"
for _ in $(seq 1 300); do
  curl -sf --max-time 2 -o /dev/null "$api/-/ready" && break
  kill -0 "${pids[1]}" 2>/dev/null || fail "prometheus exited"
  sleep 0.1
done
curl -sf --max-time 2 -o /dev/null "$api/-/ready" || fail "prometheus not ready on $api within 30 s"
# Load: back-to-back open-loop runs of 20,000 requests at 5,000/s (a run sized for the whole wait
# would allocate for all its requests up front), each on families the earlier ones did not use.
drive() {
  local i=0 child=""
  trap 'kill "$child" 2>/dev/null; exit 0' TERM
  while :; do
    "$oms" loadgen --port "$port" --connections 2 --requests 20000 --rate 5000 --id-base $((1 + i * 10000000)) \
      >>"$tmp/loadgen.out" 2>&1 &
    child=$!
    wait "$child" || true
    i=$((i + 1))
    sleep 0.1
  done
}
drive &
pids+=($!)
query='sum(rate(mini_oms_requests_total[5s]))'
rate=""
deadline=$((SECONDS + 60))
while ((SECONDS < deadline)); do
  sleep 1
  reply="$(curl -sS --max-time 5 -G --data-urlencode "query=$query" "$api/api/v1/query" 2>&1 || true)"
  rate="$(sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p' <<<"$reply")"
  if [[ -n "$rate" ]] && awk -v r="$rate" 'BEGIN { exit !(r + 0 > 0) }'; then break; fi
  rate=""
done
if [[ -z "$rate" ]]; then
  echo "--- last answer to $query: $reply" >&2
  echo "--- targets: $(curl -s --max-time 5 "$api/api/v1/targets" | head -c 2000)" >&2
  fail "Prometheus did not answer a non-zero $query within 60 s"
fi
echo "ok: Prometheus scraped serve and answers $query = $rate requests/s"
