'use strict'
// Issue 8, Daytona API backend: deadlines on every call (6), bounded memory (7), the API key
// scrubbed in every encoding (11), the cleartext warning for plain http:// (12). Driven against
// the fake API of ../api-server/ with its fault injection (stall, flood, raw, garbage).
//
// Memory is measured as the peak RSS of a child Node process that runs the client (the fake
// server stays in this process, so its buffers do not count); bounds have a wide margin. Time is
// only a hang guard: a call must settle with the right class well before 10x its deadline.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const path = require('node:path')
const { spawn } = require('node:child_process')

const official = require('@daytonaio/sdk')
const native = require('../../index.js')
const H = require('../api-server/helpers.js')

const INDEX = path.join(__dirname, '..', '..', 'index.js')
const MiB = 1 << 20

/** A fresh fake API without S3 (helpers.withServer). */
const withServer = (options, fn) => H.withServer({ s3: 'none', ...options }, fn)

/** `{value}` or `{error}`, the time it took, or `{hung: true}` after `guardMs`. */
async function settleWithin(promise, guardMs) {
  const t0 = Date.now()
  let timer
  const guard = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ hung: true }), guardMs)
  })
  const outcome = await Promise.race([promise.then((value) => ({ value }), (error) => ({ error })), guard])
  clearTimeout(timer)
  return { ...outcome, ms: Date.now() - t0 }
}

/**
 * Runs `scenario` in a child Node process against `srv`; resolves with what it printed, or
 * `{hung: true}` when it had not finished after `guardMs` (it is then killed).
 */
function runChild(scenario, args, guardMs = 120_000) {
  const main = async (input) => {
    const n = require(input.index)
    const d = new n.Daytona({ apiKey: input.apiKey, apiUrl: input.apiUrl, target: 'us' })
    const out = {}
    const fail = (e) => ({ name: e && e.name, message: String(e && e.message), code: e && e.code })
    try {
      if (input.scenario === 'buildLogsUrl') {
        await d.create({ image: 'alpine:3.20' }, { onSnapshotCreateLogs: () => {}, timeout: 60 })
      } else if (input.scenario === 'exec') {
        const sb = await d.get(input.sandboxId)
        const r = await sb.process.executeCommand('echo hi')
        out.resultLength = r.result.length
      } else if (input.scenario === 'endlessLine') {
        out.lines = 0
        out.longest = 0
        out.first = null
        const t0 = Date.now()
        try {
          await d.create(
            { image: 'alpine:3.20' },
            {
              timeout: input.timeout,
              onSnapshotCreateLogs: (line) => {
                out.lines++
                out.longest = Math.max(out.longest, Buffer.byteLength(line))
                if (out.first === null) out.first = line.slice(-80)
              },
            },
          )
        } finally {
          out.ms = Date.now() - t0
        }
      }
      out.ok = true
    } catch (e) {
      out.error = fail(e)
    }
    out.maxRssMiB = process.resourceUsage().maxRSS / 1024
    process.stdout.write(JSON.stringify(out))
  }
  const code = `(${main.toString()})(JSON.parse(process.argv[1])).catch((e) => { console.error(e); process.exit(3) })`
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code, JSON.stringify({ index: INDEX, scenario, ...args })], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let hung = false
    const guard = setTimeout(() => {
      hung = true
      child.kill('SIGKILL')
    }, guardMs)
    child.stdout.on('data', (c) => (stdout += c))
    child.stderr.on('data', (c) => (stderr += c))
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(guard)
      if (hung) return resolve({ hung: true, guardMs, stderr })
      try {
        resolve({ ...JSON.parse(stdout), stderr, exitCode: code })
      } catch {
        reject(new Error(`child exited ${code} without a result: ${stdout} ${stderr}`))
      }
    })
  })
}

function cleanEnv() {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('DAYTONA_')) delete env[k]
  return env
}

// ---------------------------------------------------------------------------------------------
// Item 6: deadlines

