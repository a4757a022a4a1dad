#!/usr/bin/env bash
# Every hft binary behaves like a good command-line tool (examples/common/cli.hpp):
#   --help          exit 0, the usage on stdout, nothing on stderr
#   unknown flag    exit 2, "error: unknown option" and the usage on stderr
#   bad number      exit 2, the flag's name and "out of range" / "not an integer"
#   unwritable out  exit 2 before any work, with the path and strerror
#   --opt=value     accepted like --opt value
# and the operator's view of mini_oms (issue 38): --version, --config FILE (errors name the
# file and line, flags override it), serve's effective configuration (it reads back as a
# config file), --host names and IPv6, SIGHUP drains, journal_cat refuses a directory with
# no journal, loadgen's progress lines, Ctrl-C (exit 130, a PARTIAL report, valid --json),
# outputs renamed into place (SIGKILL mid-run leaves an earlier result whole), and
# --cpus with a CPU outside the affinity mask (exit 2).
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
  expect "$name" 2 stderr "--cpus: CPU 999 does not exist or is not in this process's affinity mask" -- --cpus 0,999
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

# check NAME CONDITION-TEXT: counts one check; the caller passes 0 (ok) or 1 (failed) in $?.
check() {
  local rc=$? what="$1"
  checks=$((checks + 1))
  if ((rc == 0)); then
    echo "ok   $what"
  else
    failures=$((failures + 1))
    echo "FAIL $what"
    for f in "${@:2}"; do [[ -f "$f" ]] && sed "s#^#     $(basename "$f"): #" "$f" | head -8; done
  fi
}

