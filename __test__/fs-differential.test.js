'use strict'
// sandbox.fs over the Daytona API backend, differentially: one user program of every FileSystem
// operation, run through the official SDK and through ours, each against a fresh fake API
// (__test__/api-server/, toolbox routes validated against daytona-toolbox.json) whose file routes
// go to the agent of one real local sandbox. The recorded requests (method, path, query, body,
// multipart parts, Accept) must be identical, and so must what the program observed.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const nodeFs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Readable } = require('node:stream')

const official = require('@daytonaio/sdk')
const native = require('../index.js')
const E = require('./engine-support/engine.js')
const H = require('./api-server/helpers.js')
const { relayThrough } = require('./api-server/agent.js')

const AGENT_IN_SANDBOX = '/.daytona-native/daytona-native-agent'
const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }))
const errorShape = (e) => e && { name: e.constructor.name, message: e.message, statusCode: e.statusCode }
/** File details without what differs between two runs (times). */
const details = (f) => ({ ...f, modTime: typeof f.modTime, modifiedAt: typeof f.modifiedAt })

let host
let scratch
before(async () => {
  E.ensureServices()
  host = await new native.Daytona({ backend: 'local' }).create({ image: 'daytona-test/busybox:1', labels: E.labelsFor('fs-differential') }, { timeout: 120 })
})
after(async () => {
  if (host) await host.delete().catch(() => {})
})

/** The user program, written once against either SDK's exports. */
async function program(d, local, root) {
  const obs = {}
  const sb = await d.create({ name: 'fs-sb' }, { timeout: 60 })
  const fs = sb.fs
  obs.createFolder = await fs.createFolder(`${root}/dir/sub`, '755')
  nodeFs.writeFileSync(path.join(local, 'up.txt'), 'from a local file\n')
  obs.uploadFile = await fs.uploadFile(Buffer.from('one\nTODO: x\n'), `${root}/dir/one.txt`)
  await fs.uploadFile(path.join(local, 'up.txt'), `${root}/dir/sub/two.md`, 60)
  obs.uploadFiles = await fs.uploadFiles([
    { source: Buffer.from('{"a":1}'), destination: `${root}/dir/c.json` },
    { source: path.join(local, 'up.txt'), destination: `${root}/dir/sub/d.txt` },
  ])
  await fs.uploadFileStream(Readable.from([Buffer.from('str'), Buffer.from('eamed')]), `${root}/dir/s.bin`)
  obs.info = details(await fs.getFileDetails(`${root}/dir/one.txt`))
  obs.list = (await fs.listFiles(`${root}/dir`)).map(details).sort((a, b) => a.name.localeCompare(b.name))
  obs.deep = (await fs.listFiles(`${root}/dir`, { depth: 2 })).map((f) => f.path).sort()
  obs.badDepth = errorShape((await settle(fs.listFiles(`${root}/dir`, { depth: 1.5 }))).error)
  obs.search = await fs.searchFiles(`${root}/dir`, '*.txt')
  obs.find = (await fs.findFiles(`${root}/dir`, 'TODO')).sort((a, b) => a.file.localeCompare(b.file))
  obs.replace = await fs.replaceInFiles([`${root}/dir/one.txt`], 'TODO', 'DONE')
  obs.move = await fs.moveFiles(`${root}/dir/c.json`, `${root}/dir/moved.json`)
  obs.perms = await fs.setFilePermissions(`${root}/dir/moved.json`, { mode: '600' })
  obs.permsAfter = (await fs.getFileDetails(`${root}/dir/moved.json`)).permissions
  obs.download = (await fs.downloadFile(`${root}/dir/one.txt`)).toString()
  obs.downloadTo = await fs.downloadFile(`${root}/dir/s.bin`, path.join(local, 'out', 's.bin'), 60)
  obs.downloaded = nodeFs.readFileSync(path.join(local, 'out', 's.bin'), 'utf8')
  const many = await fs.downloadFiles([{ source: `${root}/dir/moved.json` }, { source: `${root}/dir/nope` }, { source: `${root}/dir/sub/d.txt`, destination: path.join(local, 'd.txt') }])
  obs.many = many.map((r) => ({ ...r, result: Buffer.isBuffer(r.result) ? r.result.toString() : r.result && path.basename(r.result) }))
  const stream = await fs.downloadFileStream(`${root}/dir/sub/two.md`)
  const chunks = []
  for await (const c of stream) chunks.push(c)
  obs.stream = Buffer.concat(chunks).toString()
  obs.missing = errorShape((await settle(fs.downloadFile(`${root}/dir/nope`))).error)
  obs.missingInfo = errorShape((await settle(fs.getFileDetails(`${root}/dir/nope`))).error)
  obs.deleteFile = await fs.deleteFile(`${root}/dir/one.txt`)
  obs.deleteDir = errorShape((await settle(fs.deleteFile(`${root}/dir`))).error)
  await fs.deleteFile(`${root}/dir`, true)
  return obs
}

async function run(sdk, client) {
  return H.withServer(
    {
      s3: 'none',
      timings: { creatingMs: 0, startingMs: 0, stoppingMs: 0, destroyingMs: 0, destroyedVisibleMs: 0, snapshotPendingMs: 0, snapshotPullMs: 0 },
      toolboxAgent: { connect: () => relayThrough('docker', ['exec', '-i', host.name, AGENT_IN_SANDBOX, 'relay']) },
    },
    async (srv) => {
      const local = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'fs-diff-'))
      try {
        const result = await settle(program(client(sdk, srv), local, '/tmp/fs-diff'))
        return { result, lines: H.normaliseRequests(srv, { accept: true, ids: true }), srv }
      } finally {
        nodeFs.rmSync(local, { recursive: true, force: true })
      }
    },
    120_000,
  )
}

test('differential: every FileSystem operation sends the same requests through the official SDK and ours', async () => {
  const officialRun = await run(official, H.officialClient)
  assert.equal(officialRun.result.error, undefined, `the official SDK failed: ${officialRun.result.error && officialRun.result.error.stack}`)
  H.assertConforming(officialRun.srv)
  const nativeRun = await run(native, H.nativeClient)
  assert.equal(nativeRun.result.error, undefined, `ours failed: ${nativeRun.result.error && nativeRun.result.error.stack}`)
  const fsLines = (lines) => lines.filter((l) => l.includes('/files'))
  assert.ok(fsLines(officialRun.lines).length >= 20, officialRun.lines.join('\n'))
  assert.deepEqual(fsLines(nativeRun.lines), fsLines(officialRun.lines), 'file requests (ours vs official)')
  assert.deepEqual(nativeRun.result.value, officialRun.result.value, 'what the program observed')
  H.assertConforming(nativeRun.srv)
})
