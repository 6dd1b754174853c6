#!/usr/bin/env bash
# Trains the vanilla BiLSTM and each fix of the attention debate on one dataset, then compares
# them with `lumen compare` (docs/attention_debate.md). Usage:
#   scripts/compare-fixes.sh DATA OUT [extra train flags...]
# e.g. scripts/compare-fixes.sh synthetic-keywords runs/kw
#      scripts/compare-fixes.sh spamassassin runs/spam --max-length 200 --min-count 3
# Rationale supervision is trained only when the data has rationales (RATIONALE=0 skips it).
set -euo pipefail
LUMEN=${LUMEN:-build/lumen}
DATA=$1
OUT=$2
shift 2
EXTRA=("$@")
LIMIT=${LIMIT:-200}
LAMBDA=${LAMBDA:-0.1}
RATIONALE=${RATIONALE:-1}
mkdir -p "$OUT"
train() {
  local name=$1
  shift
  echo "== $name"
  "$LUMEN" -q train --data "$DATA" --out "$OUT/$name" --overwrite "${EXTRA[@]}" "$@"
}
train vanilla
train ortho --encoder ortho-lstm
train diversity --encoder diversity-lstm
runs=("$OUT/vanilla" "$OUT/ortho" "$OUT/diversity")
if [ "$RATIONALE" = 1 ]; then
  train rationale --rationale-weight 1
  runs+=("$OUT/rationale")
fi
echo "== adversary (lambda $LAMBDA)"
"$LUMEN" -q train --adversary-of "$OUT/vanilla" --adversary-lambda "$LAMBDA" --out "$OUT/adversary" --overwrite
runs+=("$OUT/adversary")
"$LUMEN" compare --runs "${runs[@]}" --limit "$LIMIT" --out "$OUT/compare"
