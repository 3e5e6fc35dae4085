#!/bin/bash
# Issue 20, item 1, by hand (not in CI: it needs strace): ENOSPC injected on the Nth write()
# of `newsbot index build --full`, for every N; after each, whether the build failed cleanly
# and whether `newsbot ask` still answers. Prints one line per N.
# Usage: scripts/strace_write_sweep.sh [newsbot executable]   (from the repository root)
set -u
NB=${1:-.venv/bin/newsbot}
W=$(mktemp -d /tmp/newsbot-strace-XXXXXX)
cp -r corpus "$W/corpus"
export NEWSBOT_CORPUS=$W/corpus NEWSBOT_INDEX=$W/index
"$NB" index build >/dev/null 2>&1 || { echo "baseline build failed"; exit 1; }
strace -f -qq -e trace=write -o "$W/count.txt" "$NB" index build --full >/dev/null 2>&1
TOTAL=$(grep -c 'write(' "$W/count.txt")
echo "writes in a full build: $TOTAL"
for N in $(seq 1 "$TOTAL"); do
  strace -f -qq -o /dev/null -e inject=write:error=ENOSPC:when="$N" \
    "$NB" index build --full >"$W/out" 2>"$W/err"
  RC=$?
  LAST=$(grep -v '^\s*$' "$W/err" | tail -1 | cut -c1-150)
  ANS=$("$NB" ask "Who is Ryan Ding?" 2>/dev/null | head -1 | cut -c1-60)
  ARC=${PIPESTATUS[0]}
  TB=$(grep -c Traceback "$W/err")
  echo "N=$N build_rc=$RC traceback=$TB ask_rc=$ARC answer=[$ANS] last=[$LAST]"
done
rm -rf "$W"
