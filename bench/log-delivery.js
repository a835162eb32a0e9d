#!/usr/bin/env node
'use strict'
// CPU cost of delivering build-log lines and build events to JavaScript callbacks.
//
//   a. local engine: `snapshot.create` of an image whose one RUN prints N lines (`seq 1 N`, a
//      per-run nonce so every run builds), with no callback, with `onLogs`, with `onBuildEvent`
//      and with both (each a no-op that counts). The process CPU time of the run without a
//      callback is subtracted: what is left is the cost of getting the lines to JS.
//   b. the fake Daytona API (tests' server, run as a child process so its CPU is not counted):
//      `snapshot.create` whose build log has N lines, through our client and through the
//      official SDK, without and with `onLogs`. (The official SDK calls `onLogs` once per
//      network chunk, not per line; the row compares the CPU both clients spend on the log.)
//
//   node bench/log-delivery.js
//
// Environment (all optional):
//   BENCH_MODULE       the package to measure (default: this checkout), e.g. a copy of an older
//                      build, to compare before/after
//   BENCH_LOG_LINES    lines per build (default 100000)
//   BENCH_REPS         runs per variant, interleaved (default 3)
//   BENCH_PARTS        a,b or either (default a,b)
//   BENCH_BASE_IMAGE   base image of (a) (default daytona-test/busybox:1; must be present)
//   BENCH_NO_EVENTS=1  leave out the onBuildEvent variants (a module without them)
//
// Every snapshot created is deleted (its image too), also on failure.

const { spawn } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')

