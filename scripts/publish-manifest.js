#!/usr/bin/env node
'use strict'
// The package.json that `npm pack` / `npm publish` put in the tarball (npm's prepack and
// postpack hooks):
//
//   write    keep the checkout's package.json in .package.json.dev and write the published one:
//            no `scripts` (so no `prepare` build: installing the package runs nothing and needs
//            no Rust), no `devDependencies`, and `optionalDependencies` on one package per
//            platform (npm/<platform>/package.json, made by `napi create-npm-dirs`), each at
//            this version; npm installs only the one whose os/cpu/libc match.
//   restore  put the checkout's package.json back.
//
// npm reads the manifest after prepack, so `prepare` does not run during pack either.
// If a pack is interrupted between the two, `write` (or `restore`) repairs it on the next run.

const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const MANIFEST = path.join(ROOT, 'package.json')
const BACKUP = path.join(ROOT, '.package.json.dev')

function restore() {
  if (fs.existsSync(BACKUP)) fs.renameSync(BACKUP, MANIFEST)
}

function platformPackages(version) {
  const npmDir = path.join(ROOT, 'npm')
  const deps = {}
  for (const dir of fs.readdirSync(npmDir).sort()) {
    const file = path.join(npmDir, dir, 'package.json')
    if (!fs.existsSync(file)) continue
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'))
    if (pkg.version !== version) {
      throw new Error(`${file} is at ${pkg.version}, the package at ${version} (run: npx napi version)`)
    }
    deps[pkg.name] = version
  }
  return deps
}

function write() {
  restore()
  const text = fs.readFileSync(MANIFEST, 'utf8')
  const dev = JSON.parse(text)
  const published = { ...dev }
  delete published.scripts
  delete published.devDependencies
  published.optionalDependencies = { ...(dev.optionalDependencies || {}), ...platformPackages(dev.version) }
  fs.writeFileSync(BACKUP, text)
  fs.writeFileSync(MANIFEST, JSON.stringify(published, null, 2) + '\n')
}

const command = process.argv[2]
if (command === 'write') write()
else if (command === 'restore') restore()
else {
  process.stderr.write('usage: publish-manifest.js write|restore\n')
  process.exit(2)
}