# start_serve PREFIX ARGS...: `mini_oms serve ARGS` in the background, stdout to PREFIX.out,
# stderr to PREFIX.err; sets serve_pid and serve_port (empty if it did not listen in 20 s).
start_serve() {
  local prefix="$1"
  shift
  "${bin[mini_oms]}" serve --stats-interval-ms 0 "$@" >"$prefix.out" 2>"$prefix.err" &
  serve_pid=$!
  serve_port=""
  for _ in $(seq 200); do
    serve_port="$(sed -n 's/.*listening on .*:\([0-9][0-9]*\) (io.*/\1/p' "$prefix.err" | head -1)"
    [[ -n "$serve_port" ]] && return 0
    kill -0 "$serve_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
# stop_serve SIGNAL: sends it and waits; sets serve_rc.
stop_serve() {
  kill "-$1" "$serve_pid" 2>/dev/null
  wait "$serve_pid"
  serve_rc=$?
}
# The effective configuration serve printed (between its marker lines), without the markers.
effective() { sed -n '/^# mini_oms serve: effective configuration$/,/^# end of configuration$/p' "$1" | sed '1d;$d'; }

if [[ -n "${bin[mini_oms]:-}" ]]; then
  mo="${bin[mini_oms]}"
  # --version: the project's version, the commit, the build type; stdout, exit 0.
  expect mini_oms 0 stdout "mini_oms (hft) " -- --version
  expect mini_oms 0 stdout "commit: " -- --version
  expect mini_oms 0 stdout "build: " -- serve --version

  # --config: values, errors with FILE:LINE, sections as prefixes, flags override the file.
  printf '# a comment\n; another\nport = 0\nworkers = 1\n\n[log]\nlevel = warn\n[]\nbusy-spin = false\nref = "AAPL=187.25"\n' >"$tmp/good.ini"
  printf 'port = 0\n\nno-such-key = 1\n' >"$tmp/badkey.ini"
  printf 'workers = 1\nport = 70000\n' >"$tmp/badvalue.ini"
  printf '[fix]\nport = 70000\n' >"$tmp/badsection.ini"
  printf 'busy-spin = maybe\n' >"$tmp/badflag.ini"
  printf 'port 7001\n' >"$tmp/noequals.ini"
  expect mini_oms 2 stderr "$tmp/badkey.ini:3: unknown key 'no-such-key'" -- serve --config "$tmp/badkey.ini"
  expect mini_oms 2 stderr "$tmp/badvalue.ini:2: --port: 70000 is out of range 0..65535" -- serve --config "$tmp/badvalue.ini"
  expect mini_oms 2 stderr "$tmp/badsection.ini:2: --fix-port: 70000 is out of range -1..65535" -- serve --config="$tmp/badsection.ini"
  expect mini_oms 2 stderr "$tmp/badflag.ini:1: --busy-spin: 'maybe' is not true or false" -- demo --config "$tmp/badflag.ini"
  expect mini_oms 2 stderr "$tmp/noequals.ini:1: expected 'key = value'" -- serve --config "$tmp/noequals.ini"
  expect mini_oms 2 stderr "--config: cannot read $tmp/missing.ini: No such file or directory" -- serve --config "$tmp/missing.ini"
  expect mini_oms 2 stderr "$tmp/badvalue.ini:2: --port: 70000" -- bench --config "$tmp/badvalue.ini"
  expect mini_oms 2 stderr "$tmp/badvalue.ini:2: --port: 70000" -- bench-fix --config "$tmp/badvalue.ini"
  expect mini_oms 2 stderr "$tmp/badvalue.ini:2: --port: 70000" -- replay --config "$tmp/badvalue.ini"

  # serve prints its effective configuration: the file's values, a flag over the file's,
  # and the text reads back as a config file giving the same configuration.
  start_serve "$tmp/s1" --config "$tmp/good.ini" --workers 2 --max-pending 77
  stop_serve TERM
  effective "$tmp/s1.err" >"$tmp/effective1.ini"
  grep -qx 'log-level = warn' "$tmp/effective1.ini" && grep -qx 'ref = AAPL=187.25' "$tmp/effective1.ini" &&
    grep -qx 'port = 0' "$tmp/effective1.ini"
  check "serve prints the config file's values (log-level = warn from [log] level, ref, port)" "$tmp/s1.err"
  grep -qx 'workers = 2' "$tmp/effective1.ini" && grep -qx 'max-pending = 77' "$tmp/effective1.ini"
  check "a flag overrides the config file (workers = 2 over the file's 1)" "$tmp/effective1.ini"
  [[ $(grep -c ' = ' "$tmp/effective1.ini") -ge 25 ]] && grep -qx 'busy-spin = false' "$tmp/effective1.ini" &&
    grep -qx '# journal =' "$tmp/effective1.ini"
  check "the effective configuration lists every option (unset ones as comments)" "$tmp/effective1.ini"
  start_serve "$tmp/s2" --config "$tmp/effective1.ini"
  stop_serve TERM
  effective "$tmp/s2.err" >"$tmp/effective2.ini"
  [[ -s "$tmp/effective1.ini" ]] && cmp -s "$tmp/effective1.ini" "$tmp/effective2.ini"
  check "the effective configuration round-trips as a --config file" "$tmp/effective1.ini" "$tmp/effective2.ini" "$tmp/s2.err"

  # --host: a name and IPv6, for serve and loadgen alike.
  hosts=(localhost)
  if command -v ip >/dev/null && grep -q '::1' <<<"$(ip -6 addr show lo 2>/dev/null)"; then  # no pipe: pipefail
    hosts+=(::1)
  else
    echo "skip --host ::1: no IPv6 loopback (ip -6 addr show lo)"
  fi
  for h in "${hosts[@]}"; do
    start_serve "$tmp/h" --host "$h" --port 0
    timeout 60 "$mo" loadgen --host "$h" --port "${serve_port:-1}" --requests 2000 >"$tmp/h.lg" 2>&1
    lg_rc=$?
    stop_serve TERM
    ((lg_rc == 0 && serve_rc == 0)) && grep -q "verified OK" "$tmp/h.lg"
    check "serve --host $h and loadgen --host $h" "$tmp/h.err" "$tmp/h.lg"
  done
  expect mini_oms 1 stderr "cannot resolve host 'no-such-host.invalid'" -- loadgen --host no-such-host.invalid --port 1

  # SIGHUP drains like SIGTERM: exit 0 and the final report (not death by the signal, 129).
  start_serve "$tmp/hup" --port 0 --journal "$tmp/hup.journal"
  timeout 60 "$mo" loadgen --port "${serve_port:-1}" --requests 1000 >/dev/null 2>&1
  stop_serve HUP
  ((serve_rc == 0)) && grep -q "^server: " "$tmp/hup.out" && grep -q "^journal: " "$tmp/hup.out" &&
    grep -q "signal 1: stop accepting" "$tmp/hup.err"
  check "serve drains on SIGHUP: exit 0 (got $serve_rc), the report and the journal line" "$tmp/hup.out" "$tmp/hup.err"
fi

# journal_cat: a directory with no journal is refused; a journal with nothing from --from is not.
if [[ -n "${bin[journal_cat]:-}" ]]; then
  mkdir -p "$tmp/empty-dir"
  expect journal_cat 2 stderr "--dir /nonexistent-hft-dir/journal: no such directory" -- --dir /nonexistent-hft-dir/journal
  expect journal_cat 2 stderr "--dir $tmp/empty-dir: holds no journal segment" -- --dir "$tmp/empty-dir"
  "${bin[journal_cat]}" --dir "$tmp/jc" --write-sample 3 --quiet >/dev/null 2>&1
  expect journal_cat 0 stderr "no records from sequence 10" -- --dir "$tmp/jc" --from 10
fi

# loadgen: progress lines, Ctrl-C, outputs renamed into place.
if [[ -n "${bin[mini_oms]:-}" ]]; then
  echo '{"earlier": "result"}' >"$tmp/lg.json"
  timeout 60 "$mo" loadgen --target echo --rate 4000 --requests 200000 --json "$tmp/lg.json" --hgrm "$tmp/lg.hgrm" \
    >"$tmp/lg.out" 2>"$tmp/lg.err" &
  lg_pid=$!
  sleep 3.5
  kill -INT "$lg_pid"
  wait "$lg_pid"
  lg_rc=$?
  ((lg_rc == 130)) && grep -q "PARTIAL" "$tmp/lg.out"
  check "loadgen Ctrl-C: exit 130 (got $lg_rc) and a PARTIAL report" "$tmp/lg.out" "$tmp/lg.err"
  [[ $(grep -c "replies/s over the last second" "$tmp/lg.err") -ge 2 ]]
  check "loadgen prints a progress line a second during a 3.5 s run" "$tmp/lg.err"
  [[ -s "$tmp/lg.json" ]] && grep -q '"partial": true' "$tmp/lg.json" &&
    { ! command -v python3 >/dev/null || python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/lg.json"; } &&
    grep -q "Percentile" "$tmp/lg.hgrm"
  check "loadgen Ctrl-C writes its outputs: --json (valid JSON, partial) and --hgrm" "$tmp/lg.json"
  ! ls "$tmp"/lg.json.tmp.* >/dev/null 2>&1
  check "loadgen Ctrl-C leaves no temporary output file"
  echo '{"earlier": "result"}' >"$tmp/kill.json"
  "$mo" loadgen --target echo --rate 4000 --requests 200000 --json "$tmp/kill.json" >/dev/null 2>&1 &
  lg_pid=$!
  sleep 1.5
  kill -KILL "$lg_pid"
  wait "$lg_pid" 2>/dev/null
  grep -q '"earlier": "result"' "$tmp/kill.json"
  check "loadgen killed mid-run (SIGKILL) leaves an earlier --json result whole" "$tmp/kill.json"
  expect mini_oms 2 stderr "--json: cannot open $nowhere.json for writing: No such file or directory" -- loadgen --target echo --json "$nowhere.json"
  expect mini_oms 2 stderr "--scenario: 'nope' is not one of" -- loadgen --target echo --hgrm "$tmp/refused.hgrm" --scenario nope
  ! ls "$tmp"/refused.hgrm* >/dev/null 2>&1
  check "a usage error after an output was opened leaves neither the file nor its temporary"
  expect mini_oms 2 stderr "--cpus: CPU 999 does not exist or is not in this process's affinity mask" -- bench --cpus 999
  expect mini_oms 2 stderr "--cpus: CPU 999 does not exist or is not in this process's affinity mask" -- serve --cpus 999
fi

echo "cli_test: $checks checks, $failures failures"
((failures == 0))
