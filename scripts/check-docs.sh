#!/usr/bin/env bash
# Compiles every fenced ```cpp block of README.md and docs/**/*.md (the convention is in
# docs/style.md, "Code blocks in docs"):
#   - each block is its own translation unit, compiled by g++ and clang++ with
#     -std=c++20 -Wall -Wextra -Werror -pthread -I include;
#   - a block containing `int main(` is linked and run (20 s timeout, must exit 0) in an empty
#     directory of its own, which is also its TMPDIR; other blocks are compiled with -c;
#   - hidden context is an HTML comment on the line(s) right before the fence:
#       <!-- doc-test: prelude ...lines... -->  lines prepended to the block
#       <!-- doc-test: body [...lines...] -->   the block goes inside `void doc_test_body() { ... }`
#                                               (after the optional prelude lines)
#       <!-- doc-test: skip <reason> -->        not compiled; listed with its reason
# Blocks in other languages are not compiled. `#line` directives map diagnostics to page:line.
#
# Usage: bash scripts/check-docs.sh [PAGE.md ...]      (default: README.md and docs/**/*.md)
# Environment: CHECK_DOCS_COMPILERS (default "g++ clang++"), CHECK_DOCS_JOBS (default nproc),
#              CHECK_DOCS_TIMEOUT (seconds a linked block may run, default 20).
# Exit 1 on any failure (compile, link, run, or a malformed doc-test comment).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

pages=()
for p in "$@"; do
  if [[ ! -f "$p" ]]; then
    echo "check-docs: no such file: $p" >&2
    exit 2
  fi
  pages+=("$(realpath --relative-to="$root" "$p")")
