'use strict'
// Uploading and downloading a large file keeps the Node process's memory flat, 1 GiB
// (DAYTONA_TEST_FS_MIB) each way, every operation in a child process of its own whose peak RSS
// (VmHWM, which starts afresh at exec) is that operation's and nothing else's.
//
// - uploadFile and downloadFile with local paths (local engine): under 100 MB.
// - uploadFileStream(fs.createReadStream(f)) and downloadFileStream piped to a file, on both
//   backends: under 100 MB, or no more than STREAM_MARGIN above the same pipe in Node alone (in
//   a child that loads the package and connects the same way, so that its idle RSS is the same).
//   Node itself keeps the 64 KiB Buffers a stream has finished with until its next scavenge,
//   30-60 MB, varying from run to run (BENCHMARKS.md, "Results: file transfers"); the margin
//   is what this package may add to that, beyond that variation. Before Node allocated the
//   downloaded Buffers the download over HTTP was 40-80 MB above Node alone. The content is
//   checked on the way back.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const E = require('./engine-support/engine.js')
const H = require('./api-server/helpers.js')
const { relayThrough } = require('./api-server/agent.js')

const MIB = Number(process.env.DAYTONA_TEST_FS_MIB || 1024)
const LIMIT = 100 * 2 ** 20
const STREAM_MARGIN = 20 * 2 ** 20
const mb = (n) => `${(n / 2 ** 20).toFixed(0)} MB`

// argv: operation, JSON of { backend, id, api }, file, out. Prints the peak RSS before and
// after the operation.
const CHILD = `
const fs = require('node:fs')
const { pipeline } = require('node:stream/promises')
const { Readable } = require('node:stream')
const native = require(${JSON.stringify(path.resolve(__dirname, '..'))})
const hwm = () => Number(/VmHWM:\\s+(\\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
;(async () => {
  const [op, target, file, out] = process.argv.slice(1)
  const { backend, id, api } = JSON.parse(target)
  const daytona = backend === 'api' ? new native.Daytona({ apiKey: api.apiKey, apiUrl: api.apiUrl, target: 'us' }) : new native.Daytona({ backend: 'local' })
  const sandbox = await daytona.get(id)
  const idle = hwm()
  switch (op) {
    case 'uploadFile': await sandbox.fs.uploadFile(file, '/tmp/big.bin'); break
    case 'downloadFile': await sandbox.fs.downloadFile('/tmp/big.bin', out); break
    case 'uploadFileStream': await sandbox.fs.uploadFileStream(fs.createReadStream(file), '/tmp/big.bin'); break
    case 'downloadFileStream': await pipeline(await sandbox.fs.downloadFileStream('/tmp/big.bin'), fs.createWriteStream(out)); break
    // The same pipes without a transfer: what Node itself keeps.
    case 'node:read': for await (const chunk of fs.createReadStream(file)) await new Promise((r) => setImmediate(r, chunk)); break
    case 'node:write': {
      let left = fs.statSync(file).size / 65536
      const source = new Readable({ read() { if (left-- > 0) setImmediate(() => this.push(Buffer.allocUnsafeSlow(65536).fill(left & 255))); else this.push(null) } })
      await pipeline(source, fs.createWriteStream(out))
      break
    }
  }
  process.stdout.write(JSON.stringify({ idle, peak: hwm() }))
})().catch((e) => { console.error(e); process.exit(1) })
`

function run(op, target, file, out) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', CHILD, op, JSON.stringify(target), file, out], { stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    c.stdout.on('data', (d) => (text += d))
    c.on('error', reject)
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text)) : reject(new Error(`${op}: the child failed (${code})`))))
  })
}

function digest(file) {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256')
    fs.createReadStream(file).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex'))).on('error', reject)
  })
}

function makeFile(dir) {
  const file = path.join(dir, 'big.bin')
  const fd = fs.openSync(file, 'w')
  const block = crypto.randomBytes(1 << 20)
  for (let i = 0; i < MIB; i++) {
    block.writeUInt32LE(i, 0)
    fs.writeSync(fd, block)
  }
  fs.closeSync(fd)
  return file
}

async function withSandbox(tag, fn) {
  E.ensureServices()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-memory-'))
  const sandbox = await new (require('../index.js').Daytona)({ backend: 'local' }).create({ image: E.BUSYBOX, labels: E.labelsFor(tag) }, { timeout: 120 })
  try {
    await fn(sandbox, makeFile(dir), dir)
  } finally {
    await sandbox.delete().catch(() => {})
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

test(`uploadFile and downloadFile of ${MIB} MiB through local paths: peak RSS under 100 MB`, async () => {
  await withSandbox('fs-memory', async (sandbox, file, dir) => {
    const target = { backend: 'local', id: sandbox.id }
    const out = path.join(dir, 'back', 'big.bin')
    const up = await run('uploadFile', target, file, out)
    assert.ok(up.peak < LIMIT, `peak RSS of the upload: ${mb(up.peak)}`)
    const down = await run('downloadFile', target, file, out)
    assert.ok(down.peak < LIMIT, `peak RSS of the download: ${mb(down.peak)}`)
    assert.equal(fs.statSync(out).size, MIB * 2 ** 20)
    assert.equal(await digest(out), await digest(file))
    // Nothing else was left next to the destination (the temporary file was renamed).
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ['big.bin'])
  })
})

/** The stream forms against `target`, each beside the same pipe in Node alone. */
async function streamForms(target, file, dir) {
  const out = path.join(dir, 'back.bin')
  const bound = (floor) => Math.max(LIMIT, floor.peak + STREAM_MARGIN)
  const readFloor = await run('node:read', target, file, out)
  const up = await run('uploadFileStream', target, file, out)
  const message = (what, r, floor) => `${what} on ${target.backend}: peak RSS ${mb(r.peak)} (idle ${mb(r.idle)}); Node alone: ${mb(floor.peak)} (idle ${mb(floor.idle)})`
  assert.ok(up.peak < bound(readFloor), message('uploadFileStream', up, readFloor))
  const writeFloor = await run('node:write', target, file, out)
  fs.rmSync(out)
  const down = await run('downloadFileStream', target, file, out)
  assert.ok(down.peak < bound(writeFloor), message('downloadFileStream', down, writeFloor))
  assert.equal(fs.statSync(out).size, MIB * 2 ** 20)
  assert.equal(await digest(out), await digest(file))
  fs.rmSync(out)
}

test(`uploadFileStream and downloadFileStream of ${MIB} MiB on the local engine: under 100 MB or near Node's own floor`, async () => {
  await withSandbox('fs-memory-stream', async (sandbox, file, dir) => {
    await streamForms({ backend: 'local', id: sandbox.id }, file, dir)
  })
})

test(`uploadFileStream and downloadFileStream of ${MIB} MiB on the API backend: under 100 MB or near Node's own floor`, async () => {
  await withSandbox('fs-memory-stream-api', async (sandbox, file, dir) => {
    const toolboxAgent = { connect: () => relayThrough('docker', ['exec', '-i', sandbox.id, '/.daytona-native/daytona-native-agent', 'relay']) }
    // The fake API serves from this process: the children measure the client alone.
    await H.withServer({ s3: 'none', toolboxAgent }, async (srv) => {
      const fake = await H.nativeClient(require('../index.js'), srv).create({ image: E.BUSYBOX })
      await streamForms({ backend: 'api', id: fake.id, api: { apiKey: srv.apiKey, apiUrl: srv.apiUrl } }, file, dir)
    })
  })
})
