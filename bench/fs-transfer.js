#!/usr/bin/env node
'use strict'
// File transfer benchmark: throughput and the Node process's peak RSS of sandbox.fs uploads and
// downloads, on the local engine and on the Daytona API backend (the fake API of __test__/api-
// server, whose toolbox routes go to the same local sandbox's agent), with `docker cp` both ways
// beside them, and the same pipes in Node alone (no transfer) for their memory floor. Every
// backend, size and streamed operation runs in a child process of its own, so its peak RSS
// (VmHWM of /proc/self/status, which starts afresh at exec) is that operation's and nothing
// else's; the Buffer transfers, which hold the file in memory because they are asked to, share
// one child.
//
//   node bench/fs-transfer.js
//
// Environment (all optional):
//   BENCH_FS_SIZES     MiB per file, comma-separated (default 1,100,1024)
//   BENCH_FS_BACKENDS  local,api (default both)
//   BENCH_FS_SMALL     number of small files uploaded/downloaded with uploadFiles/downloadFiles (default 1000; 0 skips)
//   BENCH_FS_MAX_RSS_MB  fail (exit 1) when a streamed operation's peak RSS is above this (default 100)
//   BENCH_IMAGE        sandbox image (default daytona-test/busybox:1)
//   NAPI_RS_NATIVE_LIBRARY_PATH   load this .node file instead of the one next to binding.js

