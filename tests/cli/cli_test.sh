#!/usr/bin/env bash
# Every hft binary behaves like a good command-line tool (examples/common/cli.hpp):
#   --help          exit 0, the usage on stdout, nothing on stderr
#   unknown flag    exit 2, "error: unknown option" and the usage on stderr
#   bad number      exit 2, the flag's name and "out of range" / "not an integer"
#   unwritable out  exit 2 before any work, with the path and strerror
#   --opt=value     accepted like --opt value
# Usage: cli_test.sh NAME=PATH ...  (CMake passes every binary it built)
set -uo pipefail
declare -A bin
for kv in "$@"; do bin["${kv%%=*}"]="${kv#*=}"; done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0 checks=0

# expect NAME CODE PATTERN(stdout|stderr) TEXT -- ARGS...: runs the binary, checks the exit
# code and that TEXT occurs (fixed string) in the named stream.
expect() {
  local name="$1" code="$2" stream="$3" text="$4"
  shift 5
  local exe="${bin[$name]:-}"
  [[ -n "$exe" ]] || return 0  # not built in this configuration (e.g. a benchmark's anchors missing)
  checks=$((checks + 1))
  timeout 60 "$exe" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local ok=1
  [[ $rc -eq $code ]] || ok=0
  if [[ "$stream" == stdout ]]; then grep -qF -- "$text" "$tmp/out" || ok=0; else grep -qF -- "$text" "$tmp/err" || ok=0; fi
  if [[ $code -eq 0 && "$stream" == stdout && -s "$tmp/err" ]]; then ok=0; fi  # --help: stderr stays empty
  if ((ok)); then
    echo "ok   $name $*  -> $rc"
  else
    failures=$((failures + 1))
    echo "FAIL $name $*  -> exit $rc (want $code, '$text' on $stream)"
    sed 's/^/     stdout: /' "$tmp/out" | head -5
    sed 's/^/     stderr: /' "$tmp/err" | head -5
  fi
}

nowhere=/nonexistent-hft-dir/out   # its directory does not exist: open() fails with ENOENT

# Every binary: --help and an unknown flag.
for name in "${!bin[@]}"; do
  expect "$name" 0 stdout "usage:" -- --help
  expect "$name" 2 stderr "error: unknown option '--no-such-flag'" -- --no-such-flag
  expect "$name" 2 stderr "usage:" -- --no-such-flag
done

# Benchmarks (the harness): numbers, the JSON path, --opt=value.
for name in bench_queues bench_disruptor bench_memory bench_metrics bench_sched bench_book bench_analytics; do
  expect "$name" 2 stderr "--runs: 3 is out of range 7..1000" -- --runs 3
  expect "$name" 2 stderr "--runs: 'abc' is not an integer" -- --runs abc
  expect "$name" 2 stderr "--runs: 'abc' is not an integer" -- --runs=abc
  expect "$name" 2 stderr "--cpus: 'x' is not an integer" -- --cpus x
  expect "$name" 2 stderr "--json: cannot open $nowhere.json for writing: No such file or directory" -- --json "$nowhere.json"
  expect "$name" 2 stderr "--json needs a value" -- --json
done

# Examples.
expect one_to_one 2 stderr "--events: 0 is out of range" -- --events 0
expect one_to_one 2 stderr "--events: -5 is out of range" -- --events=-5
expect one_to_one 0 stdout "OK" -- --events=1000
expect diamond 2 stderr "--events: '12x' is not an integer" -- --events 12x
expect allocation_p99 2 stderr "--rate-per-sec: 0 is out of range" -- --rate-per-sec 0
expect allocation_p99 2 stderr "--messages: 99999999999999999999999 is out of range" -- --messages 99999999999999999999999
expect latency_report 2 stderr "--out: cannot open $nowhere.hgrm for writing: No such file or directory" -- --out "$nowhere"
expect latency_report 0 stdout "wrote $tmp/lr.hgrm" -- --quick --out="$tmp/lr"
expect queue_pipeline 2 stderr "--quick takes no value" -- --quick=1

# mini_oms: the commands and their options.
expect mini_oms 0 stdout "commands:" -- help
expect mini_oms 2 stderr "error: unknown command 'bogus'" -- bogus
for cmd in demo serve loadgen bench; do
  expect mini_oms 0 stdout "usage: mini_oms $cmd" -- "$cmd" --help
  expect mini_oms 2 stderr "error: unknown option '--no-such-flag'" -- "$cmd" --no-such-flag
done
expect mini_oms 2 stderr "--port: 70000 is out of range 0..65535" -- serve --port 70000
expect mini_oms 2 stderr "--port: 70000 is out of range 0..65535" -- serve --port=70000
expect mini_oms 2 stderr "--cpus: 'x' is not an integer" -- serve --cpus x
expect mini_oms 2 stderr "--workers: 0 is out of range" -- demo --workers 0
expect mini_oms 2 stderr "--dispatch: 'sideways' is not one of auto, ring, inline" -- serve --dispatch sideways
expect mini_oms 2 stderr "--runs: 'abc' is not an integer" -- bench --runs abc
expect mini_oms 2 stderr "--json: cannot open $nowhere.json for writing: No such file or directory" -- bench --json "$nowhere.json"
expect mini_oms 2 stderr "--hgrm: cannot open $nowhere.hgrm for writing" -- loadgen --target echo --hgrm "$nowhere.hgrm"
expect mini_oms 2 stderr "--svg: cannot open $nowhere.svg for writing" -- loadgen --target echo --svg "$nowhere.svg"
expect mini_oms 2 stderr "--port is required" -- loadgen
expect mini_oms 2 stderr "--scenario: 'nope' is not one of" -- loadgen --target echo --scenario nope
expect mini_oms 0 stdout "verified OK" -- loadgen --target=echo --requests=2000 --hgrm="$tmp/rtt.hgrm"
if [[ -n "${bin[mini_oms]:-}" ]]; then
  checks=$((checks + 1))
  if grep -q "Percentile" "$tmp/rtt.hgrm"; then echo "ok   loadgen wrote the .hgrm"; else echo "FAIL loadgen --hgrm wrote nothing"; failures=$((failures + 1)); fi
fi

echo "cli_test: $checks checks, $failures failures"
((failures == 0))
