#!/usr/bin/env bash
# Model-checks FamilyScheduler's completion protocol with spin (Debian package `spin`):
# docs/scheduling/family_scheduler.pml for 2 workers, 2, 3 and 4 tasks, slices 1, 2 and 3. The
# correct model must verify with no errors; the -DBROKEN mutation must be caught, which
# shows the checks can fail.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
model="$here/docs/scheduling/family_scheduler.pml"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

verify() {  # verify <defines...>; prints spin's summary line, returns pan's error count
  spin -a "$@" "$model" >/dev/null
  gcc -O2 -w -DSAFETY -o pan pan.c
  ./pan -m100000 >out.txt 2>&1 || true
  local errors
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' out.txt | head -1)
  local states
  states=$(sed -n 's/^ *\([0-9e.+]*\) states, stored.*/\1/p' out.txt | head -1)
  echo "  spin $* : errors=${errors:-?} states=${states:-?}" >&2
  [[ -n "$errors" ]] || { cat out.txt >&2; exit 1; }
  return "$errors"
}

fail=0
for nt in 2 3 4; do
  for slice in 1 2 3; do
    if ! verify -DNT=$nt -DW=2 -DSLICE=$slice; then
      echo "FAIL: the FamilyScheduler model has a violation (NT=$nt SLICE=$slice)" >&2
      cat out.txt >&2
      fail=1
    fi
  done
done
if verify -DNT=3 -DW=2 -DSLICE=1 -DBROKEN; then
  echo "FAIL: the broken mutation verified clean: the model no longer checks anything" >&2
  fail=1
fi
[[ $fail -eq 0 ]] && echo "family_scheduler.pml: protocol verified; the broken mutation is caught"
exit $fail
