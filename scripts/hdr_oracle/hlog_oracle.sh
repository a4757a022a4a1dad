#!/usr/bin/env bash
# The .hlog oracle against Java's HdrHistogram (Debian: default-jdk-headless, libhdrhistogram-java).
#   hlog_oracle.sh roundtrip TOOL          (a) our writer's log, read by Java's HistogramLogReader:
#                                              the same buckets, counts, total, max, mean and
#                                              percentiles per interval, and the same uncompressed V2
#                                              bytes; (b) a log Java's HistogramLogWriter compressed
#                                              (real DEFLATE), read by our reader: the same; (c) Java's
#                                              HistogramLogProcessor on our log prints the percentile
#                                              distribution our percentile_distribution() prints
#   hlog_oracle.sh mini_oms TOOL MINI_OMS  `mini_oms loadgen --hlog` against `mini_oms serve`: the log
#                                              HistogramLogProcessor reads gives the percentiles loadgen
#                                              reports
# TOOL is the histogram_log_oracle binary (tests/metrics/histogram_log_oracle.cpp). Exit 77 (ctest:
# skipped) when java, javac or the jar is missing, unless CI or HFT_REQUIRE_ORACLE is set (scripts/test.sh
# sets it): there the test must run.
# HLOG_SEED fixes the random logs' seed (printed on every run).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jar="${HDR_JAR:-/usr/share/java/hdrhistogram.jar}"
mode="${1:?usage: hlog_oracle.sh roundtrip TOOL | mini_oms TOOL MINI_OMS}"
tool="${2:?TOOL missing}"

if ! command -v java >/dev/null || ! command -v javac >/dev/null || [ ! -f "$jar" ]; then
  msg="java, javac or $jar missing: apt-get install default-jdk-headless libhdrhistogram-java"
  if [ -n "${CI:-}${HFT_REQUIRE_ORACLE:-}" ]; then
    echo "FAIL: $msg (CI or HFT_REQUIRE_ORACLE is set, so the oracle must run)"
    exit 1
  fi
  echo "SKIP: $msg"
  exit 77
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
javac -nowarn -cp "$jar" -d "$tmp" "$here/HlogOracle.java"
java_cp="$jar:$tmp"

# HistogramLogProcessor's .hgrm and ours, compared line by line. The "#[Buckets = ..." line
# describes the processor's own accumulating histogram (auto-resized), not the data: skipped.
compare_hgrm() {
  local java_hgrm="$1" ours="$2"
  # The processor adds two comment lines (range, StartTime) before the table.
  if ! diff <(grep -v '^#\[\(Buckets\|Overall\|StartTime\)' "$java_hgrm") <(grep -v '^#\[Buckets' "$ours") >"$tmp/hgrm.diff"; then
    echo "FAIL: HistogramLogProcessor's percentiles differ from ours:"; head -40 "$tmp/hgrm.diff"; exit 1
  fi
}

case "$mode" in
  roundtrip)
    seed="${HLOG_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
    echo "seed: $seed (HLOG_SEED=$seed replays)"
    # (a) ours -> Java
    "$tool" write "$tmp/ours.hlog" "$seed" >"$tmp/ours.dump"
    java -cp "$java_cp" HlogOracle read "$tmp/ours.hlog" >"$tmp/java_read.dump"
    if ! diff "$tmp/ours.dump" "$tmp/java_read.dump" >"$tmp/a.diff"; then
      echo "FAIL (a): Java's HistogramLogReader reads our log differently:"; head -20 "$tmp/a.diff"; exit 1
    fi
    echo "ok (a): $(grep -c '^interval' "$tmp/ours.dump") intervals, $(grep -c '^bucket' "$tmp/ours.dump") buckets read by Java value for value, V2 bytes identical"
    # (b) Java -> ours
    java -cp "$java_cp" HlogOracle write "$tmp/java.hlog" "$seed" >"$tmp/java.dump"
    "$tool" read "$tmp/java.hlog" >"$tmp/ours_read.dump"
    if ! diff "$tmp/java.dump" "$tmp/ours_read.dump" >"$tmp/b.diff"; then
      echo "FAIL (b): our reader reads Java's log differently:"; head -20 "$tmp/b.diff"; exit 1
    fi
    echo "ok (b): $(grep -c '^interval' "$tmp/java.dump") intervals of Java's DEFLATE-compressed log read value for value"
    # (c) HistogramLogProcessor on our log
    java -cp "$java_cp" org.HdrHistogram.HistogramLogProcessor -i "$tmp/ours.hlog" -o "$tmp/proc" >/dev/null
    "$tool" report "$tmp/ours.hlog" >"$tmp/ours.hgrm"
    compare_hgrm "$tmp/proc.hgrm" "$tmp/ours.hgrm"
    echo "ok (c): HistogramLogProcessor's percentile distribution of our log equals ours ($(wc -l <"$tmp/ours.hgrm") lines)"
    ;;
  mini_oms)
    oms="${3:?MINI_OMS missing}"
    "$here/../../tests/mini_oms/hlog_e2e.sh" "$oms" "$tool" "$java_cp" "$tmp"
    ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
