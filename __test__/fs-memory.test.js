'use strict'
// Uploading and downloading a large file keeps the Node process's memory flat: uploadFile and
// downloadFile with local paths, 1 GiB (DAYTONA_TEST_FS_MIB) each way on the local engine, in a
// child process whose peak RSS (VmHWM, which starts afresh at exec) must stay under 100 MB.
// The content is checked on the way back. bench/fs-transfer.js measures the other forms.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const E = require('./engine-support/engine.js')

const MIB = Number(process.env.DAYTONA_TEST_FS_MIB || 1024)
const LIMIT = 100 * 2 ** 20

const CHILD = `
const fs = require('node:fs')
const native = require(${JSON.stringify(path.resolve(__dirname, '..'))})
const hwm = () => Number(/VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
;(async () => {
  const [id, file, out] = process.argv.slice(1)
  const sandbox = await new native.Daytona({ backend: 'local' }).get(id)
  await sandbox.fs.uploadFile(file, '/tmp/big.bin')
  const afterUpload = hwm()
  await sandbox.fs.downloadFile('/tmp/big.bin', out)
  process.stdout.write(JSON.stringify({ afterUpload, afterDownload: hwm() }))
})().catch((e) => { console.error(e); process.exit(1) })
`

function digest(file) {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256')
    fs.createReadStream(file).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex'))).on('error', reject)
  })
}

test(`uploadFile and downloadFile of ${MIB} MiB through local paths: peak RSS under 100 MB`, async () => {
  E.ensureServices()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-memory-'))
  const sandbox = await new (require('../index.js').Daytona)({ backend: 'local' }).create(
    { image: 'daytona-test/busybox:1', labels: E.labelsFor('fs-memory') },
    { timeout: 120 },
  )
  try {
    const file = path.join(dir, 'big.bin')
    const fd = fs.openSync(file, 'w')
    const block = crypto.randomBytes(1 << 20)
    for (let i = 0; i < MIB; i++) {
      block.writeUInt32LE(i, 0)
      fs.writeSync(fd, block)
    }
    fs.closeSync(fd)
    const out = path.join(dir, 'back', 'big.bin')
    const result = await new Promise((resolve, reject) => {
      const c = spawn(process.execPath, ['-e', CHILD, sandbox.id, file, out], { stdio: ['ignore', 'pipe', 'inherit'] })
      let text = ''
      c.stdout.on('data', (d) => (text += d))
      c.on('error', reject)
      c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text)) : reject(new Error(`the child failed (${code})`))))
    })
    assert.ok(result.afterUpload < LIMIT, `peak RSS after the upload: ${(result.afterUpload / 2 ** 20).toFixed(0)} MB`)
    assert.ok(result.afterDownload < LIMIT, `peak RSS after the download: ${(result.afterDownload / 2 ** 20).toFixed(0)} MB`)
    assert.equal(fs.statSync(out).size, MIB * 2 ** 20)
    assert.equal(await digest(out), await digest(file))
    // Nothing else was left next to the destination (the temporary file was renamed).
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ['big.bin'])
  } finally {
    await sandbox.delete().catch(() => {})
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