const ROOT = path.resolve(__dirname, '..')
const MODULE = path.resolve(process.env.BENCH_MODULE || ROOT)
const LINES = Number(process.env.BENCH_LOG_LINES || 100000)
const REPS = Math.max(1, Number(process.env.BENCH_REPS || 3))
const PARTS = (process.env.BENCH_PARTS || 'a,b').split(',')
const BASE = process.env.BENCH_BASE_IMAGE || 'daytona-test/busybox:1'
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`

const ours = require(MODULE)
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const cpuMs = (u) => (u.user + u.system) / 1000
const log = (msg) => process.stderr.write(`[log-delivery] ${msg}\n`)

function counters() {
  const c = { calls: 0, lines: 0, events: 0, numbered: 0, expect: 1, error: null }
  // Every line that reaches JS (as a string or as a log event) is counted and its order checked.
  const check = (line) => {
    c.lines++
    if (/^\d+$/.test(line)) {
      if (Number(line) !== c.expect && !c.error) c.error = `line ${c.expect} expected, got ${line}`
      c.expect = Number(line) + 1
      c.numbered++
    }
  }
  c.onLine = (line) => {
    c.calls++
    check(line)
  }
  c.onEvent = (e) => {
    c.calls++
    c.events++
    // Lines are checked through the events when there is no string callback.
    if (e.type === 'log' && c.eventsCheckLines) check(e.line)
  }
  return c
}

// `_logBatch: 1` (an undocumented option for this benchmark) makes the addon call JS once per
// item, as it did before batching.
const VARIANTS = {
  none: () => ({}),
  onLogs: (c, key) => ({ [key]: c.onLine }),
  onBuildEvent: (c) => ((c.eventsCheckLines = true), { onBuildEvent: c.onEvent }),
  both: (c, key) => ({ [key]: c.onLine, onBuildEvent: c.onEvent }),
  'onLogs, 1 per call': (c, key) => ({ [key]: c.onLine, _logBatch: 1 }),
  'onBuildEvent, 1 per call': (c) => ((c.eventsCheckLines = true), { onBuildEvent: c.onEvent, _logBatch: 1 }),
}

async function measure(run) {
  const before = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  await run()
  return { cpu: cpuMs(process.cpuUsage(before)), wall: Number(process.hrtime.bigint() - t0) / 1e6 }
}

function report(title, results, variants) {
  const base = results.none ? median(results.none.map((r) => r.cpu)) : null
  console.log(`\n${title}\n`)
  console.log('| variant | n | median CPU ms | median wall ms | lines delivered | events delivered | CPU µs per line over "none" |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const v of variants) {
    const rs = results[v]
    if (!rs) continue
    const cpu = median(rs.map((r) => r.cpu))
    const perLine = base === null || v === 'none' || v.endsWith(':none') ? '' : (((cpu - base) * 1000) / LINES).toFixed(2)
    console.log(`| ${v} | ${rs.length} | ${cpu.toFixed(0)} | ${median(rs.map((r) => r.wall)).toFixed(0)} | ${rs[0].lines} | ${rs[0].events} | ${perLine} |`)
  }
}

// (a) ------------------------------------------------------------------------------------------
async function partA() {
  const daytona = new ours.Daytona({ backend: 'local' })
  // BENCH_NO_EVENTS=1 for a module without onBuildEvent.
  const supportsEvents = !process.env.BENCH_NO_EVENTS
  const variants = supportsEvents ? ['none', 'onLogs', 'onBuildEvent', 'both', 'onLogs, 1 per call', 'onBuildEvent, 1 per call'] : ['none', 'onLogs']
  const results = {}
  const created = []
  try {
    // One warm-up build so that the first measured run does not pay for loading the base image.
    for (let rep = -1; rep < REPS; rep++) {
      for (const v of variants) {
        const name = `daytona-native-bench/logs-${RUN_ID}-${v.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${rep + 1}`
        const image = ours.Image.base(BASE).runCommands(`echo ${name} >/dev/null && seq 1 ${LINES}`)
        const c = counters()
        const options = { timeout: 0, ...VARIANTS[v](c, 'onLogs') }
        const r = await measure(async () => created.push(await daytona.snapshot.create({ name, image }, options)))
        if (c.error) throw new Error(`${v}: ${c.error}`)
        if (v !== 'none' && c.numbered !== LINES) throw new Error(`${v}: ${c.numbered} of ${LINES} numbered lines`)
        log(`a ${v} ${rep + 1}/${REPS}: ${r.cpu.toFixed(0)} ms CPU, ${r.wall.toFixed(0)} ms, ${c.lines} lines, ${c.events} events`)
        if (rep >= 0) (results[v] ||= []).push({ ...r, lines: c.lines, events: c.events })
      }
    }
  } finally {
    // Untagged, a snapshot's image stays cached under its build key: remove it too.
    const { execFileSync } = require('node:child_process')
    for (const s of created) {
      await daytona.snapshot.delete(s).catch(() => {})
      try {
        execFileSync('docker', ['rmi', '-f', s.id], { stdio: 'ignore' })
      } catch {}
    }
  }
  report(`(a) local engine, ${LINES} lines per build (module ${path.relative(process.cwd(), MODULE) || '.'})`, results, variants)
}

// (b) ------------------------------------------------------------------------------------------
// The fake API in a child process; its options (too large for argv) go through stdin.
const SERVER = `
const { startApiServer } = require(process.argv[1])
let input = ''
process.stdin.on('data', (d) => (input += d))
process.stdin.once('end', async () => {
  const srv = await startApiServer(JSON.parse(input))
  process.stdout.write(JSON.stringify({ apiUrl: srv.apiUrl, apiKey: srv.apiKey }) + '\\n')
  process.on('SIGTERM', () => srv.close().then(() => process.exit(0)))
})`

function startServer(options) {
  const child = spawn(process.execPath, ['-e', SERVER, path.join(ROOT, '__test__', 'api-server', 'server.js')], { stdio: ['pipe', 'pipe', 'inherit'] })
  child.stdin.end(JSON.stringify(options))
  const rl = readline.createInterface({ input: child.stdout })
  return new Promise((resolve, reject) => {
    rl.once('line', (l) => resolve({ ...JSON.parse(l), close: () => child.kill('SIGTERM') }))
    child.once('exit', (code) => reject(new Error(`the fake API exited (${code})`)))
  })
}

async function partB() {
  const official = require('@daytonaio/sdk')
  // The log in chunks of 1000 lines, one chunk every 30 ms (so that the build runs for a few
  // seconds and both clients follow it live).
  const chunks = []
  for (let i = 1; i <= LINES; i += 1000) {
    const n = Math.min(1000, LINES - i + 1)
    chunks.push(Array.from({ length: n }, (_, k) => String(i + k)).join('\n'))
  }
  const srv = await startServer({ s3: 'none', snapshotBuild: { lines: chunks, lineIntervalMs: 30 } })
  const variants = ['ours:none', 'ours:onLogs', ...(process.env.BENCH_NO_EVENTS ? [] : ['ours:onBuildEvent']), 'official:none', 'official:onLogs']
  const results = {}
  try {
    const clients = {
      ours: new ours.Daytona({ apiKey: srv.apiKey, apiUrl: srv.apiUrl, target: 'us' }),
      official: new official.Daytona({ apiKey: srv.apiKey, apiUrl: srv.apiUrl, target: 'us', useDeprecatedPolling: true }),
    }
    const images = { ours: ours.Image, official: official.Image }
    for (let rep = -1; rep < REPS; rep++) {
      for (const v of variants) {
        const [who, how] = v.split(':')
        const c = counters()
        const options = how === 'none' ? {} : VARIANTS[how](c, 'onLogs')
        const name = `bench-${RUN_ID}-${who}-${how}-${rep + 1}`.toLowerCase()
        const image = images[who].base(BASE).runCommands('seq 1 100000')
        const r = await measure(() => clients[who].snapshot.create({ name, image }, options))
        // The official SDK hands over chunks of several lines; ours every line (checked).
        if (who === 'ours' && how !== 'none' && (c.error || c.numbered !== LINES)) throw new Error(`${v}: ${c.error || `${c.numbered} of ${LINES} lines`}`)
        log(`b ${v} ${rep + 1}/${REPS}: ${r.cpu.toFixed(0)} ms CPU, ${r.wall.toFixed(0)} ms, ${c.lines} callback calls, ${c.events} events`)
        if (rep >= 0) (results[v] ||= []).push({ ...r, calls: c.calls })
      }
    }
  } finally {
    srv.close()
  }
  const base = (who) => median(results[`${who}:none`].map((r) => r.cpu))
  console.log(`\n(b) fake Daytona API, ${LINES} log lines per build, snapshot.create (module ${path.relative(process.cwd(), MODULE) || '.'})\n`)
  console.log('| client | variant | n | median CPU ms | median wall ms | callback calls | CPU µs per log line over "none" |')
  console.log('|---|---|---:|---:|---:|---:|---:|')
  for (const v of variants) {
    const rs = results[v]
    const [who, how] = v.split(':')
    const cpu = median(rs.map((r) => r.cpu))
    const perLine = how === 'none' ? '' : (((cpu - base(who)) * 1000) / LINES).toFixed(2)
    console.log(`| ${who} | ${how} | ${rs.length} | ${cpu.toFixed(0)} | ${median(rs.map((r) => r.wall)).toFixed(0)} | ${rs[0].calls} | ${perLine} |`)
  }
}

async function main() {
  if (PARTS.includes('a')) await partA()
  if (PARTS.includes('b')) await partB()
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
