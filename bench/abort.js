#!/usr/bin/env node
'use strict'
// AbortSignal on the local engine (`new Daytona({ backend: 'local' })`): for each abort point, the
// time from `controller.abort()` to the Promise rejecting, and to the engine being clean again
// (what the abort had to stop is gone), median and max of n runs:
//   a. executeCommand('sleep 300'): until the command is gone from the sandbox's process list
//   b. executeSessionCommand(..., { command: 'sleep 300' }): same
//   c. create() of an Image whose second RUN step sleeps, aborted at that step's first log
//      line: until no build step is running and no container of the sandbox exists
//   d. create() aborted while the sandbox container is being created and started (a cached
//      image, abort 30 ms in): until no container of the sandbox exists
// The official SDK has no AbortSignal; there is no side-by-side baseline.
//
//   node bench/abort.js
//
// Environment (all optional):
//   BENCH_IMAGE   sandbox image (default daytona-test/busybox:1; must be present locally)
//   BENCH_REPS    runs of (a), (b) and (d) (default 15); (c) runs a third as often (minimum 3)

const { spawnSync } = require('node:child_process')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const IMAGE = process.env.BENCH_IMAGE || 'daytona-test/busybox:1'
const REPS = Math.max(3, Number(process.env.BENCH_REPS || 15))
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`
const { Daytona, Image } = require(ROOT)

const now = () => Number(process.hrtime.bigint()) / 1e6
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const docker = (...args) => {
  const r = spawnSync('docker', args, { encoding: 'utf8' })
  return r.status === 0 ? r.stdout : ''
}
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return { median: s[Math.floor(s.length / 2)], max: s[s.length - 1], n: s.length }
}
const fmt = (x) => `${x.median.toFixed(1)} ms (max ${x.max.toFixed(1)}, n=${x.n})`

/** Polls `gone()` every 5 ms until true (30 s at most); returns when it became true. */
async function until(gone) {
  const end = now() + 30_000
  while (!(await gone())) {
    if (now() > end) throw new Error('not clean after 30 s')
    await sleep(5)
  }
  return now()
}

/** Runs `start(signal)`, aborts when `trigger` resolves; returns [settle ms, clean ms]. */
async function measure(start, trigger, clean) {
  const ac = new AbortController()
  const pending = start(ac.signal).then(
    () => {
      throw new Error('the operation finished before it was aborted')
    },
    (e) => {
      if (e !== ac.signal.reason) throw e
      return now()
    },
  )
  await trigger()
  const t0 = now()
  ac.abort()
  const settled = await pending
  const cleaned = await until(clean)
  return [settled - t0, cleaned - t0]
}

async function main() {
  const daytona = new Daytona({ backend: 'local' })
  const labels = { 'daytona-native-bench': RUN_ID }
  const sandbox = await daytona.create({ image: IMAGE, labels })
  const results = {}
  const record = (name, [settle, clean]) => {
    results[name] = results[name] || { settle: [], clean: [] }
    results[name].settle.push(settle)
    results[name].clean.push(clean)
  }
  const noProcess = (marker) => async () => {
    const r = await sandbox.process.executeCommand('ps -o args')
    return !r.result.split('\n').some((l) => l.includes(marker) && !l.includes('ps -o'))
  }
  try {
    await sandbox.process.createSession('bench')
    for (let i = 0; i < REPS; i++) {
      const m = `bench-abort-exec-${RUN_ID}-${i}`
      record(
        'executeCommand',
        await measure((signal) => sandbox.process.executeCommand(`sleep 300 # ${m}`, undefined, undefined, undefined, { signal }), () => sleep(200), noProcess(m)),
      )
      const s = `bench-abort-session-${RUN_ID}-${i}`
      record(
        'executeSessionCommand',
        await measure((signal) => sandbox.process.executeSessionCommand('bench', { command: `sleep 300 # ${s}` }, undefined, { signal }), () => sleep(200), noProcess(s)),
      )
      const tag = `bench-abort-start-${RUN_ID}-${i}`
      record(
        'create (container being created)',
        await measure(
          (signal) => daytona.create({ image: IMAGE, labels: { ...labels, tag } }, { signal }),
          () => sleep(30),
          () => docker('ps', '-aq', '--filter', `label=tag=${tag}`).trim() === '',
        ),
      )
    }
    for (let i = 0; i < Math.max(3, Math.round(REPS / 3)); i++) {
      const marker = `bench-abort-build-${RUN_ID}-${i}`
      const tag = `bench-abort-build-${RUN_ID}-${i}`
      let reached
      const atStep = new Promise((r) => (reached = r))
      const image = Image.base(IMAGE).runCommands(`echo ${marker}-first`, `echo ${marker}-second && sleep 300`)
      record(
        'create (during the build)',
        await measure(
          (signal) =>
            daytona.create(
              { image, labels: { ...labels, tag } },
              { timeout: 0, signal, onSnapshotCreateLogs: (l) => l.includes(`${marker}-second`) && !l.includes('&&') && reached() },
            ),
          () => atStep,
          () => docker('ps', '--no-trunc', '--filter', 'status=running', '--format', '{{.Command}}').indexOf(marker) < 0 && docker('ps', '-aq', '--filter', `label=tag=${tag}`).trim() === '',
        ),
      )
    }
  } finally {
    await sandbox.delete().catch(() => {})
  }
  console.log(`AbortSignal on the local engine (${IMAGE}), abort() -> Promise rejected / -> engine clean:`)
  for (const [name, r] of Object.entries(results)) {
    console.log(`  ${name.padEnd(34)} settle ${fmt(stats(r.settle))}   clean ${fmt(stats(r.clean))}`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
