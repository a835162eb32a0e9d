'use strict'
// snapshot.ensure without a name (named from the image's cache key) and localImages
// (list/remove/prune) on the real local engine. prune's selection rules (age, count, in use,
// snapshots) are unit-tested in crates/client (daytona.rs `prune_candidates`); here a dry run
// shows them on the engine's real images (a real prune would remove the caches other test files
// of this run rely on), and `remove` removes for real.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const native = require('../index.js')
const E = require('./engine-support/engine.js')
const H = require('./api-server/helpers.js')

let daytona, janitor, baseline
before(() => {
  E.ensureServices()
  baseline = E.containerBaseline()
  janitor = new E.ImageJanitor()
  daytona = new native.Daytona({ backend: 'local' })
})
after(async () => {
  try {
    await E.assertNoLeaks(baseline)
  } finally {
    janitor.cleanup()
  }
})

test('snapshot.ensure without a name: named from the cache key, built once, a changed image gets a new snapshot', async () => {
  const image = native.Image.base(E.BUSYBOX).runCommands(`echo ensure-${E.RUN_ID}`)
  const lines = []
  const first = await daytona.snapshot.ensure({ image }, { onLogs: (l) => lines.push(l) })
  janitor.add(first.name)
  await janitor.track(image)
  assert.match(first.name, /^daytona-native-[0-9a-f]{24}$/)
  assert.equal(first.state, 'active')
  assert.ok(lines.some((l) => l.includes(`ensure-${E.RUN_ID}`)), 'the first ensure built the image')
  const built = lines.length
  const second = await daytona.snapshot.ensure({ image }, { onLogs: (l) => lines.push(l) })
  assert.equal(second.name, first.name)
  assert.equal(second.id, first.id)
  assert.equal(lines.length, built, 'nothing was built the second time')
  const changed = native.Image.base(E.BUSYBOX).runCommands(`echo ensure-changed-${E.RUN_ID}`)
  const third = await daytona.snapshot.ensure({ image: changed })
  janitor.add(third.name)
  await janitor.track(changed)
  assert.notEqual(third.name, first.name)
  // Resources change the snapshot, so they change the name too.
  const sized = await daytona.snapshot.ensure({ image, resources: { cpu: 1 } })
  janitor.add(sized.name)
  assert.notEqual(sized.name, first.name)
  for (const s of [first, third, sized]) await daytona.snapshot.delete(s)
})

test('snapshot.ensure: bad input is a DaytonaInvalidArgumentError before anything is built', async () => {
  const e = await E.rejection(() => daytona.snapshot.ensure({}))
  assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
  const ac = new AbortController()
  ac.abort(new Error('never'))
  await assert.rejects(daytona.snapshot.ensure({ image: E.BUSYBOX }, { signal: ac.signal }), /never/)
})

test('localImages: list shows what was built and who uses it; dry-run prune skips used images; remove removes', async () => {
  const image = native.Image.base(E.BUSYBOX).runCommands(`echo local-images-${E.RUN_ID}`)
  const cacheKey = await janitor.track(image)
  const sb = await daytona.create({ image, labels: E.labelsFor('local-images') })
  let listed
  try {
    listed = (await daytona.localImages.list()).find((i) => i.tags.includes(`${cacheKey}:latest`))
    assert.ok(listed, 'the built image is listed')
    assert.deepEqual(listed.snapshots, [])
    assert.ok(listed.sizeBytes > 0)
    assert.ok(listed.createdAt instanceof Date && Math.abs(listed.createdAt.getTime() - listed.created * 1000) < 1)
    assert.ok(listed.usedBy.some((c) => c.startsWith(E.inspect(sb.id).Id.slice(0, 12))), `used by the sandbox: ${listed.usedBy}`)
    const dry = await daytona.localImages.prune({ dryRun: true })
    assert.ok(!dry.removed.some((i) => i.id === listed.id), 'an image a sandbox uses is never a candidate')
    assert.ok(dry.inUse >= 1)
    const busy = await E.rejection(() => daytona.localImages.remove(listed.id))
    assert.ok(busy instanceof native.DaytonaConflictError, `${busy.name}: ${busy.message}`)
    E.docker('image', 'inspect', cacheKey) // still there, tags and all
  } finally {
    await sb.delete()
  }
  const dry = await daytona.localImages.prune({ dryRun: true })
  assert.ok(dry.removed.some((i) => i.id === listed.id), 'unused now: a candidate')
  assert.ok(dry.bytesFreed >= listed.sizeBytes)
  E.docker('image', 'inspect', cacheKey) // a dry run removes nothing
  await daytona.localImages.remove(listed.id)
  assert.throws(() => E.docker('image', 'inspect', cacheKey), 'removed with its tags')
  assert.ok(!(await daytona.localImages.list()).some((i) => i.id === listed.id))
  // Nothing this package did not build.
  const foreign = await E.rejection(() => daytona.localImages.remove(E.BUSYBOX))
  assert.ok(foreign instanceof native.DaytonaInvalidArgumentError, `${foreign.name}: ${foreign.message}`)
})

test('localImages on the Daytona API backend: DaytonaInvalidArgumentError that says why', async () => {
  await H.withServer({ s3: 'none' }, async (srv) => {
    const api = H.nativeClient(native, srv)
    const e = await E.rejection(() => api.localImages.list())
    assert.ok(e instanceof native.DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
    assert.match(e.message, /local engine/)
    await assert.rejects(api.localImages.prune(), native.DaytonaInvalidArgumentError)
  })
})
