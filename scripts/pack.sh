#!/usr/bin/env bash
# Packs what would be published from the binaries built on this machine, into OUT_DIR (default
# .services/packs): the platform package(s) npm/<platform> with their .node collected by
# `napi artifacts`, and the main package (its prepack hook writes the published package.json:
# no scripts, optionalDependencies on every platform package). Prints the tarball paths.
#
#   bash scripts/pack.sh [OUT_DIR]
#
# A release (where a CI matrix built every target into artifacts/) runs instead:
#   npx napi artifacts && npm publish      # prepublishOnly: napi prepublish -t npm
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=$(mkdir -p "${1:-$REPO_DIR/.services/packs}" && cd "${1:-$REPO_DIR/.services/packs}" && pwd)
cd "$REPO_DIR"

# The configured targets whose binary was built here (<binaryName>.<platform>.node at the root).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/artifacts"
node -e '
  const fs = require("fs"), path = require("path")
  const { parseTriple } = require("@napi-rs/cli")
  const { napi } = require("./package.json")
  const [scratch] = process.argv.slice(1)
  const built = napi.targets.map(parseTriple).filter((t) => fs.existsSync(`${napi.binaryName}.${t.platformArchABI}.node`))
  if (!built.length) throw new Error("no binary for a configured target at the repository root: npm run build")
  for (const t of built) {
    const file = `${napi.binaryName}.${t.platformArchABI}.node`
    fs.copyFileSync(file, path.join(scratch, "artifacts", file))
    fs.appendFileSync(path.join(scratch, "platforms"), `${t.platformArchABI}\n`)
  }
  fs.writeFileSync(path.join(scratch, "napi.json"), JSON.stringify({ binaryName: napi.binaryName, targets: built.map((t) => t.triple) }))
' "$scratch"

# Collect them into npm/<platform>/ as a release does (limited to the targets built here; napi
# notes that this config file replaces package.json's napi field).
npx --no-install napi artifacts -c "$scratch/napi.json" -o "$scratch/artifacts" --npm-dir npm >"$scratch/artifacts.log" 2>&1 ||
  { cat "$scratch/artifacts.log" >&2; exit 1; }

rm -f "$OUT_DIR"/*.tgz
while read -r platform; do
  (cd "npm/$platform" && npm pack --silent --pack-destination "$OUT_DIR" >/dev/null)
done <"$scratch/platforms"
npm pack --silent --pack-destination "$OUT_DIR" >/dev/null
ls -1 "$OUT_DIR"/*.tgz
