#!/usr/bin/env bash
# `--threads` as a user meets it: `lumen train` (8 epochs, BiLSTM, paper defaults) on a 4,000-text
# CSV and `lumen analyze` of its test split, with the default, --threads 1 and --threads N (N =
# this machine's cores). Runs are interleaved, REPEATS times each (the machine is noisy); prints
# the median, min and max seconds per setting and the ratio of each setting to the default in
# the same round (median and range over the rounds). --threads N must never be slower than the
# default.
# Usage: bench/threads.sh [LUMEN] [REPEATS]    (make bench-threads)
set -euo pipefail
LUMEN=${1:-build/lumen}
REPEATS=${2:-3}
CORES=$(nproc)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 4,000 texts of 18-34 words: filler words, and 1-3 cue words of the text's class.
awk 'BEGIN {
  srand(7); print "text,label";
  for (i = 0; i < 4000; i++) {
    label = i % 2; n = 18 + int(rand() * 17); cues = 1 + int(rand() * 3); text = "";
    for (k = 0; k < n; k++) {
      w = (k < cues) ? (label ? "good" : "bad") int(rand() * 20) : "w" int(rand() * 3000);
      text = text (k ? " " : "") w;
    }
    print "\"" text "\"," (label ? "pos" : "neg");
  }
}' > "$WORK/texts.csv"
# The cue words are letters + digits ("good7"): the default number rule keeps them.

settings=("default" "1" "$CORES")
declare -A train_s analyze_s
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'; }
for ((r = 1; r <= REPEATS; r++)); do
  for s in "${settings[@]}"; do
    flag=(); [ "$s" = default ] || flag=(--threads "$s")
    run="$WORK/run-$s"
    t=$(seconds "$LUMEN" -q "${flag[@]}" train --data "$WORK/texts.csv" --out "$run" --overwrite --epochs 8)
    a=$(seconds "$LUMEN" -q "${flag[@]}" analyze --run "$run" --out "$WORK/analysis-$s")
    train_s[$s]+="$t "; analyze_s[$s]+="$a "
    printf 'round %d %-8s train %6.1f s  analyze %5.1f s\n' "$r" "$s" "$t" "$a"
  done
done

stats() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {printf "median %6.2f  min %6.2f  max %6.2f", v[int((NR+1)/2)], v[1], v[NR]}'; }
ratios() {  # per round: setting / default
  local -a a b; read -r -a a <<< "$1"; read -r -a b <<< "$2"
  for i in "${!a[@]}"; do awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN {print x / y}'; done | tr '\n' ' '
}
echo
echo "machine: $CORES cores; $REPEATS rounds; seconds per command"
for job in train analyze; do
  for s in "${settings[@]}"; do
    if [ "$job" = train ]; then v=${train_s[$s]}; d=${train_s[default]}; else v=${analyze_s[$s]}; d=${analyze_s[default]}; fi
    label=$([ "$s" = default ] && echo "default" || echo "--threads $s")
    printf '%-8s %-12s %s   ratio to default: %s\n' "$job" "$label" "$(echo "$v" | stats)" "$(ratios "$v" "$d" | stats)"
  done
done
