#!/usr/bin/env node
'use strict'
// Sandbox toolbox benchmark on the local engine (`new Daytona({ backend: 'local' })`), each
// contender interleaved with its baseline in the same run:
//   a. executeCommand('echo ok') latency vs a plain `docker exec <container> sh -c 'echo ok'`
//      (the docker CLI, as a user would run it) and vs the same exec made by a pure-JS client of
//      the Engine API (create + start over the unix socket: no CLI start-up)
//   b. executeSessionCommand(session, { command: 'echo ok' }) latency, same baselines
//   c. session log throughput: an async session command writing BENCH_LOG_MB MiB to stdout (`yes | head`),
//      followed with getSessionCommandLogs(..., onStdout) until it ends: MB/s to the callback,
//      every byte counted, and the Node process's peak RSS
//   d. PTY round trip: createPty, then `echo <n>` + Enter until the echoed marker comes back in
//      onData, BENCH_PTY_ROUNDS times
//
//   node bench/toolbox.js
//
// Environment (all optional):
//   BENCH_IMAGE        sandbox image (default daytona-test/busybox:1; must be present locally)
//   BENCH_REPS         repetitions of (a) and (b) (default 30, minimum 10)
//   BENCH_LOG_MB       MiB written by (c) (default 256)
//   BENCH_PTY_ROUNDS   round trips in (d) (default 50)
//   DOCKER_HOST        the engine (unix:///path; default /var/run/docker.sock)
//   NAPI_RS_NATIVE_LIBRARY_PATH   load this .node file instead of the one next to binding.js

const { spawnSync } = require('node:child_process')
const http = require('node:http')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const IMAGE = process.env.BENCH_IMAGE || 'daytona-test/busybox:1'
const REPS = Math.max(10, Number(process.env.BENCH_REPS || 30))
const LOG_MB = Math.max(1, Number(process.env.BENCH_LOG_MB || 256))
const PTY_ROUNDS = Math.max(5, Number(process.env.BENCH_PTY_ROUNDS || 50))
const SOCKET = (process.env.DOCKER_HOST || 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '')
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`

const { Daytona } = require(ROOT)

const now = () => Number(process.hrtime.bigint()) / 1e6
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]
const fmt = (ms) => ms.toFixed(1)
const log = (msg) => process.stderr.write(`[toolbox-bench] ${msg}\n`)

/** One Engine API request over the unix socket; resolves with { status, body }. */
function engine(method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const req = http.request(
      { socketPath: SOCKET, method, path: urlPath, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} },
      (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }))
      },
    )
    req.on('error', reject)
    if (data) req.write(data)
    req.end()
  })
}

/** `docker exec` done by hand in JS: create the exec, start it attached, read to the end. */
async function rawExec(container, cmd) {
  const created = await engine('POST', `/containers/${container}/exec`, { Cmd: cmd, AttachStdout: true, AttachStderr: true })
  if (created.status !== 201) throw new Error(`exec create: ${created.status} ${created.body}`)
  const { Id } = JSON.parse(created.body)
  const started = await engine('POST', `/exec/${Id}/start`, { Detach: false, Tty: false })
  if (started.status !== 200) throw new Error(`exec start: ${started.status}`)
  const inspect = JSON.parse((await engine('GET', `/exec/${Id}/json`)).body)
  if (inspect.ExitCode !== 0) throw new Error(`exit code ${inspect.ExitCode}`)
}

function cliExec(container, cmd) {
  const r = spawnSync('docker', ['exec', container, ...cmd], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: `unix://${SOCKET}` } })
  if (r.status !== 0) throw new Error(`docker exec: ${r.status} ${r.stderr}`)
  if (r.stdout.trim() !== 'ok') throw new Error(`docker exec printed ${JSON.stringify(r.stdout)}`)
}

/** Runs the contenders interleaved, REPS times each (starting contender rotates). */
async function latency(title, contenders) {
  const times = Object.fromEntries(contenders.map(([name]) => [name, []]))
  for (const [, fn] of contenders) await fn() // warm-up
  for (let i = 0; i < REPS; i++) {
    for (let k = 0; k < contenders.length; k++) {
      const [name, fn] = contenders[(i + k) % contenders.length]
      const t0 = now()
      await fn()
      times[name].push(now() - t0)
    }
  }
  const base = median(times[contenders[1][0]])
  console.log(`\n### ${title} (${REPS} reps, interleaved)\n`)
  console.log('| contender | median ms | p90 ms | ratio to `docker exec` |')
  console.log('|---|---|---|---|')
  for (const [name] of contenders) {
    console.log(`| ${name} | ${fmt(median(times[name]))} | ${fmt(p90(times[name]))} | ${(median(times[name]) / base).toFixed(2)} |`)
  }
}

