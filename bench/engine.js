#!/usr/bin/env node
'use strict'
// Local Docker Engine benchmark of the built addon (`new Daytona({ backend: 'local' })`):
//   a. create() -> started sandbox when the image is already built (cache hit)
//   b. create() with a small build (busybox + a RUN echo that changes every run + addLocalFile)
//   c. build-log throughput: a build printing 100,000 lines (RUN seq 1 100000), every line
//      checked to arrive once and in order, compared with a pure-JS client of the same
//      engine endpoint (POST /build over the unix socket, JSON stream parsed in JS)
//
//   node bench/engine.js
//
// Environment (all optional):
//   BENCH_BASE_IMAGE   base image (default daytona-test/busybox:1; must be present locally)
//   BENCH_REPS_HIT     repetitions of (a) (default 7, minimum 5)
//   BENCH_REPS_BUILD   repetitions of (b) (default 5, minimum 3)
//   BENCH_REPS_LOGS    repetitions of (c) (default 3, minimum 1)
//   BENCH_LOG_LINES    lines printed by (c) (default 100000)
//   DOCKER_HOST        unix:///path only for the JS baseline (default /var/run/docker.sock)
//   NAPI_RS_NATIVE_LIBRARY_PATH   load this .node file instead of the one next to binding.js
//
// Every sandbox created is deleted, and every image built (each carries a per-run nonce) is
// removed at the end, also on failure.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const DATA = path.join(__dirname, '.data', 'engine')
const BASE = process.env.BENCH_BASE_IMAGE || 'daytona-test/busybox:1'
const REPS_HIT = Math.max(5, Number(process.env.BENCH_REPS_HIT || 7))
const REPS_BUILD = Math.max(3, Number(process.env.BENCH_REPS_BUILD || 5))
const REPS_LOGS = Math.max(1, Number(process.env.BENCH_REPS_LOGS || 3))
const LINES = Number(process.env.BENCH_LOG_LINES || 100000)
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`
const LABELS = { 'daytona-native-bench': RUN_ID }

const { Daytona, Image } = require(ROOT)

const now = () => Number(process.hrtime.bigint()) / 1e6
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const fmtS = (ms) => (ms / 1000).toFixed(3)
const rssMiB = () => (process.resourceUsage().maxRSS / 1024).toFixed(1)
const log = (msg) => process.stderr.write(`[engine-bench] ${msg}\n`)

const sandboxes = new Set() // not yet deleted
const images = new Set() // image references built by this run

async function createTimed(daytona, params, options) {
  const t0 = now()
  const sandbox = await daytona.create({ ...params, labels: LABELS }, options)
  const ms = now() - t0
  sandboxes.add(sandbox)
  if (sandbox.state !== 'started') throw new Error(`sandbox ${sandbox.id} is ${sandbox.state}, expected started`)
  return { ms, sandbox }
}

async function remove(sandbox) {
  const t0 = now()
  await sandbox.delete()
  sandboxes.delete(sandbox)
  return now() - t0
}

async function track(image) {
  images.add((await image.plan()).cacheKey)
}

// ---------------------------------------------------------------------------------------------
// (c) helpers: count and check the numeric lines of `seq 1 N`.

function lineChecker(n) {
  const st = { expect: 1, total: 0, first: null, last: null, error: null, cbMs: 0 }
  st.onLine = (line) => {
    const t = now()
    st.total++
    if (/^\d+$/.test(line)) {
      const v = Number(line)
      if (v !== st.expect && !st.error) st.error = `line ${st.expect} expected, got ${v}`
      st.expect = v + 1
      if (v === 1) st.first = t
      if (v === n) st.last = t
    }
    st.cbMs += now() - t
  }
  st.check = () => {
    if (st.error) throw new Error(st.error)
    if (st.expect !== n + 1) throw new Error(`received ${st.expect - 1} of ${n} numbered lines`)
  }
  return st
}

// Pure-JS baseline: the same Dockerfile sent to the same engine endpoint our backend uses
// (classic builder, POST /build), with the JSON message stream split into lines in JS.
function ustar(name, content) {
  const h = Buffer.alloc(512)
  const put = (s, off, len) => h.write(s, off, len, 'ascii')
  const oct = (v, len) => v.toString(8).padStart(len - 1, '0') + '\0'
  put(name, 0, 100)
  put(oct(0o644, 8), 100, 8)
  put(oct(0, 8), 108, 8)
  put(oct(0, 8), 116, 8)
  put(oct(content.length, 12), 124, 12)
  put(oct(0, 12), 136, 12)
  put('        ', 148, 8)
  put('0', 156, 1)
  put('ustar\u000000', 257, 8)
  let sum = 0
  for (const b of h) sum += b
  put(oct(sum, 7) + ' ', 148, 8)
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512)
  return Buffer.concat([h, content, pad, Buffer.alloc(1024)])
}

function dockerRequest(method, reqPath, body, onData) {
  const host = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock'
  if (!host.startsWith('unix://')) throw new Error(`the JS baseline needs a unix:// DOCKER_HOST, not ${host}`)
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: host.slice('unix://'.length), method, path: reqPath, headers: body ? { 'content-type': 'application/x-tar', 'content-length': body.length } : {} },
      (res) => {
        const chunks = []
        res.on('data', (c) => (onData ? onData(c) : chunks.push(c)))
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function jsBaselineBuild(dockerfile, tag, onLine) {
  const bridge = await dockerRequest('GET', '/networks/bridge')
  const network = bridge.status === 200 ? 'bridge' : 'host' // the same choice as our backend
  const q = new URLSearchParams({ t: tag, rm: '1', forcerm: '1', networkmode: network, dockerfile: 'Dockerfile' })
  let pending = ''
  let jsonBuf = ''
  let failure = null
  const res = await dockerRequest('POST', `/build?${q}`, ustar('Dockerfile', Buffer.from(dockerfile)), (chunk) => {
    jsonBuf += chunk.toString('utf8')
    let nl
    while ((nl = jsonBuf.indexOf('\n')) >= 0) {
      const msg = jsonBuf.slice(0, nl).trim()
      jsonBuf = jsonBuf.slice(nl + 1)
      if (!msg) continue
      const m = JSON.parse(msg)
      if (m.error) failure = m.error
      if (typeof m.stream === 'string') {
        pending += m.stream
        const parts = pending.split('\n')
        pending = parts.pop()
        for (const p of parts) onLine(p.endsWith('\r') ? p.slice(0, -1) : p)
      }
    }
  })
  if (pending) onLine(pending)
  if (res.status !== 200 || failure) throw new Error(`baseline build failed: ${res.status} ${failure || res.body}`)
}

// ---------------------------------------------------------------------------------------------

async function main() {
  fs.mkdirSync(DATA, { recursive: true })
  const payload = path.join(DATA, 'payload.txt')
  fs.writeFileSync(payload, 'daytona-native engine benchmark payload\n'.repeat(256))
  const daytona = new Daytona({ backend: 'local' })
  const res = { machine: sysinfo(), addon: addonInfo(), backend: daytona.backend, base: BASE, rss: {} }
  log(`backend: ${daytona.backend}; run id ${RUN_ID}`)

  // (a0) create() from an image reference (no build, no plan): the floor of (a).
  res.fromName = { create: [], del: [] }
  for (let i = 0; i < REPS_HIT; i++) {
    const { ms, sandbox } = await createTimed(daytona, { image: BASE })
    res.fromName.create.push(ms)
    res.fromName.del.push(await remove(sandbox))
    log(`image name ${i + 1}/${REPS_HIT}: ${fmtS(ms)} s`)
  }

  // (a) cache hit: build once, then create again and again.
  const hitImage = () => Image.base(BASE).runCommands(`echo cache-hit ${RUN_ID}`)
  await track(hitImage())
  res.hit = { create: [], del: [] }
  {
    const { ms, sandbox } = await createTimed(daytona, { image: hitImage() }, { timeout: 300 })
    res.hit.firstBuild = ms
    await remove(sandbox)
    log(`cache hit: first (building) create ${fmtS(ms)} s`)
  }
  for (let i = 0; i < REPS_HIT; i++) {
    const { ms, sandbox } = await createTimed(daytona, { image: hitImage() })
    res.hit.create.push(ms)
    res.hit.del.push(await remove(sandbox))
    log(`cache hit ${i + 1}/${REPS_HIT}: ${fmtS(ms)} s`)
  }
  res.rss.afterHit = rssMiB()

  // (b) small build: a RUN that changes every time, then a COPY of a local file.
  res.build = { create: [], lines: [] }
  for (let i = 0; i < REPS_BUILD; i++) {
    const image = Image.base(BASE).runCommands(`echo small-build ${RUN_ID}-${i}`).addLocalFile(payload, '/payload.txt')
    await track(image)
    let lines = 0
    const { ms, sandbox } = await createTimed(daytona, { image }, { timeout: 300, onSnapshotCreateLogs: () => lines++ })
    res.build.create.push(ms)
    res.build.lines.push(lines)
    await remove(sandbox)
    log(`small build ${i + 1}/${REPS_BUILD}: ${fmtS(ms)} s (${lines} log lines)`)
  }
  res.rss.afterBuild = rssMiB()

  // (c) log throughput, ours and the JS baseline interleaved.
  res.logs = { ours: [], js: [] }
  for (let i = 0; i < REPS_LOGS; i++) {
    {
      const image = Image.base(BASE).runCommands(`seq 1 ${LINES} # ${RUN_ID}-${i}`)
      await track(image)
      const st = lineChecker(LINES)
      const cpu0 = process.cpuUsage()
      const t0 = now()
      const { ms, sandbox } = await createTimed(daytona, { image }, { timeout: 600, onSnapshotCreateLogs: st.onLine })
      const cpu = process.cpuUsage(cpu0)
      st.check()
      await remove(sandbox)
      const r = { total: ms, toFirst: st.first - t0, span: st.last - st.first, afterLast: t0 + ms - st.last, lines: st.total, cbMs: st.cbMs, cpuMs: (cpu.user + cpu.system) / 1000 }
      res.logs.ours.push(r)
      log(`logs (ours) ${i + 1}/${REPS_LOGS}: ${fmtS(ms)} s total, ${LINES} lines in ${fmtS(r.span)} s, ${st.total} lines in all`)
    }
    {
      const tag = `daytona-native-bench-js:${RUN_ID}-${i}`
      images.add(tag)
      const st = lineChecker(LINES)
      const cpu0 = process.cpuUsage()
      const t0 = now()
      await jsBaselineBuild(`FROM ${BASE}\nRUN seq 1 ${LINES} # js-${RUN_ID}-${i}\n`, tag, st.onLine)
      const ms = now() - t0
      const cpu = process.cpuUsage(cpu0)
      st.check()
      const r = { total: ms, toFirst: st.first - t0, span: st.last - st.first, afterLast: t0 + ms - st.last, lines: st.total, cbMs: st.cbMs, cpuMs: (cpu.user + cpu.system) / 1000 }
      res.logs.js.push(r)
      log(`logs (JS baseline, build only) ${i + 1}/${REPS_LOGS}: ${fmtS(ms)} s total, ${LINES} lines in ${fmtS(r.span)} s`)
    }
  }
  res.rss.afterLogs = rssMiB()
  res.rss.peak = rssMiB()
  return res
}

function report(res) {
  const p = (s = '') => process.stdout.write(s + '\n')
  const row = (label, xs, note = '') => p(`| ${label} | ${xs.length} | ${fmtS(median(xs))} | ${fmtS(Math.min(...xs))} | ${fmtS(Math.max(...xs))} | ${note} |`)
  p(`### Local engine (${res.backend}), base image ${res.base}`)
  p()
  p(`Machine: ${res.machine}`)
  p()
  p(`Addon: ${res.addon}`)
  p()
  p('| operation | n | median s | best s | worst s | notes |')
  p('|---|---:|---:|---:|---:|---|')
  row('create() from an image name (no build, no plan)', res.fromName.create, `delete() median ${fmtS(median(res.fromName.del))} s`)
  row('(a) create() with an unchanged Image (cache hit)', res.hit.create, `first create (build) ${fmtS(res.hit.firstBuild)} s; delete() median ${fmtS(median(res.hit.del))} s`)
  row('(b) create() with a small build (RUN echo + COPY)', res.build.create, `${median(res.build.lines)} log lines`)
  const o = res.logs.ours
  const j = res.logs.js
  row(`(c) create() with a build printing ${LINES} lines, ours`, o.map((r) => r.total), 'build + start, all lines checked')
  row(`(c) the same build, pure-JS client of POST /build`, j.map((r) => r.total), 'build only (no sandbox)')
  p()
  const lps = (r) => ((LINES - 1) / (r.span / 1000)).toFixed(0)
  p(`Build-log delivery, ${LINES} numbered lines (time between the callback receiving line 1 and line ${LINES}):`)
  p()
  p('| client | median span s | median lines/s | best lines/s | create() to line 1 s | last line to resolve s | process CPU s (median) | time in callback s |')
  p('|---|---:|---:|---:|---:|---:|---:|---:|')
  const best = (rs) => rs.reduce((a, b) => (a.span < b.span ? a : b))
  const mid = (rs, f) => median(rs.map(f))
  for (const [label, rs] of [['ours (tsfn callback)', o], ['pure JS (http + JSON.parse)', j]]) {
    p(`| ${label} | ${fmtS(mid(rs, (r) => r.span))} | ${((LINES - 1) / (mid(rs, (r) => r.span) / 1000)).toFixed(0)} | ${lps(best(rs))} | ${fmtS(mid(rs, (r) => r.toFirst))} | ${fmtS(mid(rs, (r) => r.afterLast))} | ${fmtS(mid(rs, (r) => r.cpuMs))} | ${fmtS(mid(rs, (r) => r.cbMs))} |`)
  }
  p()
  p(`Every run: all ${LINES} numbered lines arrived exactly once and in order (ours: ${o.map((r) => r.lines).join(', ')} lines in all per run).`)
  p()
  p(`Peak RSS of this node process: ${res.rss.peak} MiB (after (a): ${res.rss.afterHit} MiB, after (b): ${res.rss.afterBuild} MiB, after (c): ${res.rss.afterLogs} MiB).`)
}

function addonInfo() {
  const file = process.env.NAPI_RS_NATIVE_LIBRARY_PATH || path.join(ROOT, 'daytona-native.linux-x64-gnu.node')
  try {
    const mb = fs.statSync(file).size / 1024 / 1024
    return `${path.relative(ROOT, file) || file} (${mb.toFixed(1)} MiB${mb > 20 ? ', probably a DEBUG build' : ''})`
  } catch {
    return `${file} (missing)`
  }
}

function sysinfo() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1]
  const docker = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).stdout.trim()
  const driver = spawnSync('docker', ['info', '--format', '{{.Driver}}'], { encoding: 'utf8' }).stdout.trim()
  return `${os.cpus().length} cores (${cpu}), Linux ${os.release()}, node ${process.version}, Docker Engine ${docker} (${driver}), load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`
}

async function cleanup() {
  for (const s of [...sandboxes]) {
    try {
      await s.delete()
      sandboxes.delete(s)
    } catch (e) {
      log(`could not delete sandbox ${s.id}: ${e.message}`)
    }
  }
  // Our own images only (each name carries this run's nonce).
  for (const ref of images) {
    const r = spawnSync('docker', ['image', 'rm', ref], { encoding: 'utf8' })
    if (r.status !== 0 && !/No such image/.test(r.stderr)) log(`could not remove image ${ref}: ${r.stderr.trim()}`)
  }
  const left = spawnSync('docker', ['ps', '-aq', '--filter', `label=daytona-native-bench=${RUN_ID}`], { encoding: 'utf8' }).stdout.trim()
  if (left) log(`WARNING: containers left behind: ${left}`)
}

main()
  .then(async (res) => {
    await cleanup()
    res.loadAtEnd = os.loadavg()
    report(res)
    fs.writeFileSync(path.join(DATA, 'engine-results.json'), JSON.stringify(res, null, 1))
  })
  .catch(async (e) => {
    console.error(e)
    await cleanup()
    process.exit(1)
  })