test('6: every call against a server that accepts and stalls settles with DaytonaTimeoutError within its own deadline', async () => {
  await withServer({}, async (srv) => {
    const d = H.nativeClient(native, srv) // no requestTimeoutMs: the official 24 h default
    const dT = H.nativeClient(native, srv, { requestTimeoutMs: 500 })
    const sb = await d.create({ name: 'stall-main' }, { timeout: 30 })
    await sb.fs.uploadFile(Buffer.from('x'), '/tmp/x')
    const sb2 = await d.create({ name: 'stall-refresh' }, { timeout: 30 })
    const sbT = await dT.get(sb.id)

    const onMain = new RegExp(`/${sb.id}(/|$)`)
    const forever = 1000
    srv.faults.stall('getSandbox', { path: onMain, count: forever })
    srv.faults.stall('listSandboxes', { count: forever })
    srv.faults.stall(['getSnapshot', 'getAllSnapshots'], { count: forever })
    srv.faults.stall(['ExecuteCommand', 'UploadFiles', 'DownloadFiles'], { count: forever })
    srv.faults.stall(['startSandbox', 'deleteSandbox'], { path: onMain, count: forever })
    srv.faults.stall('stopSandbox', { path: onMain, count: forever })
    // sb2: the stop request is answered, every refresh after it stalls (head sent, body never).
    srv.faults.stall('getSandbox', { path: new RegExp(`/${sb2.id}$`), phase: 'body', count: forever })

    const cases = [
      // [what, call, deadline in ms]
      ['daytona.get (requestTimeoutMs)', () => dT.get(sb.id), 500],
      ['daytona.list (requestTimeoutMs)', async () => { for await (const s of dT.list()) void s }, 500],
      ['sandbox.refreshData (requestTimeoutMs)', () => sbT.refreshData(), 500],
      ['snapshot.get (requestTimeoutMs)', () => dT.snapshot.get('some-snapshot'), 500],
      ['snapshot.list (requestTimeoutMs)', () => dT.snapshot.list(), 500],
      ['executeCommand(..., 1)', () => sb.process.executeCommand('echo hi', undefined, undefined, 1), 6000],
      ['stop(1)', () => sb.stop(1), 1000],
      ['start(1)', () => sb.start(1), 1000],
      ['delete(1)', () => sb.delete(1), 1000],
      ['uploadFile(..., 1)', () => sb.fs.uploadFile(Buffer.from('y'), '/tmp/y', 1), 1000],
      ['downloadFile(..., 1)', () => sb.fs.downloadFile('/tmp/x', 1), 1000],
      ['stop(1) with a stalled refresh', () => sb2.stop(1), 1000],
    ]
    const results = await Promise.all(cases.map(([, call, ms]) => settleWithin(call(), 10 * ms + 2000)))
    const report = []
    cases.forEach(([what, , ms], i) => {
      const r = results[i]
      const ok = r.error instanceof native.DaytonaTimeoutError && r.ms < 10 * ms
      report.push(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${r.hung ? `still pending after ${r.ms} ms` : `${r.error ? r.error.name : 'resolved'} after ${r.ms} ms`}`)
    })
    assert.ok(!report.some((l) => l.startsWith('FAIL')), report.join('\n'))
    // The class and message of a request deadline are the official ones.
    const timeoutError = results[0].error
    assert.equal(timeoutError.name, 'DaytonaConnectionTimeoutError')
    const off = H.officialClient(official, srv, { requestTimeoutMs: 500 })
    const offResult = await settleWithin(off.get(sb.id), 10_000)
    assert.equal(offResult.error && offResult.error.name, timeoutError.name, util.inspect(offResult.error))
    assert.equal(timeoutError.message, offResult.error.message)
    assert.deepEqual(srv.state.violations, [])
  })
})

test('6: refused connections, replies that are not HTTP and bodies that are not JSON are DaytonaConnectionError', async () => {
  await withServer({}, async (srv) => {
    const d = H.nativeClient(native, srv, { requestTimeoutMs: 5000 })
    const sb = await d.create({ name: 'garbage' }, { timeout: 30 })
    const leaks = /hyper|reqwest|legacy client|error sending request/i

    srv.faults.raw('getSandbox', { count: 10 })
    let r = await settleWithin(d.get(sb.id), 20_000)
    assert.ok(r.error instanceof native.DaytonaConnectionError, `not HTTP: ${util.inspect(r.error)}`)
    assert.doesNotMatch(r.error.message, leaks)
    srv.faults.clear()

    srv.faults.garbage('getSandbox', { count: 10 })
    r = await settleWithin(d.get(sb.id), 20_000)
    assert.ok(r.error instanceof native.DaytonaConnectionError, `not JSON: ${util.inspect(r.error)}`)
    assert.match(r.error.message, /not valid JSON/)
    srv.faults.clear()

    const refused = new native.Daytona({ apiKey: srv.apiKey, apiUrl: 'http://127.0.0.1:9/api', target: 'us' })
    r = await settleWithin(refused.get('x'), 20_000)
    assert.ok(r.error instanceof native.DaytonaConnectionError, util.inspect(r.error))
    assert.doesNotMatch(r.error.message, leaks)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 7: bounded memory

test('7: a 1 GiB build-logs-url body is refused after 32 MiB, in bounded memory', async () => {
  await withServer({}, async (srv) => {
    const fault = srv.faults.flood('getBuildLogsUrl', {
      bytes: 1024 * MiB,
      head: '{"url":"http://127.0.0.1:9/',
      fill: 'a',
      tail: '"}',
    })
    const out = await runChild('buildLogsUrl', { apiKey: srv.apiKey, apiUrl: srv.apiUrl })
    assert.equal(fault.fired, 1)
    assert.ok(out.error, `create must fail: ${JSON.stringify(out)}`)
    assert.equal(out.error.name, 'DaytonaError', JSON.stringify(out))
    assert.equal(out.error.code, 'RESPONSE_TOO_LARGE')
    assert.match(out.error.message, /larger than 32 MiB/)
    assert.match(out.error.message, /build-logs-url/)
    const sent = srv.requests.find((x) => x.op === 'getBuildLogsUrl').bytesSent
    assert.ok(sent < 256 * MiB, `the client stopped reading early (server wrote ${sent} bytes)`)
    assert.ok(out.maxRssMiB < 400, `peak RSS ${out.maxRssMiB.toFixed(0)} MiB`)
    console.log(`# build-logs-url 1 GiB: peak RSS ${out.maxRssMiB.toFixed(0)} MiB, ${out.error.message}`)
  })
})

test('7: 600 MB of executeCommand output is a typed error naming the limit, in bounded memory', async () => {
  await withServer({}, async (srv) => {
    const d = H.nativeClient(native, srv)
    const sb = await d.create({ name: 'big-output' }, { timeout: 30 })
    srv.faults.flood('ExecuteCommand', { bytes: 600 * 1e6, head: '{"exitCode":0,"result":"', fill: 'a', tail: '"}' })
    const out = await runChild('exec', { apiKey: srv.apiKey, apiUrl: srv.apiUrl, sandboxId: sb.id })
    assert.ok(out.error, `executeCommand must fail: ${JSON.stringify(out)}`)
    assert.equal(out.error.name, 'DaytonaError', JSON.stringify(out))
    assert.equal(out.error.code, 'RESPONSE_TOO_LARGE')
    assert.match(out.error.message, /larger than 256 MiB/)
    assert.match(out.error.message, /command output/)
    assert.ok(out.maxRssMiB < 900, `peak RSS ${out.maxRssMiB.toFixed(0)} MiB`)
    console.log(`# executeCommand 600 MB: peak RSS ${out.maxRssMiB.toFixed(0)} MiB, ${out.error.message}`)

    // Output under the limit still arrives whole.
    srv.faults.flood('ExecuteCommand', { bytes: 8 * MiB, head: '{"exitCode":0,"result":"', fill: 'b', tail: '"}' })
    const r = await sb.process.executeCommand('echo hi')
    assert.equal(r.result.length, 8 * MiB - '{"exitCode":0,"result":""}'.length)
  })
})

test('7: an endless build-log line is split at 64 KiB with a marker and create() still times out', async () => {
  await withServer({}, async (srv) => {
    srv.faults.flood('getBuildLogs', { bytes: Infinity, contentType: 'text/plain; charset=utf-8', fill: 'x' })
    const timeout = 3
    const out = await runChild('endlessLine', { apiKey: srv.apiKey, apiUrl: srv.apiUrl, timeout }, 10 * timeout * 1000)
    assert.ok(!out.hung, `create({ timeout: ${timeout} }) had not settled after ${out.guardMs} ms`)
    assert.ok(out.error, JSON.stringify(out))
    assert.equal(out.error.name, 'DaytonaTimeoutError', JSON.stringify(out))
    assert.equal(out.error.message, `Failed to create and start sandbox within ${timeout} seconds. Operation timed out.`)
    assert.ok(out.ms < 10 * timeout * 1000, `settled after ${out.ms} ms`)
    assert.ok(out.lines >= 1, `pieces of the endless line are delivered (${out.lines})`)
    assert.ok(out.longest <= 64 * 1024 + 100, `longest line ${out.longest} bytes`)
    assert.match(out.first, /continued on the next line\]$/)
    assert.ok(out.maxRssMiB < 600, `peak RSS ${out.maxRssMiB.toFixed(0)} MiB`)
    assert.equal(srv.openLogStreams(), 0)
    console.log(`# endless line: ${out.lines} pieces in ${out.ms} ms, peak RSS ${out.maxRssMiB.toFixed(0)} MiB`)
  })
})

// ---------------------------------------------------------------------------------------------
// Item 11: the key in every encoding

test('11: the API key is scrubbed raw, percent-encoded and base64-encoded from messages, headers and log lines', async () => {
  const key = 'dtn_K3y/with+special=chars&more'
  const b64 = (s) => Buffer.from(s).toString('base64')
  const lowerHex = (s) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())
  const forms = [
    key,
    encodeURIComponent(key),
    lowerHex(encodeURIComponent(key)),
    b64(key).slice(0, 16),
    b64(`${key}:`).slice(0, 16),
    b64(`Bearer ${key}`).slice(12, 28),
  ]
  const echo = `raw ${key} pct ${encodeURIComponent(key)} lower ${lowerHex(encodeURIComponent(key))} basic ${b64(`${key}:`)} bearer ${b64(`Bearer ${key}`)}`
  const assertClean = (what, ...texts) => {
    for (const t of texts) {
      for (const f of forms) assert.ok(!String(t).includes(f), `${what}: ${JSON.stringify(f)} appears in ${t}`)
    }
  }
  await withServer(
    {
      apiKey: key,
      build: { lines: ['Step 1/2 : FROM alpine', `token=${encodeURIComponent(key)} auth=${b64(`${key}:`)}`, 'done'] },
    },
    async (srv) => {
      const d = H.nativeClient(native, srv)
      const lines = []
      const sb = await d.create({ image: 'alpine:3.20' }, { onSnapshotCreateLogs: (l) => lines.push(l), timeout: 30 })
      assert.equal(lines.length, 3)
      assert.ok(lines[1].includes('***'), lines[1])
      assertClean('log lines', ...lines)

      srv.faults.status('getSandbox', 500, { message: echo }, {
        count: 10,
        headers: { 'x-echo': encodeURIComponent(key), 'www-authenticate': `Basic realm="${b64(`${key}:`)}"` },
      })
      const { error } = await settleWithin(d.get(sb.id), 20_000)
      srv.faults.clear()
      assert.ok(error instanceof native.DaytonaInternalServerError, util.inspect(error))
      assert.ok(error.message.includes('***'))
      assert.ok(error.headers && 'x-echo' in error.headers, util.inspect(error.headers))
      assertClean('500 error', error.message, error.stack, util.inspect(error, { depth: 5 }), JSON.stringify(error.headers))

      // A failed build whose reason echoes the key.
      srv.config.build.outcome = 'build_failed'
      srv.config.build.errorReason = `pull failed for ${encodeURIComponent(key)}`
      const failed = await settleWithin(d.create({ image: 'alpine:3.21' }, { onSnapshotCreateLogs: () => {}, timeout: 30 }), 40_000)
      assert.ok(failed.error, 'the build fails')
      assert.match(failed.error.message, /pull failed for \*\*\*/)
      assertClean('build failure', failed.error.message, util.inspect(failed.error, { depth: 5 }))
    },
  )
})

// ---------------------------------------------------------------------------------------------
// Item 12: cleartext warning

function runConstructors(urls) {
  const code = `
    const n = require(${JSON.stringify(INDEX)})
    for (const apiUrl of ${JSON.stringify(urls)}) new n.Daytona({ apiKey: 'dtn-warning-test', apiUrl, target: 'us' })
  `
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c) => (stderr += c))
    child.on('error', reject)
    child.on('close', (exitCode) => resolve({ exitCode, stderr }))
  })
}

test('12: plain http:// to a non-loopback host warns once per process; loopback and https stay silent', async () => {
  const loud = await runConstructors(['http://203.0.113.9:8080/api', 'http://203.0.113.9:8080/api', 'http://198.51.100.2/api'])
  assert.equal(loud.exitCode, 0, loud.stderr)
  const warnings = loud.stderr.split('\n').filter((l) => /cleartext/.test(l))
  assert.equal(warnings.length, 1, loud.stderr)
  assert.match(warnings[0], /203\.0\.113\.9/)
  assert.match(warnings[0], /https:\/\//)
  assert.ok(!warnings[0].includes('dtn-warning-test'))

  const quiet = await runConstructors([
    'http://127.0.0.1:3000/api',
    'http://127.9.8.7/api',
    'http://localhost:3000/api',
    'http://[::1]:3000/api',
    'https://203.0.113.9/api',
  ])
  assert.equal(quiet.exitCode, 0, quiet.stderr)
  assert.equal(quiet.stderr, '')
})
