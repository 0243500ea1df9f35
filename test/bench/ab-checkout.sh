#!/usr/bin/env bash
# Builds a throw-away copy of the repository for `npm run bench -- --ab A,B`:
#   test/bench/ab-checkout.sh DEST [REV] [PATCH]
# DEST gets `git archive REV` (default HEAD), then PATCH applied (a `git diff` file), then a
# node_modules of links to this checkout's packages (no install) with the workspace packages
# pointing at DEST's own libs/ and services/, then `tsc -b` and the bench's own build.
# Nothing in this checkout (.git, node_modules) is changed.
set -euo pipefail
dest=${1:?usage: ab-checkout.sh DEST [REV] [PATCH]}
rev=${2:-HEAD}
patch=${3:-}
root=$(cd "$(dirname "$0")/../.." && pwd)

rm -rf "$dest"
mkdir -p "$dest/node_modules/@qsys-mcp"
git -C "$root" archive "$rev" | tar -x -C "$dest"
if [ -n "$patch" ]; then (cd "$dest" && patch -p1 --quiet < "$patch"); fi
# What the bench reports as "built from" (there is no .git in DEST).
echo "$(git -C "$root" rev-parse --short "$rev")${patch:+ + $(basename "$patch")}" > "$dest/.bench-source"

for entry in "$root"/node_modules/* "$root"/node_modules/.bin; do
  name=$(basename "$entry")
  [ "$name" = "@qsys-mcp" ] && continue
  ln -s "$entry" "$dest/node_modules/$name"
done
for pkg in "$dest"/libs/* "$dest"/services/*; do
  name=$(node -p "require('$pkg/package.json').name.split('/')[1]")
  ln -s "../../${pkg#"$dest"/}" "$dest/node_modules/@qsys-mcp/$name"
done

cd "$dest"
"$root/node_modules/.bin/tsc" -b tsconfig.build.json
"$root/node_modules/.bin/tsc" -p test/bench
echo "built $dest from $rev${patch:+ + $patch}"
