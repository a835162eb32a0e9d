'use strict'
// A log callback that throws: the Promise of create()/snapshot.create() rejects with the thrown
// value, every time, promptly, whichever line throws, with and without a timeout; nothing is
// left behind. Hundreds of runs against the API test server (fast log streams), a few on the
// local engine (real builds).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const E = require('../engine-support/engine.js')
const { startApiServer } = require('../api-server/server.js')
const H = require('../api-server/helpers.js')
const native = require('../../index.js')

const LINES = Array.from({ length: 300 }, (_, i) => `line ${i + 1} ${'x'.repeat(i % 40)}`)

/** Settles `p` or fails the test after `ms` (a hang guard, not a timing assertion). */
function settleWithin(p, ms, what) {
  let timer
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: the Promise did not settle within ${ms} ms`)), ms)
  })
  return Promise.race([p, guard]).finally(() => clearTimeout(timer))
}

test('API backend: a throwing log callback rejects create() with the thrown value, 300 runs', async () => {
  const srv = await startApiServer({ s3: 'none', build: { lines: LINES, lineIntervalMs: 0 }, timings: { creatingMs: 0, startingMs: 0 } })
  try {
    const d = H.nativeClient(native, srv)
    const one = async (run) => {
      const throwAt = 1 + ((run * 37) % LINES.length)
      const thrown = new Error(`callback failed at line ${throwAt} (run ${run})`)
      let seen = 0
      const options = {
        onSnapshotCreateLogs: () => {
          seen += 1
          if (seen === throwAt) throw thrown
        },
      }
      if (run % 2 === 0) options.timeout = 30
      const err = await settleWithin(
        d.create({ image: `alpine:3.${run}` }, options).then(
          () => null,
          (e) => e,
        ),
        60_000,
        `run ${run} (throw at ${throwAt}, timeout ${options.timeout ?? 'default'})`,
      )
      assert.equal(err, thrown, `run ${run}: rejects with the thrown value itself`)
      assert.equal(seen, throwAt, `run ${run}: no line is delivered after the one that threw`)
    }
    // 20 creates at a time: each waits for the server's state polling, and concurrent
    // operations share the JS thread that runs the callbacks.
    for (let batch = 0; batch < 300; batch += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => one(batch + i)))
    }
    // Non-Error values are thrown through unchanged too.
    for (const value of ['a string', 42, null, undefined, Symbol.for('s')]) {
      let first = true
      const err = await settleWithin(
        d
          .create(
            { image: 'alpine:3.20' },
            {
              onSnapshotCreateLogs: () => {
                if (first) {
                  first = false
                  throw value
                }
              },
            },
          )
          .then(
            () => 'resolved',
            (e) => ({ rejected: e }),
          ),
        20_000,
        `throwing ${String(value)}`,
      )
      assert.deepEqual(err, { rejected: value })
    }
  } finally {
    await srv.close()
  }
})

test('API backend: a throwing onLogs rejects snapshot.create() with the thrown value', async () => {
  const srv = await startApiServer({ s3: 'none', snapshotBuild: { lines: LINES, lineIntervalMs: 0 } })
  try {
    const d = H.nativeClient(native, srv)
    const one = async (run) => {
      // snapshot.create reports the snapshot's states (a few lines).
      const throwAt = 1 + (run % 2)
      const thrown = new Error(`snapshot run ${run}`)
      let seen = 0
      const err = await settleWithin(
        d.snapshot
          .create(
            { name: `snap-${run}`, image: `alpine:3.${run}` },
            {
              onLogs: () => {
                if (++seen === throwAt) throw thrown
              },
              timeout: run % 2 ? 30 : undefined,
            },
          )
          .then(
            () => null,
            (e) => e,
          ),
        60_000,
        `snapshot run ${run}`,
      )
      assert.equal(err, thrown)
      assert.equal(seen, throwAt)
    }
    for (let batch = 0; batch < 40; batch += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => one(batch + i)))
    }
  } finally {
    await srv.close()
  }
})

let baseline
const janitor = new E.ImageJanitor()
before(() => {
  E.ensureServices()
  baseline = E.containerBaseline()
})
after(async () => {
  try {
    await E.assertNoLeaks(baseline)
  } finally {
    janitor.cleanup()
  }
})

test('local engine: a throwing log callback rejects create() with the thrown value and leaves nothing', async () => {
  const daytona = new native.Daytona({ backend: 'local' })
  const cases = [
    { throwAt: 1, timeout: 30 },
    { throwAt: 20, timeout: 30 },
    { throwAt: 20 },
    { throwAt: 150, timeout: 60 },
    { throwAt: 299 },
  ]
  for (const [i, c] of cases.entries()) {
    // A fresh image each time (a cached one prints two lines): 300 lines from one RUN step.
    const image = native.Image.base(E.BUSYBOX).runCommands(
      `i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "${E.RUN_ID} case ${i} line $i"; done`,
    )
    await janitor.track(image)
    const thrown = new Error(`local case ${i}`)
    let seen = 0
    const options = {
      onSnapshotCreateLogs: () => {
        if (++seen === c.throwAt) throw thrown
      },
    }
    if (c.timeout) options.timeout = c.timeout
    const err = await settleWithin(
      daytona.create({ image, labels: E.labelsFor('log-callback') }, options).then(
        () => null,
        (e) => e,
      ),
      120_000,
      `local case ${i}`,
    )
    assert.equal(err, thrown, `case ${i}: rejects with the thrown value`)
    assert.deepEqual(await E.settle(() => E.ourContainers('log-callback')), [], `case ${i}: no sandbox was created`)
  }
})