done
cd "$root" || exit 2
if ((${#pages[@]} == 0)); then
  mapfile -t pages < <({ echo README.md; find docs -name '*.md'; } | sort)
fi

read -r -a compilers <<<"${CHECK_DOCS_COMPILERS:-g++ clang++}"
for cc in "${compilers[@]}"; do
  if ! command -v "$cc" >/dev/null; then
    echo "check-docs: compiler '$cc' not found (set CHECK_DOCS_COMPILERS to override)" >&2
    exit 2
  fi
done
jobs="${CHECK_DOCS_JOBS:-$(nproc)}"
export CHECK_DOCS_TIMEOUT="${CHECK_DOCS_TIMEOUT:-20}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/check-docs.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blocks" "$tmp/res"

# Extraction: writes blocks/<id>.cpp, manifest (id page line mode), skips (page:line reason)
# and errors (malformed doc-test comments).
if ! python3 - "$tmp" "${pages[@]}" <<'PY'
import os, re, sys

tmp, pages = sys.argv[1], sys.argv[2:]
fence_open = re.compile(r'^(\s*)(```+)([^`\s]*)\s*$')
manifest, skips, errors = [], [], []
n = 0

def parse_comment(lines, fence_idx):
    """Returns (kind, text, first_content_line_no, comment_line_no) for the doc-test comment
    ending on the line right before the fence, or None."""
    i = fence_idx - 1
    if i < 0 or not lines[i].rstrip().endswith('-->'):
        return None
    j = i
    while j >= 0 and '<!--' not in lines[j]:
        j -= 1
    if j < 0:
        return None
    start = lines[j].strip()
    if not start.startswith('<!-- doc-test:'):
        return None
    comment = [l.rstrip('\n') for l in lines[j:i + 1]]
    comment[0] = comment[0].strip()[len('<!-- doc-test:'):]
    comment[-1] = comment[-1].rstrip()[:-3]
    m = re.match(r'\s*(\S+)\s?(.*)$', comment[0])
    if not m:
        return ('', '', j + 1, j + 1)
    kind, first = m.group(1), m.group(2)
    if kind == 'skip':
        reason = ' '.join(x.strip() for x in [first] + comment[1:]).strip()
        return (kind, reason, j + 1, j + 1)
    body = ([first] if first.strip() else []) + comment[1:]
    first_no = j + 1 if first.strip() else j + 2
    return (kind, '\n'.join(body), first_no, j + 1)

for page in pages:
    with open(page, encoding='utf-8') as f:
        lines = f.readlines()
    attached, in_fence = set(), set()
    i = 0
    while i < len(lines):
        m = fence_open.match(lines[i])
        if not m:
            i += 1
            continue
        ticks, lang = m.group(2), m.group(3)
        # CommonMark: the closing fence has at least as many backticks and nothing else
        close = re.compile(r'^\s*' + ticks + r'`*\s*$')
        k = i + 1
        while k < len(lines) and not close.match(lines[k]):
            k += 1
        in_fence.update(range(i + 1, k + 2))
        if lang not in ('cpp', 'c++'):
            i = k + 1
            continue
        if k >= len(lines):
            errors.append(f'{page}:{i + 1}: ```cpp block is never closed')
            break
        block = lines[i + 1:k]  # indentation kept, so diagnostics' columns match the page
        c = parse_comment(lines, i)
        prelude, prelude_no, mode_body = '', 0, False
        if c:
            kind, text, first_no, comment_no = c
            attached.add(comment_no)
            if kind == 'skip':
                if not text:
                    errors.append(f'{page}:{comment_no}: doc-test: skip needs a reason')
                skips.append(f'{page}:{i + 1}: {text}')
                i = k + 1
                continue
            if kind not in ('prelude', 'body'):
                errors.append(f'{page}:{comment_no}: unknown doc-test kind {kind!r} '
                              '(prelude, body or skip)')
                i = k + 1
                continue
            prelude, prelude_no, mode_body = text, first_no, kind == 'body'
        src = ''.join(block)
        run = 'int main(' in src
        if run and mode_body:
            errors.append(f'{page}:{i + 1}: a doc-test: body block cannot define int main(')
            i = k + 1
            continue
        n += 1
        out = []
        if prelude.strip():
            out.append(f'#line {prelude_no} "{page}"\n{prelude}\n')
        if mode_body:
            out.append('void doc_test_body() {\n')
        out.append(f'#line {i + 2} "{page}"\n{src}')
        if mode_body:
            out.append('\n}\n')
        with open(os.path.join(tmp, 'blocks', f'{n:04d}.cpp'), 'w', encoding='utf-8') as f:
            f.write(''.join(out))
        manifest.append(f'{n:04d}\t{page}\t{i + 1}\t{"run" if run else "compile"}')
        i = k + 1
    for no, l in enumerate(lines, 1):
        if l.lstrip().startswith('<!-- doc-test') and no not in attached and no not in in_fence:
            errors.append(f'{page}:{no}: doc-test comment not directly before a ```cpp fence')

for name, rows in (('manifest', manifest), ('skips', skips), ('errors', errors)):
    with open(os.path.join(tmp, name), 'w', encoding='utf-8') as f:
        f.write(''.join(r + '\n' for r in rows))
PY
then
  echo "check-docs: extraction failed" >&2
  exit 2
fi

# One job per (block, compiler): compile (-c) or link and run; the result file holds the log.
check_one() {
  local tmp="$1" id="$2" mode="$3" cc="$4"
  [[ -d "$tmp/blocks" && -n "$id" ]] || return 1
  local tag="$id.${cc//\//_}" src="$tmp/blocks/$id.cpp" log work
  log="$tmp/res/$tag.log"
  work="$tmp/work/$tag"
  mkdir -p "$work"
  local flags=(-std=c++20 -Wall -Wextra -Werror -pthread -I "$PWD/include")
  if [[ "$mode" == compile ]]; then
    if "$cc" "${flags[@]}" -c "$src" -o "$work/a.o" >"$log" 2>&1; then touch "$tmp/res/$tag.ok"; fi
  else
    if ! "$cc" "${flags[@]}" "$src" -o "$work/a.out" >"$log" 2>&1; then
      echo "(compile/link failed)" >>"$log"
    # Its own empty directory, also as TMPDIR: the g++ and clang++ runs of a block run at
    # once, so files under temp_directory_path() must not collide.
    elif (cd "$work" && TMPDIR="$work" timeout "$CHECK_DOCS_TIMEOUT" ./a.out >>"$log" 2>&1); then
      touch "$tmp/res/$tag.ok"
    else
      local rc=$?
      if ((rc == 124)); then
        echo "(run: timed out after ${CHECK_DOCS_TIMEOUT} s)" >>"$log"
      else
        echo "(run: exit status $rc)" >>"$log"
      fi
    fi
  fi
  rm -rf "$work"
}
export -f check_one

start=$SECONDS
while IFS=$'\t' read -r id _ _ mode; do
  for cc in "${compilers[@]}"; do printf '%s\0%s\0%s\0%s\0' "$tmp" "$id" "$mode" "$cc"; done
done <"$tmp/manifest" | xargs -0 -r -n 4 -P "$jobs" bash -c 'check_one "$@"' _

fail=0 nrun=0 ncompile=0
while IFS=$'\t' read -r id page line mode; do
  if [[ "$mode" == run ]]; then ((nrun++)); else ((ncompile++)); fi
  for cc in "${compilers[@]}"; do
    tag="$id.${cc//\//_}"
    if [[ ! -e "$tmp/res/$tag.ok" ]]; then
      fail=1
      echo "FAIL $page:$line ($cc, $([[ $mode == run ]] && echo 'link+run' || echo 'compile'))"
      sed 's/^/    /' "$tmp/res/$tag.log" | head -60
    fi
  done
done <"$tmp/manifest"

while IFS= read -r e; do
  [[ -n "$e" ]] || continue
  fail=1
  echo "FAIL $e"
done <"$tmp/errors"
while IFS= read -r s; do
  [[ -n "$s" ]] && echo "SKIP $s"
done <"$tmp/skips"

nskip=$(grep -c . "$tmp/skips")
echo "check-docs: $((nrun + ncompile)) blocks ($nrun linked and run, $ncompile compiled), $nskip skipped," \
  "${#compilers[@]} compilers, ${#pages[@]} pages, $((SECONDS - start)) s"
if ((fail)); then
  echo "check-docs: FAILED" >&2
  exit 1
fi
echo "check-docs: every cpp block compiles"