const { spawn, spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const log = (msg) => process.stderr.write(`[fs-bench] ${msg}\n`)
const now = () => Number(process.hrtime.bigint()) / 1e9

/** Writes `mib` MiB of incompressible data to `file` in 1 MiB pieces. */
function makeFile(file, mib) {
  const fd = fs.openSync(file, 'w')
  const block = crypto.randomBytes(1 << 20)
  for (let i = 0; i < mib; i++) {
    block.writeUInt32LE(i, 0)
    fs.writeSync(fd, block)
  }
  fs.closeSync(fd)
}

function sameFile(a, b) {
  const hash = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex')
  const [sa, sb] = [fs.statSync(a).size, fs.statSync(b).size]
  if (sa !== sb) return false
  if (sa > 1 << 20) {
    // Compare in pieces: reading a large file whole is what this benchmark must not do.
    const [fa, fb] = [fs.openSync(a, 'r'), fs.openSync(b, 'r')]
    const [ba, bb] = [Buffer.alloc(4 << 20), Buffer.alloc(4 << 20)]
    try {
      for (let off = 0; off < sa; off += ba.length) {
        const n = fs.readSync(fa, ba, 0, ba.length, off)
        fs.readSync(fb, bb, 0, bb.length, off)
        if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false
      }
      return true
    } finally {
      fs.closeSync(fa)
      fs.closeSync(fb)
    }
  }
  return hash(a) === hash(b)
}

// ---------------------------------------------------------------------------------------------
// The child: one backend, one file, one operation (or the small files, or the two in-memory
// transfers), in a process of its own: its VmHWM is that operation's peak and nothing else's.

/** The streamed operations, each measured alone, and the pure-Node pipes they are compared with. */
const STREAMED = [
  'uploadFile (local path)',
  'downloadFile (local path)',
  'uploadFileStream (fs.createReadStream, onProgress)',
  'downloadFileStream (piped to a file)',
  'Node alone: for await over fs.createReadStream',
  'Node alone: fresh 64 KiB Buffers piped to a file',
]

async function child(spec) {
  const native = require(ROOT)
  const { pipeline } = require('node:stream/promises')
  const { Readable } = require('node:stream')
  const daytona = spec.api ? new native.Daytona({ apiKey: spec.api.apiKey, apiUrl: spec.api.apiUrl, target: 'us' }) : new native.Daytona({ backend: 'local' })
  // The Node-alone rows load the package and connect too, so that their idle RSS is the same.
  const sandbox = await daytona.get(spec.sandbox)
  const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
  const baseRss = hwm()
  const rows = []
  const time = async (op, fn) => {
    const t0 = now()
    await fn()
    const secs = now() - t0
    rows.push({ op, secs, hwm: hwm() })
  }
  const remote = '/tmp/fs-bench.bin'
  const out = path.join(spec.dir, `down-${process.pid}.bin`)
  const check = (what) => {
    if (!sameFile(spec.file, out)) throw new Error(`${what}: the file differs`)
    fs.rmSync(out)
  }
  switch (spec.op) {
    case 'small': {
      const files = []
      for (let i = 0; i < spec.small; i++) files.push({ source: Buffer.from(`small file ${i}\n`.repeat(10)), destination: `/tmp/fs-bench-small-${process.pid}/f${i}.txt` })
      await time('uploadFiles (small)', () => sandbox.fs.uploadFiles(files))
      let results
      await time('downloadFiles (small)', async () => {
        results = await sandbox.fs.downloadFiles(files.map((f) => ({ source: f.destination })))
      })
      if (results.some((r, i) => !r.result || !r.result.equals(files[i].source))) throw new Error('small files differ')
      await sandbox.fs.deleteFile(`/tmp/fs-bench-small-${process.pid}`, true)
      break
    }
    case 'in memory': {
      // As asked: the Buffer is the file.
      const data = fs.readFileSync(spec.file)
      await time('uploadFile (Buffer)', () => sandbox.fs.uploadFile(data, remote))
      await time('downloadFile (Buffer)', async () => {
        const b = await sandbox.fs.downloadFile(remote)
        if (!b.equals(data)) throw new Error('downloadFile: the buffer differs')
      })
      break
    }
    case STREAMED[0]:
      await time(spec.op, () => sandbox.fs.uploadFile(spec.file, remote))
      break
    case STREAMED[1]:
      await time(spec.op, () => sandbox.fs.downloadFile(remote, out))
      check(spec.op)
      break
    case STREAMED[2]:
      // onProgress: every chunk through JavaScript (without it, a whole file is read from its path).
      await time(spec.op, () => sandbox.fs.uploadFileStream(fs.createReadStream(spec.file), remote, { onProgress: () => {} }))
      break
    case STREAMED[3]:
      await time(spec.op, async () => pipeline(await sandbox.fs.downloadFileStream(remote), fs.createWriteStream(out)))
      check(spec.op)
      break
    case STREAMED[4]:
      // What uploadFileStream does with the chunks, minus the sending: one await per chunk.
      await time(spec.op, async () => {
        for await (const chunk of fs.createReadStream(spec.file)) await new Promise((resolve) => setImmediate(resolve, chunk))
      })
      break
    case STREAMED[5]:
      // A Readable that makes a Buffer per piece, as downloadFileStream does, into a file.
      await time(spec.op, async () => {
        let left = spec.size * 16
        const source = new Readable({
          read() {
            if (left-- > 0) setImmediate(() => this.push(crypto.randomFillSync(Buffer.allocUnsafeSlow(1 << 16))))
            else this.push(null)
          },
        })
        await pipeline(source, fs.createWriteStream(out))
        fs.rmSync(out)
      })
      break
    default:
      throw new Error(`unknown operation ${spec.op}`)
  }
  process.stdout.write(JSON.stringify({ rows, baseRss }) + '\n')
}

/** Runs one child (asynchronously: the fake API serves it from this process). */
function runChild(spec) {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [__filename, '--child', JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    c.stdout.on('data', (d) => (out += d))
    c.on('error', reject)
    c.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`the child failed (${code})`))))
  })
}

function dockerCp(container, file, dir) {
  const t0 = now()
  let r = spawnSync('docker', ['cp', file, `${container}:/tmp/fs-bench-cp.bin`])
  if (r.status !== 0) throw new Error(`docker cp up: ${r.stderr}`)
  const up = now() - t0
  const t1 = now()
  const out = path.join(dir, 'cp-down.bin')
  r = spawnSync('docker', ['cp', `${container}:/tmp/fs-bench-cp.bin`, out])
  if (r.status !== 0) throw new Error(`docker cp down: ${r.stderr}`)
  const down = now() - t1
  fs.rmSync(out)
  spawnSync('docker', ['exec', container, 'rm', '-f', '/tmp/fs-bench-cp.bin'])
  return { up, down }
}

