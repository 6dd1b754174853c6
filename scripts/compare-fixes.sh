#!/usr/bin/env bash
# Trains the vanilla BiLSTM and each fix of the attention debate on one dataset, then compares
# them with `lumen compare` (docs/attention_debate.md). Usage:
#   scripts/compare-fixes.sh DATA OUT [extra train flags...]
# e.g. scripts/compare-fixes.sh synthetic-keywords runs/kw
#      scripts/compare-fixes.sh spamassassin runs/spam --max-length 200 --min-count 3
# FIXES names the fixes to train besides vanilla (default: all of them); rationale supervision
# is trained only when the data has rationales (RATIONALE=0 skips it). FAITHFULNESS is the
# weight of Moradi et al.'s objective, trained from scratch ("faithful") and as their reference
# code does it, fine-tuning the trained vanilla run ("finetuned").
set -euo pipefail
LUMEN=${LUMEN:-build/lumen}
DATA=$1
OUT=$2
shift 2
EXTRA=("$@")
LIMIT=${LIMIT:-200}
LAMBDA=${LAMBDA:-0.1}
RATIONALE=${RATIONALE:-1}
FAITHFULNESS=${FAITHFULNESS:-1}
FIXES=${FIXES:-ortho diversity rationale adversary faithful finetuned}
has() { [[ " $FIXES " == *" $1 "* ]]; }
mkdir -p "$OUT"
train() {
  local name=$1
  shift
  echo "== $name"
  "$LUMEN" -q train --data "$DATA" --out "$OUT/$name" --overwrite "${EXTRA[@]}" "$@"
}
train vanilla
runs=("$OUT/vanilla")
if has ortho; then train ortho --encoder ortho-lstm; runs+=("$OUT/ortho"); fi
if has diversity; then train diversity --encoder diversity-lstm; runs+=("$OUT/diversity"); fi
if has rationale && [ "$RATIONALE" = 1 ]; then
  train rationale --rationale-weight 1
  runs+=("$OUT/rationale")
fi
if has adversary; then
  echo "== adversary (lambda $LAMBDA)"
  "$LUMEN" -q train --adversary-of "$OUT/vanilla" --adversary-lambda "$LAMBDA" --out "$OUT/adversary" --overwrite
  runs+=("$OUT/adversary")
fi
if has faithful; then train faithful --faithfulness-weight "$FAITHFULNESS"; runs+=("$OUT/faithful"); fi
if has finetuned; then
  echo "== finetuned (faithfulness $FAITHFULNESS from vanilla)"
  "$LUMEN" -q train --init-from "$OUT/vanilla" --faithfulness-weight "$FAITHFULNESS" --out "$OUT/finetuned" --overwrite
  runs+=("$OUT/finetuned")
fi
"$LUMEN" compare --runs "${runs[@]}" --limit "$LIMIT" --out "$OUT/compare"
