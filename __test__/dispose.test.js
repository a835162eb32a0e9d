'use strict'
// `await using`: Sandbox[Symbol.asyncDispose] deletes the sandbox (a second dispose, or one after
// delete(), is not an error); Daytona[Symbol.asyncDispose] resolves, as in the official SDK.

const { test, before } = require('node:test')
const assert = require('node:assert/strict')

const E = require('./engine-support/engine.js')
const { Daytona } = require('../index.js')

before(() => E.ensureServices())

test('Sandbox[Symbol.asyncDispose] deletes the sandbox; disposing twice is fine', async () => {
  const daytona = new Daytona({ backend: 'local' })
  const sandbox = await daytona.create({ image: E.BUSYBOX, labels: E.labelsFor('dispose') }, { timeout: 60 })
  assert.equal(E.ourContainers('dispose').length, 1)
  await sandbox[Symbol.asyncDispose]()
  assert.deepEqual(await E.settle(() => E.ourContainers('dispose')), [])
  await sandbox[Symbol.asyncDispose]()
  await daytona[Symbol.asyncDispose]()
})
