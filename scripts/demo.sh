#!/usr/bin/env bash
# The main job on the bundled data: trains the paper's BiLSTM and Average encoders with
# additive attention on the SpamAssassin corpus, runs the "Attention is not Explanation"
# analysis on both, and writes one report comparing them.
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
echo "== Does attention explain? (Jain & Wallace 2019: gradients, leave-one-out, permutations, adversarial attention)"
for run in spam-lstm spam-average; do
  "$LUMEN" analyze --run "$RUNS/$run"
done
"$LUMEN" -q report "$RUNS/spam-lstm/analysis" "$RUNS/spam-average/analysis" --out "$RUNS/spam-report.html" \
  --title "Does attention explain? BiLSTM vs Average on SpamAssassin" >/dev/null
echo
echo "Try (the models learned this corpus's e-mails; very short phrases are out of its distribution):"
echo "  $LUMEN predict --run $RUNS/spam-lstm \"Re: [ILUG] sun solaris. On Thu, Aug 22, 2002, fergal moran mentioned: > in a nutshell, solaris is suns own flavour of unix\" \"STOP THE MLM INSANITY Greetings! You are receiving this letter because you have expressed an interest in making money\""
echo
echo "Explore both models in the browser (edit attention, compare them side by side; Ctrl-C stops):"
echo "  $LUMEN serve --run $RUNS/spam-lstm --run $RUNS/spam-average"
echo
echo "Report comparing the two encoders (open it in a browser; it works offline):"
echo "  $(readlink -f "$RUNS/spam-report.html")"
