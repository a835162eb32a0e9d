#!/usr/bin/env node
'use strict'
// Image builds on the local engine, BuildKit (with `pipInstall(..., { cacheMount: true })`) and the
// classic builder side by side in one run, each timed as `snapshot.create()` (the build and the
// snapshot's LABEL step):
//   1. cold: a Python image with 10 pip packages, nothing cached (pip's cache directory is new
//      for the run: PIP_CACHE_DIR under the cache mount's target, set by an ENV step)
//   2. one package more: the same image with an 11th package in the same pipInstall call (the
//      pip step reruns; BuildKit's cache mount still holds the 10 wheels, the classic builder
//      downloads all 11 again)
//   3. no change: the image of 2 again, under another snapshot name (the build is skipped: the
//      image is found by its cache key)
// Then every snapshot and image of the run is removed.
//
//   node bench/build.js
//
// Environment (all optional):
//   BENCH_PYTHON_IMAGE  base image (default python:3.12.10-slim-bookworm; must be present locally)
//   BENCH_NETWORK       network mode of the build steps (default: the package's choice: bridge,
//                       else host)
//   BENCH_ONLY          buildkit or classic
//   BENCH_FROM_SOURCE   1: the 11 packages are built from their source distributions
//                       (`--no-binary <names>`, as with packages published without wheels): pip
//                       keeps the wheels it builds in its cache directory whatever the index's
//                       HTTP cache headers say, so the cache mount's effect shows wherever PyPI
//                       is reached through

const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const { Daytona, Image } = require(ROOT)

const BASE = process.env.BENCH_PYTHON_IMAGE || 'python:3.12.10-slim-bookworm'
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`
// Small pure-Python wheels, pinned so every run installs the same bytes.
const PACKAGES = [
  'six==1.16.0',
  'idna==3.7',
  'attrs==23.2.0',
  'packaging==24.1',
  'pyparsing==3.1.2',
  'tomli==2.0.1',
  'iniconfig==2.0.0',
  'pluggy==1.5.0',
  'click==8.1.7',
  'toolz==0.12.1',
]
const EXTRA = 'typing-extensions==4.12.2'

const now = () => Number(process.hrtime.bigint()) / 1e6
const docker = (...args) => spawnSync('docker', args, { encoding: 'utf8' })

const FROM_SOURCE = process.env.BENCH_FROM_SOURCE === '1'
const NAMES = [...PACKAGES, EXTRA].map((p) => p.split('==')[0]).join(',')

function image(builder, packages) {
  const options = {
    ...(builder === 'buildkit' ? { cacheMount: true } : {}),
    // pip 23.0 (the test base image's) reads built wheels back from its cache with --no-binary
    // only under this feature flag (the default from pip 23.1); PEP 517 builds make wheels to keep.
    ...(FROM_SOURCE ? { extraOptions: `--use-pep517 --use-feature=no-binary-enable-wheel-cache --no-binary ${NAMES}` } : {}),
  }
  return Image.base(BASE)
    .env({ PIP_CACHE_DIR: `/root/.cache/pip/bench-${RUN_ID}-${builder}`, PIP_DISABLE_PIP_VERSION_CHECK: '1' })
    .pipInstall(packages, Object.keys(options).length ? options : undefined)
}

async function timed(daytona, name, img, cleanup) {
  const plan = await img.plan()
  cleanup.images.add(plan.cacheKey)
  cleanup.snapshots.push(name)
  const lines = []
  const t0 = now()
  await daytona.snapshot.create({ name, image: img }, { onLogs: (l) => lines.push(l), timeout: 1800 })
  return { ms: now() - t0, lines }
}

async function run(builder, cleanup) {
  const local = { builder, removeOnExit: false }
  if (process.env.BENCH_NETWORK) local.buildNetworkMode = process.env.BENCH_NETWORK
  const daytona = new Daytona({ backend: 'local', local })
  const prefix = `bench-build-${RUN_ID}-${builder}`
  const cold = await timed(daytona, `${prefix}-cold`, image(builder, PACKAGES), cleanup)
  const plusOne = await timed(daytona, `${prefix}-plus-one`, image(builder, [...PACKAGES, EXTRA]), cleanup)
  const noChange = await timed(daytona, `${prefix}-no-change`, image(builder, [...PACKAGES, EXTRA]), cleanup)
  // What the rebuild downloaded: pip prints "Downloading <file>" per fetched file, "Using cached"
  // per cache hit.
  const count = (lines, re) => lines.filter((l) => re.test(l)).length
  return {
    builder,
    cold: cold.ms,
    plusOne: plusOne.ms,
    noChange: noChange.ms,
    downloads: { cold: count(cold.lines, /Downloading \S+\.whl/), plusOne: count(plusOne.lines, /Downloading \S+\.whl/) },
    cachedWheels: count(plusOne.lines, /Using cached \S+\.whl/),
    // Source builds: pip says "Building wheel for <name>" per package it builds.
    built: { cold: count(cold.lines, /Building wheel for /), plusOne: count(plusOne.lines, /Building wheel for /) },
    daytona,
  }
}

async function main() {
  if (docker('image', 'inspect', BASE).status !== 0) throw new Error(`${BASE} is not present on the engine`)
  const cleanup = { images: new Set(), snapshots: [] }
  const results = []
  try {
    for (const builder of ['buildkit', 'classic']) {
      if (process.env.BENCH_ONLY && process.env.BENCH_ONLY !== builder) continue
      process.stderr.write(`building with ${builder}...\n`)
      const r = await run(builder, cleanup)
      results.push(r)
      for (const name of cleanup.snapshots.filter((n) => n.includes(`-${builder}-`))) {
        try {
          await r.daytona.snapshot.delete(await r.daytona.snapshot.get(name))
        } catch {}
      }
    }
  } finally {
    for (const ref of cleanup.images) docker('rmi', ref)
    for (const name of cleanup.snapshots) docker('rmi', name)
  }
  const s = (ms) => `${(ms / 1000).toFixed(1)} s`
  console.log(`packages: ${PACKAGES.length} (+ ${EXTRA})${FROM_SOURCE ? ', built from source' : ''}; base ${BASE}`)
  console.log('| builder | cold | + one package | no change | + one / cold | wheels downloaded (cold, + one) | wheels from pip\'s cache (+ one) | wheels built (cold, + one) |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const r of results) {
    console.log(
      `| ${r.builder}${r.builder === 'buildkit' ? ' (cacheMount)' : ''} | ${s(r.cold)} | ${s(r.plusOne)} | ${r.noChange.toFixed(0)} ms | ` +
        `${((100 * r.plusOne) / r.cold).toFixed(0)}% | ${r.downloads.cold}, ${r.downloads.plusOne} | ${r.cachedWheels} | ${r.built.cold}, ${r.built.plusOne} |`,
    )
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
