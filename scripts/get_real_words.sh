#!/usr/bin/env bash
# Fetch the real fingerspelling evaluation set (github.com/SakuraGone/ASL_Finger_Spelling) into an
# ignored folder: test_word_original/ (40 words, 4 signers) and test_original/ (A-Z by each signer).
# The repository has no licence: use it to evaluate and compare models only. Never commit the
# videos or anything made from them (landmarks included), and never train on them.
#
#   scripts/get_real_words.sh [SOURCE] [DEST]
# SOURCE: a clone URL or a local git directory (bare, mirror or checkout); default the GitHub URL.
# DEST:   default var/real-words (ignored by git). Then: asl-gpt eval --data real-words DEST
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${1:-https://github.com/SakuraGone/ASL_Finger_Spelling.git}
DEST=${2:-var/real-words}
PARTS=(test_word_original test_original)

tmp=""
cleanup() { [ -n "$tmp" ] && rm -rf "$tmp"; }
trap cleanup EXIT
if [ -d "$SRC" ]; then
  gitdir=$(git -C "$SRC" rev-parse --absolute-git-dir 2>/dev/null || true)
  [ -n "$gitdir" ] || { echo "error: $SRC is not a git directory" >&2; exit 2; }
else
  tmp=$(mktemp -d)
  echo "cloning $SRC ..."
  git clone -q --bare --depth 1 "$SRC" "$tmp/repo.git" || { echo "error: could not clone $SRC" >&2; exit 2; }
  gitdir="$tmp/repo.git"
fi
mkdir -p "$DEST"
git --git-dir="$gitdir" archive --format=tar HEAD "${PARTS[@]}" | tar -x -C "$DEST"
n_words=$(ls "$DEST/test_word_original" | wc -l)
n_letters=$(ls "$DEST/test_original" | wc -l)
echo "$DEST: $n_words word videos, $n_letters letter clips (evaluation only; never commit them)"
