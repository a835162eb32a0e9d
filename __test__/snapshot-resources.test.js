'use strict'
// snapshot.create({ resources }) is returned by snapshot.get/list with those resources, on both
// backends (the API test server, next to the official SDK, and the local engine).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const E = require('./engine-support/engine.js')
const { startApiServer } = require('./api-server/server.js')
const H = require('./api-server/helpers.js')
const official = require('@daytonaio/sdk')
const native = require('../index.js')

const RESOURCES = { cpu: 2, memory: 4, disk: 8 }
const pick = (s) => ({ cpu: s.cpu, mem: s.mem, disk: s.disk })

const janitor = new E.ImageJanitor()
before(() => E.ensureServices())
after(() => janitor.cleanup())

test('API backend: snapshot resources round-trip as with the official SDK', async () => {
  const srv = await startApiServer({ s3: 'none' })
  try {
    const got = {}
    for (const [name, client] of [
      ['native', H.nativeClient(native, srv)],
      ['official', H.officialClient(official, srv)],
    ]) {
      await client.snapshot.create({ name: `res-${name}`, image: 'alpine:3.20', resources: RESOURCES })
      got[name] = pick(await client.snapshot.get(`res-${name}`))
    }
    assert.deepEqual(got.native, { cpu: 2, mem: 4, disk: 8 })
    assert.deepEqual(got.native, got.official)
  } finally {
    await srv.close()
  }
})

test('local engine: snapshot resources are kept with the snapshot and returned by get and list', async () => {
  const daytona = new native.Daytona({ backend: 'local' })
  const name = `dn-test-res-${E.RUN_ID}:1`
  janitor.add(name)
  const created = await daytona.snapshot.create({ name, image: native.Image.base(E.BUSYBOX), resources: RESOURCES })
  assert.deepEqual(pick(created), { cpu: 2, mem: 4, disk: 8 })
  assert.deepEqual(pick(await daytona.snapshot.get(name)), { cpu: 2, mem: 4, disk: 8 })
  const listed = (await daytona.snapshot.list()).items.find((s) => s.name === name)
  assert.ok(listed, 'listed')
  assert.deepEqual(pick(listed), { cpu: 2, mem: 4, disk: 8 })
  // Without resources: zeros, as before.
  const plain = `dn-test-nores-${E.RUN_ID}:1`
  janitor.add(plain)
  await daytona.snapshot.create({ name: plain, image: native.Image.base(E.BUSYBOX) })
  assert.deepEqual(pick(await daytona.snapshot.get(plain)), { cpu: 0, mem: 0, disk: 0 })
  await daytona.snapshot.delete(await daytona.snapshot.get(name))
  await daytona.snapshot.delete(await daytona.snapshot.get(plain))
})
