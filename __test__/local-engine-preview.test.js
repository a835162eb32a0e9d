'use strict'
// Preview links on the local engine: a server listening in a sandbox without any network
// (networkBlockAll: network mode `none`) answers at the preview URL on this machine, through the
// sandbox's agent; a signed URL stops working after its expiry.

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')

const native = require('../index.js')
const E = require('./engine-support/engine.js')
const H = require('./api-server/helpers.js')

const PYTHON_IMAGE = 'python:3.13.3-slim-bookworm'

before(() => E.ensureServices())

/** GET url on a fresh connection (no pooling); resolves { status, body } or rejects. */
function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode, body }))
    })
    req.on('error', reject)
    req.setTimeout(20_000, () => req.destroy(new Error('preview request timed out')))
  })
}

test('a server in a sandbox without network answers at its preview URL; a signed URL expires', async () => {
  const baseline = E.containerBaseline()
  const daytona = new native.Daytona({ backend: 'local' })
  const sb = await daytona.create({ image: PYTHON_IMAGE, labels: E.labelsFor('preview'), networkBlockAll: true }, { timeout: 120 })
  try {
    await sb.fs.uploadFile(Buffer.from('hello from the sandbox\n'), '/srv/index.html')
    await sb.process.createSession('web')
    await sb.process.executeSessionCommand('web', { command: 'cd /srv && python3 -m http.server 8000 --bind 127.0.0.1', runAsync: true })
    const link = await sb.getPreviewLink(8000)
    assert.match(link.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(link.sandboxId, sb.id)
    // The server may take a moment to listen: until then the tunnel answers 502 or closes.
    let page
    await H.waitFor(async () => {
      page = await get(`${link.url}/index.html`).catch(() => null)
      return page && page.status === 200
    }, 30_000, 'the preview to answer')
    assert.equal(page.body, 'hello from the sandbox\n')
    // The same link again: the same listener.
    assert.equal((await sb.getPreviewLink(8000)).url, link.url)

    const signed = await sb.getSignedPreviewUrl(8000, 3)
    assert.notEqual(signed.url, link.url)
    assert.equal((await get(`${signed.url}/index.html`)).body, 'hello from the sandbox\n')
    await new Promise((r) => setTimeout(r, 4000))
    const after = await get(`${signed.url}/index.html`).then(() => 'answered', (e) => e.code)
    assert.equal(after, 'ECONNREFUSED')
    // The unsigned link keeps working.
    assert.equal((await get(`${link.url}/index.html`)).status, 200)
    // A port where nothing listens: 502 from the tunnel, not a hang.
    const none = await sb.getPreviewLink(8001)
    const bad = await get(`${none.url}/`).then((r) => r.status, (e) => e.code)
    assert.ok(bad === 502 || bad === 'ECONNRESET', `got ${bad}`)
  } finally {
    await sb.delete().catch(() => {})
  }
  await E.assertNoLeaks(baseline)
})
