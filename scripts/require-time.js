#!/usr/bin/env node
'use strict'
// `require('daytona-native')` time as a user's program pays it, from a project where the package
// is installed (the consumer test runs it in its Debian 11 project):
//
//   node require-time.js [runs=21] [module=daytona-native]
//
// Each run is a fresh `node` process that times require() itself (hrtime around the call: JS
// loaders, dlopen of the addon, module init, error class registration). Also reported: the wall
// time of the whole process against an empty `node -e ''`. Prints medians and min/max.
const { spawnSync } = require('node:child_process')

const runs = Number(process.argv[2] || 21)
const mod = process.argv[3] || 'daytona-native'

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function wall(args) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`node ${args.join(' ')}: ${r.stderr}`)
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, out: r.stdout }
}

const inner = `const t0 = process.hrtime.bigint(); require(${JSON.stringify(mod)}); console.log(Number(process.hrtime.bigint() - t0) / 1e6)`
const requireMs = []
const processMs = []
const emptyMs = []
for (let i = 0; i < runs; i++) {
  const r = wall(['-e', inner])
  requireMs.push(Number(r.out.trim()))
  processMs.push(r.ms)
  emptyMs.push(wall(['-e', '']).ms)
}
const fmt = (xs) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`
console.log(`require('${mod}'), ${runs} runs: ${fmt(requireMs)}`)
console.log(`node -e "require('${mod}')" process: ${fmt(processMs)}; empty node -e '': ${fmt(emptyMs)}`)