async function main() {
  const sizes = (process.env.BENCH_FS_SIZES || '1,100,1024').split(',').map(Number).filter((n) => n > 0)
  const backends = (process.env.BENCH_FS_BACKENDS || 'local,api').split(',')
  const small = Number(process.env.BENCH_FS_SMALL ?? 1000)
  const maxRssMb = Number(process.env.BENCH_FS_MAX_RSS_MB || 100)
  const image = process.env.BENCH_IMAGE || 'daytona-test/busybox:1'
  const native = require(ROOT)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-bench-'))
  const daytona = new native.Daytona({ backend: 'local' })
  const sandbox = await daytona.create({ image, labels: { 'daytona-native-test': 'fs-bench' } }, { timeout: 120 })
  let srv
  let failed = false
  try {
    const targets = {}
    if (backends.includes('local')) targets.local = { sandbox: sandbox.id }
    if (backends.includes('api')) {
      const { startApiServer } = require(path.join(ROOT, '__test__/api-server/server.js'))
      const { relayThrough } = require(path.join(ROOT, '__test__/api-server/agent.js'))
      srv = await startApiServer({
        s3: 'none',
        timings: { creatingMs: 0, startingMs: 0, stoppingMs: 0, destroyingMs: 0, destroyedVisibleMs: 0, snapshotPendingMs: 0, snapshotPullMs: 0 },
        toolboxAgent: { connect: () => relayThrough('docker', ['exec', '-i', sandbox.name, '/.daytona-native/daytona-native-agent', 'relay']) },
      })
      // Served from a child process of its own: the fake API keeps every request in memory.
      const api = new native.Daytona({ apiKey: srv.apiKey, apiUrl: srv.apiUrl, target: 'us' })
      const fake = await api.create({ image }, { timeout: 60 })
      targets.api = { sandbox: fake.id, api: { apiKey: srv.apiKey, apiUrl: srv.apiUrl } }
    }
    console.log('| backend | size | operation | seconds | MB/s | peak RSS (MB) |')
    console.log('|---|---|---|---|---|---|')
    const report = (name, size, res, bytes, streamed) => {
      for (const [i, row] of res.rows.entries()) {
        const mbps = bytes ? (bytes / 1e6 / row.secs).toFixed(1) : '—'
        const before = i === 0 ? res.baseRss : res.rows[i - 1].hwm
        const shown = row.op.includes('(Buffer)')
          ? `${(row.hwm / 2 ** 20).toFixed(0)} (the file in memory, as asked)`
          : `${(row.hwm / 2 ** 20).toFixed(0)} (+${(Math.max(0, row.hwm - before) / 2 ** 20).toFixed(0)}; idle ${(res.baseRss / 2 ** 20).toFixed(0)})`
        console.log(`| ${name} | ${size} | ${row.op} | ${row.secs.toFixed(2)} | ${mbps} | ${shown} |`)
        if (streamed && !row.op.startsWith('Node alone') && row.hwm / 2 ** 20 > maxRssMb) {
          failed = true
          log(`${name} ${size} ${row.op}: peak RSS ${(row.hwm / 2 ** 20).toFixed(0)} MB is above ${maxRssMb} MB`)
        }
      }
    }
    for (const size of sizes) {
      const file = path.join(dir, `up-${size}.bin`)
      log(`writing ${size} MiB`)
      makeFile(file, size)
      const bytes = size * 2 ** 20
      for (const [name, target] of Object.entries(targets)) {
        for (const op of STREAMED) {
          if (op.startsWith('Node alone') && name !== Object.keys(targets)[0]) continue
          log(`${name}: ${size} MiB: ${op}`)
          report(op.startsWith('Node alone') ? 'node' : name, `${size} MiB`, await runChild({ ...target, op, file, size, dir }), bytes, true)
        }
        if (size <= 256) report(name, `${size} MiB`, await runChild({ ...target, op: 'in memory', file, size, dir }), bytes, false)
      }
      if (backends.includes('local')) {
        const cp = dockerCp(sandbox.name, file, dir)
        console.log(`| docker cp | ${size} MiB | up | ${cp.up.toFixed(2)} | ${(bytes / 1e6 / cp.up).toFixed(1)} | — |`)
        console.log(`| docker cp | ${size} MiB | down | ${cp.down.toFixed(2)} | ${(bytes / 1e6 / cp.down).toFixed(1)} | — |`)
      }
      fs.rmSync(file)
    }
    if (small > 0) {
      for (const [name, target] of Object.entries(targets)) {
        log(`${name}: ${small} small files`)
        report(name, `${small} × 120 B`, await runChild({ ...target, op: 'small', small, dir }), 0, true)
      }
    }
  } finally {
    if (srv) await srv.close()
    await sandbox.delete().catch(() => {})
    fs.rmSync(dir, { recursive: true, force: true })
  }
  if (failed) process.exit(1)
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).catch((e) => {
    console.error(e)
    process.exit(1)
  })
} else {
  main().catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
