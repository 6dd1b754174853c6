#!/usr/bin/env bash
# The main job on the bundled data: trains the paper's BiLSTM and Average encoders with
# additive attention on the SpamAssassin corpus and prints their test metrics.
set -euo pipefail
LUMEN=${1:-build/lumen}
RUNS=${LUMEN_RUNS:-runs}
# Long e-mails are truncated to 200 tokens and rare words dropped to keep the demo to minutes.
COMMON=(--data spamassassin --attention additive --max-length 200 --min-count 3 --overwrite)
echo "== BiLSTM + additive attention on SpamAssassin"
"$LUMEN" train "${COMMON[@]}" --encoder lstm --out "$RUNS/spam-lstm"
echo "== Average + additive attention on SpamAssassin"
"$LUMEN" train "${COMMON[@]}" --encoder average --out "$RUNS/spam-average"
echo
echo "== Test metrics"
for run in spam-lstm spam-average; do
  "$LUMEN" eval --run "$RUNS/$run" --split test
done
echo
echo "Try: $LUMEN predict --run $RUNS/spam-lstm \"Get cheap meds now, limited offer\" \"Meeting moved to 3pm, see agenda\""
