#!/bin/sh
# train-model.sh [BIN] - retrain the shipped verdict model data/model.txt
# from the train part of the seeded split (tests/corpus/verdict_split.py)
# of ../shared/data: phishing_pot as malicious, SpamAssassin easy and hard
# ham as legitimate, spam-1 as spam. The dev and test parts are never read.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${1:-$ROOT/build/shield}"
OUT="$ROOT/build/corpus"
for f in phishing_pot-dev spamassassin-dev; do
	if [ ! -d "$OUT/$f" ]; then
		mkdir -p "$OUT/$f"
		tar -I zstd -xf "$ROOT/../shared/data/$f.tar.zst" -C "$OUT/$f"
	fi
done
[ -d "$OUT/verdict-split/train" ] || python3 "$ROOT/tests/corpus/verdict_split.py" "$OUT" "$OUT/verdict-split"
S=build/corpus/verdict-split/train
cd "$ROOT"
"$BIN" train --ham $S/easy_ham --ham $S/hard_ham --phish $S/phishing_pot --spam $S/spam \
	--seed 1 --epochs 12 -o data/model.txt
