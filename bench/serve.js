#!/usr/bin/env node
'use strict'
// Request latency through `daytona-native serve` vs this package's in-process local backend, on
// one sandbox (made through the server from BENCH_IMAGE), each operation's contenders interleaved
// rep by rep in the same run:
//   a. sandbox.get (the official SDK's `daytona.get(id)`: GET /sandbox/{id})
//        official  @daytonaio/sdk 0.218 -> serve (HTTP on loopback) -> local backend -> engine
//        ours-api  daytona-native's API backend -> serve -> ...  (our client, same server)
//        local     daytona-native in-process local backend -> engine
//   b. executeCommand('echo ok') (toolbox POST /process/execute), same three contenders
// Medians, p95 and the difference to `local` (what the server adds per request).
//
//   node bench/serve.js
//
// Needs a build of this package that exports serve() and the engine with the test images
// (scripts/test-services.sh engine images). Environment (all optional):
//   BENCH_IMAGE   sandbox image (default daytona-test/busybox:1; must be present locally)
//   BENCH_REPS    repetitions of each operation per contender (default 50, minimum 10)

const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const IMAGE = process.env.BENCH_IMAGE || 'daytona-test/busybox:1'
const REPS = Math.max(10, Number(process.env.BENCH_REPS || 50))
const WARMUP = 3

const native = require(ROOT)
const official = require('@daytonaio/sdk')

const now = () => Number(process.hrtime.bigint()) / 1e6
const sorted = (xs) => [...xs].sort((a, b) => a - b)
const median = (xs) => {
  const s = sorted(xs)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const pct = (xs, p) => sorted(xs)[Math.min(xs.length - 1, Math.ceil((xs.length * p) / 100) - 1)]
const fmt = (ms) => ms.toFixed(2)
const log = (msg) => process.stderr.write(`[serve-bench] ${msg}\n`)

async function main() {
  if (typeof native.serve !== 'function') {
    log('this build of daytona-native exports no serve(): nothing to measure (build the branch that has it)')
    process.exit(2)
  }
  const server = await native.serve({ port: 0, host: '127.0.0.1' })
  log(`serve() at ${server.url}`)
  const officialClient = new official.Daytona({ apiKey: server.apiKey, apiUrl: server.url, target: 'us', useDeprecatedPolling: true })
  const oursApi = new native.Daytona({ apiKey: server.apiKey, apiUrl: server.url, target: 'us' })
  const local = new native.Daytona({ backend: 'local' })
  let sandbox
  try {
    sandbox = await officialClient.create({ image: IMAGE, labels: { 'daytona-native-bench': 'serve' } }, { timeout: 300 })
    const id = sandbox.id
    log(`sandbox ${id} from ${IMAGE}`)
    const handles = {
      official: sandbox,
      'ours-api': await oursApi.get(id),
      local: await local.get(id),
    }
    const ops = {
      'sandbox.get': {
        official: () => officialClient.get(id),
        'ours-api': () => oursApi.get(id),
        local: () => local.get(id),
      },
      executeCommand: Object.fromEntries(
        Object.entries(handles).map(([k, sb]) => [
          k,
          async () => {
            const r = await sb.process.executeCommand('echo ok')
            if (r.exitCode !== 0 || r.result.trim() !== 'ok') throw new Error(`${k}: executeCommand gave ${r.exitCode} ${JSON.stringify(r.result)}`)
          },
        ]),
      ),
    }
    const results = {}
    for (const [op, contenders] of Object.entries(ops)) {
      const names = Object.keys(contenders)
      for (let i = 0; i < WARMUP; i++) for (const n of names) await contenders[n]()
      const times = Object.fromEntries(names.map((n) => [n, []]))
      for (let rep = 0; rep < REPS; rep++) {
        // Rotate the order each rep so that no contender always runs first.
        for (let j = 0; j < names.length; j++) {
          const n = names[(rep + j) % names.length]
          const t0 = now()
          await contenders[n]()
          times[n].push(now() - t0)
        }
      }
      results[op] = times
    }
    const base = (op) => median(results[op].local)
    console.log(`\nserve vs in-process local backend: ${REPS} interleaved reps each, ${IMAGE}, node ${process.version}\n`)
    console.log('| operation | contender | median ms | p95 ms | median - local ms |')
    console.log('|---|---|---:|---:|---:|')
    for (const [op, times] of Object.entries(results)) {
      for (const [n, xs] of Object.entries(times)) {
        console.log(`| ${op} | ${n} | ${fmt(median(xs))} | ${fmt(pct(xs, 95))} | ${n === 'local' ? '' : fmt(median(xs) - base(op))} |`)
      }
    }
  } finally {
    if (sandbox) await sandbox.delete().catch((e) => log(`deleting the sandbox: ${e.message}`))
    await server.close()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