async function main() {
  const daytona = new Daytona({ backend: 'local' })
  log(`creating a sandbox from ${IMAGE}`)
  const sandbox = await daytona.create({ image: IMAGE, labels: { 'daytona-native-bench': RUN_ID } })
  try {
    const containerId = JSON.parse((await engine('GET', `/containers/${sandbox.name}/json`)).body).Id
    const cmd = ['sh', '-c', 'echo ok']

    await latency('a. executeCommand', [
      ['sandbox.process.executeCommand', async () => {
        const r = await sandbox.process.executeCommand('echo ok')
        if (r.result.trim() !== 'ok') throw new Error(`got ${JSON.stringify(r.result)}`)
      }],
      ['`docker exec` (CLI)', async () => cliExec(containerId, cmd)],
      ['Engine API exec from JS', async () => rawExec(containerId, cmd)],
    ])

    await sandbox.process.createSession('bench')
    await latency('b. executeSessionCommand', [
      ['sandbox.process.executeSessionCommand', async () => {
        const r = await sandbox.process.executeSessionCommand('bench', { command: 'echo ok' })
        if ((r.stdout ?? r.output).trim() !== 'ok') throw new Error(`got ${JSON.stringify(r)}`)
      }],
      ['`docker exec` (CLI)', async () => cliExec(containerId, cmd)],
      ['Engine API exec from JS', async () => rawExec(containerId, cmd)],
    ])

    // c. 1 MiB lines of 'a' (1023 + newline), LOG_MB of them.
    const rssBefore = process.memoryUsage().rss
    const started = await sandbox.process.executeSessionCommand('bench', {
      // `yes | head` writes faster than the client reads, so the client side is what is measured.
      command: `line=$(printf '%01023d' 0 | tr 0 a); yes "$line" | head -n ${LOG_MB * 1024}`,
      runAsync: true,
    })
    let bytes = 0
    let peakRss = rssBefore
    const t0 = now()
    await sandbox.process.getSessionCommandLogs('bench', started.cmdId, (chunk) => {
      bytes += Buffer.byteLength(chunk)
      const rss = process.memoryUsage().rss
      if (rss > peakRss) peakRss = rss
    }, () => {})
    const secs = (now() - t0) / 1000
    const expected = LOG_MB * 1024 * 1024
    console.log(`\n### c. Session log throughput\n`)
    console.log('| bytes expected | bytes received | seconds | MB/s | Node RSS before → peak (MiB) |')
    console.log('|---|---|---|---|---|')
    console.log(`| ${expected} | ${bytes} | ${secs.toFixed(2)} | ${(bytes / 1e6 / secs).toFixed(1)} | ${(rssBefore / 2 ** 20).toFixed(0)} → ${(peakRss / 2 ** 20).toFixed(0)} |`)
    if (bytes !== expected) throw new Error(`received ${bytes} bytes, expected ${expected}`)

    // d. PTY round trips.
    let seen = ''
    let waiter = null
    const pty = await sandbox.process.createPty({
      id: `bench-${RUN_ID}`,
      onData: (data) => {
        seen += Buffer.from(data).toString('utf8')
        if (waiter && seen.includes(waiter.marker)) {
          const w = waiter
          waiter = null
          w.resolve()
        }
      },
    })
    const rounds = []
    for (let i = 0; i < PTY_ROUNDS; i++) {
      seen = ''
      const marker = `m${i}x${i * 7}`
      const done = new Promise((resolve) => (waiter = { marker: `${marker}\r\n`, resolve }))
      const t = now()
      await pty.sendInput(`echo ${marker.slice(0, 1)}""${marker.slice(1)}\n`)
      await done
      rounds.push(now() - t)
    }
    await pty.kill()
    console.log(`\n### d. PTY round trip (${PTY_ROUNDS} rounds: input sent → echoed output back)\n`)
    console.log('| median ms | p90 ms |')
    console.log('|---|---|')
    console.log(`| ${fmt(median(rounds))} | ${fmt(p90(rounds))} |`)
  } finally {
    await sandbox.delete()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
