#!/usr/bin/env bash
# `mini_oms loadgen --hlog` and `mini_oms serve --hlog` against HdrHistogram's HistogramLogProcessor
# (run by scripts/hdr_oracle/hlog_oracle.sh mini_oms, which checks for java and compiles nothing here).
#   hlog_e2e.sh MINI_OMS TOOL JAVA_CLASSPATH TMPDIR
# 1. A flag that cannot work refuses to start: an unwritable --hlog path, and serve --hlog without a
#    stats interval, exit non-zero with a message before any run.
# 2. serve --hlog (stats every 200 ms) and loadgen --hlog (intervals of 100 ms) over loopback: the
#    loadgen log, read by HistogramLogProcessor (-outputValueUnitRatio 1000: microseconds), gives the
#    percentile distribution loadgen reports in --hgrm, line for line (HdrHistogram's value
#    equivalence: both print each bucket's highest equivalent value); the serve log has one interval
#    per stats interval and is read by Java and by ours.
set -euo pipefail
oms="$1" tool="$2" cp="$3" tmp="$4"

# 1. refusals
if "$oms" loadgen --target echo --hlog /nonexistent-dir/x.hlog >"$tmp/refuse.out" 2>&1; then
  echo "FAIL: loadgen accepted an unwritable --hlog path"; exit 1
fi
grep -q "cannot open /nonexistent-dir/x.hlog" "$tmp/refuse.out" || { echo "FAIL: no clear error:"; cat "$tmp/refuse.out"; exit 1; }
if "$oms" serve --port 0 --stats-interval-ms 0 --hlog "$tmp/s0.hlog" >"$tmp/refuse2.out" 2>&1; then
  echo "FAIL: serve accepted --hlog without a stats interval"; exit 1
fi
grep -q "needs --stats-interval-ms" "$tmp/refuse2.out" || { echo "FAIL: no clear error:"; cat "$tmp/refuse2.out"; exit 1; }
echo "ok: unusable --hlog flags refuse to start"

# 2. serve + loadgen
"$oms" serve --port 0 --stats-interval-ms 200 --hlog "$tmp/serve.hlog" >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\) (io.*/\1/p;T;q' "$tmp/serve.err")  # a whole line: the logger may be mid-write
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { kill "$pid"; echo "FAIL: serve did not start"; cat "$tmp/serve.err"; exit 1; }
"$oms" loadgen --port "$port" --requests 60000 --rate 40000 --hlog "$tmp/loadgen.hlog" --hlog-interval-ms 100 \
  --hgrm "$tmp/loadgen.hgrm" >"$tmp/loadgen.out"
sleep 0.5
kill -TERM "$pid"
wait "$pid"
cat "$tmp/loadgen.out"

intervals=$(grep -cv '^[#"]' "$tmp/loadgen.hlog")
[ "$intervals" -ge 5 ] || { echo "FAIL: loadgen wrote $intervals intervals"; exit 1; }
java -cp "$cp" org.HdrHistogram.HistogramLogProcessor -i "$tmp/loadgen.hlog" -o "$tmp/proc" \
  -outputValueUnitRatio 1000 >/dev/null
filter() { grep -v '^#\[\(Buckets\|Overall\|StartTime\)' "$1"; }
if ! diff <(filter "$tmp/proc.hgrm") <(filter "$tmp/loadgen.hgrm") >"$tmp/e2e.diff"; then
  echo "FAIL: HistogramLogProcessor's percentiles of the loadgen log differ from loadgen's report:"
  head -30 "$tmp/e2e.diff"; exit 1
fi
echo "ok: loadgen's $intervals intervals, read by HistogramLogProcessor, give loadgen's percentiles ($(filter "$tmp/proc.hgrm" | wc -l) lines)"

serve_intervals=$(grep -cv '^[#"]' "$tmp/serve.hlog")
[ "$serve_intervals" -ge 2 ] || { echo "FAIL: serve wrote $serve_intervals intervals"; exit 1; }
java -cp "$cp" HlogOracle read "$tmp/serve.hlog" >"$tmp/serve_java.dump"
"$tool" read "$tmp/serve.hlog" >"$tmp/serve_ours.dump"
# Java's reader keeps interval times as whole milliseconds, truncated ((long) (seconds * 1000)),
# so a start or length like 0.202 may come back as 0.201: the times are left out here (the
# roundtrip oracle compares them on whole seconds); every histogram value is compared.
untimed() { sed -E 's/ start=[^ ]+ length=[^ ]+//' "$1"; }
if ! diff <(untimed "$tmp/serve_java.dump") <(untimed "$tmp/serve_ours.dump") >"$tmp/serve.diff"; then
  echo "FAIL: the serve log reads differently in Java:"; head -20 "$tmp/serve.diff"; exit 1
fi
total=$(awk '/^interval/ { sub("total=", "", $5); s += $5 } END { print s }' "$tmp/serve_ours.dump")
[ "$total" -ge 60000 ] || { echo "FAIL: the serve log holds $total executions, expected >= 60000"; exit 1; }
echo "ok: serve's $serve_intervals intervals ($total executions) read the same by Java and by us"
