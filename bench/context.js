#!/usr/bin/env node
'use strict'
// Build-context benchmark: our key computation (and key + tar) against the official SDK's
// (@daytonaio/sdk 0.218 ObjectStorage: MD5 walk + node-tar) and against plain read/hash tools.
//
//   node bench/context.js
//
// Environment (all optional):
//   BENCH_SIZE_MB      total size of the synthetic tree in MiB (default 1024)
//   BENCH_SMALL_FILES  number of small (1-8 KiB) files (default 20000)
//   BENCH_LARGE_FILES  number of large files sharing the rest of the size (default 4)
//   BENCH_REPS         repetitions per contender, interleaved (default 5, minimum 3)
//   BENCH_ONLY         comma-separated contender ids to run (default: all)
//   BENCH_COLD=1       also run one cold-page-cache round (posix_fadvise DONTNEED on every file
//                      of the tree before each contender; the host's cache is out of our reach);
//                      BENCH_COLD=only runs just that round
//   BENCH_DATA         where trees and results live (default bench/.data)
//
// Needs the addon built (see BENCHMARKS.md; NAPI_RS_NATIVE_LIBRARY_PATH=<file.node> selects a
// build other than the one next to binding.js) and the Rust driver:
//   cargo build --release --manifest-path bench/context-archive/Cargo.toml
//
// Every contender runs in its own child process, under /usr/bin/time for its peak RSS; the
// time reported is the operation itself, measured inside the child (so node start-up and module
// loading are excluded), except for the shell pipelines, which are timed as a whole.

const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const DATA = path.resolve(process.env.BENCH_DATA || path.join(__dirname, '.data'))
const RUST_BIN = path.join(__dirname, 'context-archive', 'target', 'release', 'context-archive')
const TIME = '/usr/bin/time'
const MiB = 1024 * 1024

// ---------------------------------------------------------------------------------------------
// Children: `node bench/context.js --child <what> <tree>` prints one JSON line.

async function child(what, tree) {
  const out = {}
  if (what === 'ours-key') {
    const { Image } = require(ROOT)
    const t0 = process.hrtime.bigint()
    const plan = await Image.base('x').addLocalDir(tree, '/ctx').plan({ warnBytes: Number.MAX_SAFE_INTEGER })
    out.op_ms = Number(process.hrtime.bigint() - t0) / 1e6
    out.key = plan.cacheKey
    out.files = plan.contexts[0].files
    out.bytes = plan.contexts[0].bytes
  } else if (what === 'sdk-key' || what === 'sdk-key+tar') {
    const sdkDir = path.dirname(require.resolve('@daytonaio/sdk'))
    const { Image } = require('@daytonaio/sdk')
    const { ObjectStorage } = require(path.join(sdkDir, 'ObjectStorage.js'))
    // As SnapshotService.processImageContext builds it; the constructor does no I/O, and only
    // the hashing and tar halves of upload() run here (no list/put request is ever made).
    const storage = new ObjectStorage({
      endpointUrl: 'http://127.0.0.1:9',
      accessKeyId: 'bench',
      secretAccessKey: 'bench',
      region: 'us-east-1',
    })
    const [ctx] = Image.base('x').addLocalDir(tree, '/ctx').contextList
    const t0 = process.hrtime.bigint()
    out.key = await storage.computeHashForPathMd5(ctx.sourcePath, ctx.archivePath)
    const t1 = process.hrtime.bigint()
    out.key_ms = Number(t1 - t0) / 1e6
    if (what === 'sdk-key+tar') {
      out.archive_bytes = await sdkTar(sdkDir, ctx.sourcePath, ctx.archivePath)
      out.tar_ms = Number(process.hrtime.bigint() - t1) / 1e6
    }
    out.op_ms = Number(process.hrtime.bigint() - t0) / 1e6
  } else if (what === 'node-baseline') {
    require(ROOT)
    out.op_ms = 0
  } else {
    throw new Error(`unknown child ${what}`)
  }
  out.max_rss_kib = process.resourceUsage().maxRSS
  process.stdout.write(JSON.stringify(out) + '\n')
}

// ObjectStorage.uploadAsTar without the S3 Upload: the same cwd arithmetic and tar.create
// options, the same PassThrough, drained into a sink that only counts bytes.
function sdkTar(sdkDir, sourcePath, archiveBasePath) {
  const tar = require(require.resolve('tar', { paths: [sdkDir] }))
  const pathe = require(require.resolve('pathe', { paths: [sdkDir] }))
  const { PassThrough, Writable } = require('node:stream')
  const src = pathe.normalize(pathe.resolve(sourcePath))
  const ap = pathe.normalize(archiveBasePath)
  const cwd = ap === '.' ? src : src.slice(0, src.length - ap.length)
  const tarStream = tar.create({ cwd, portable: true, gzip: false }, [ap])
  const pass = new PassThrough()
  tarStream.pipe(pass)
  let n = 0
  const sink = new Writable({
    write(chunk, _enc, cb) {
      n += chunk.length
      cb()
    },
  })
  return new Promise((resolve, reject) => {
    tarStream.on('error', reject)
    pass.on('error', reject)
    sink.on('error', reject)
    sink.on('finish', () => resolve(n))
    pass.pipe(sink)
  })
}

// ---------------------------------------------------------------------------------------------
// The synthetic tree.

function mulberry32(seed) {
  return function () {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function ensureTree(sizeMiB, small, large) {
  const name = `tree-${sizeMiB}m-${small}s-${large}l`
  const tree = path.join(DATA, name)
  const manifest = path.join(DATA, `${name}.json`)
  if (fs.existsSync(manifest)) {
    const m = JSON.parse(fs.readFileSync(manifest, 'utf8'))
    log(`reusing ${tree} (${m.files} files, ${(m.bytes / MiB).toFixed(0)} MiB)`)
    return { tree, ...m }
  }
  log(`creating ${tree} ...`)
  const t0 = Date.now()
  fs.rmSync(tree, { recursive: true, force: true })
  fs.mkdirSync(tree, { recursive: true })
  const rand = mulberry32(12345)
  const pool = crypto.randomBytes(4 * MiB)
  let bytes = 0
  // Small files: src/pNN/qNN/fNNNNN.dat, 20 x 20 directories (up to 50 files each for 20,000).
  for (let i = 0; i < small; i++) {
    const dir = path.join(tree, 'src', `p${String(i % 20).padStart(2, '0')}`, `q${String(Math.floor(i / 20) % 20).padStart(2, '0')}`)
    if (i < 400) fs.mkdirSync(dir, { recursive: true })
    const size = 1024 + Math.floor(rand() * 7169) // 1..8 KiB inclusive
    const off = Math.floor(rand() * (pool.length - size))
    fs.writeFileSync(path.join(dir, `f${String(i).padStart(5, '0')}.dat`), pool.subarray(off, off + size))
    bytes += size
  }
  // Large files share what is left.
  const rest = Math.max(0, sizeMiB * MiB - bytes)
  if (large > 0 && rest > 0) {
    fs.mkdirSync(path.join(tree, 'blobs'), { recursive: true })
    const each = Math.floor(rest / large)
    const chunk = Buffer.alloc(8 * MiB)
    for (let k = 0; k < large; k++) {
      const fd = fs.openSync(path.join(tree, 'blobs', `large-${k}.bin`), 'w')
      for (let left = each; left > 0; ) {
        crypto.randomFillSync(chunk)
        const n = Math.min(left, chunk.length)
        fs.writeSync(fd, chunk, 0, n)
        left -= n
      }
      fs.closeSync(fd)
      bytes += each
    }
  }
  const m = { files: small + (rest > 0 ? large : 0), bytes, small, large }
  fs.writeFileSync(manifest, JSON.stringify(m) + '\n')
  log(`created in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return { tree, ...m }
}

// ---------------------------------------------------------------------------------------------
// Running contenders.

function contenders(tree) {
  const q = JSON.stringify(tree)
  const node = (id, label, what, env = {}) => ({ id, label, cmd: process.execPath, args: [__filename, '--child', what, tree], env })
  const bin = (id, label, args) => ({ id, label, cmd: RUST_BIN, args, env: {} })
  const sh = (id, label, script) => ({ id, label, cmd: '/bin/sh', args: ['-c', script], env: {}, shell: true })
  return [
    node('ours-key', 'ours: `plan()` via the addon (key)', 'ours-key'),
    node('ours-key-1t', 'ours: `plan()`, RAYON_NUM_THREADS=1', 'ours-key', { RAYON_NUM_THREADS: '1' }),
    bin('ours-key-rs', 'ours: `plan_context` (Rust driver, key)', ['key', tree, '/ctx']),
    bin('ours-key+tar', 'ours: key + tar to /dev/null (Rust driver)', ['archive', tree, '/ctx']),
    node('sdk-key', 'official: `computeHashForPathMd5` (key)', 'sdk-key'),
    node('sdk-key+tar', 'official: key + node-tar to a null sink', 'sdk-key+tar'),
    sh('sha256sum', '`find | xargs -0 sha256sum` (1 process)', `find ${q} -type f -print0 | xargs -0 sha256sum > /dev/null`),
    sh('md5sum', '`find | xargs -0 md5sum` (1 process)', `find ${q} -type f -print0 | xargs -0 md5sum > /dev/null`),
    sh('cat', '`find | xargs -0 cat > /dev/null` (read only)', `find ${q} -type f -print0 | xargs -0 cat > /dev/null`),
  ]
}

const hasTime = fs.existsSync(TIME)

function runOnce(c) {
  const rssFile = path.join(os.tmpdir(), `bench-rss-${process.pid}`)
  const [cmd, args] = hasTime ? [TIME, ['-f', '%M', '-o', rssFile, c.cmd, ...c.args]] : [c.cmd, c.args]
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { env: { ...process.env, ...c.env }, encoding: 'utf8', maxBuffer: 64 * MiB })
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${c.id} failed (${r.status}): ${r.stderr}`)
  let res = {}
  if (!c.shell) {
    const line = r.stdout.trim().split('\n').pop()
    res = JSON.parse(line)
  }
  let rssKiB = res.max_rss_kib
  if (hasTime) {
    rssKiB = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop())
    fs.rmSync(rssFile, { force: true })
  }
  const opMs = c.shell ? wallMs : res.op_ms ?? res.total_ms
  return { ...res, op_ms: opMs, wall_ms: wallMs, rss_kib: rssKiB }
}

function dropCache(tree) {
  const r = spawnSync(RUST_BIN, ['drop-cache', tree], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`drop-cache failed: ${r.stderr}`)
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const fmtS = (ms) => (ms / 1000).toFixed(3)
const fmtRate = (bytes, ms) => (bytes / MiB / (ms / 1000)).toFixed(0)
const fmtMiB = (kib) => (kib / 1024).toFixed(1)

function log(msg) {
  process.stderr.write(`[context-bench] ${msg}\n`)
}

// Which .node file the children load: NAPI_RS_NATIVE_LIBRARY_PATH (honoured by the generated
// binding.js) or the one next to binding.js.
function addonInfo() {
  const file = process.env.NAPI_RS_NATIVE_LIBRARY_PATH || path.join(ROOT, 'daytona-native.linux-x64-gnu.node')
  let size = 'missing'
  try {
    const mb = fs.statSync(file).size / MiB
    size = `${mb.toFixed(1)} MiB${mb > 20 ? ', probably a DEBUG build' : ''}`
  } catch {}
  return `${path.relative(ROOT, file) || file} (${size})`
}

function sysinfo() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1]
  return `${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${os.release()}, node ${process.version}`
}

async function main() {
  const sizeMiB = Number(process.env.BENCH_SIZE_MB || 1024)
  const small = Number(process.env.BENCH_SMALL_FILES || 20000)
  const large = Number(process.env.BENCH_LARGE_FILES || 4)
  const coldMode = process.env.BENCH_COLD || ''
  const reps = coldMode === 'only' ? 0 : Math.max(3, Number(process.env.BENCH_REPS || 5))
  const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null
  if (!fs.existsSync(RUST_BIN)) {
    throw new Error(`${RUST_BIN} is missing: cargo build --release --manifest-path bench/context-archive/Cargo.toml`)
  }
  fs.mkdirSync(DATA, { recursive: true })
  const t = ensureTree(sizeMiB, small, large)
  const loadStart = os.loadavg()
  const list = contenders(t.tree).filter((c) => !only || only.has(c.id))

  // Warm the page cache (read everything twice) and check the addon is loadable.
  log('warming the page cache ...')
  for (let i = 0; i < 2; i++) runOnce(contenders(t.tree).find((c) => c.id === 'cat'))
  const baseline = runOnce({ id: 'node-baseline', cmd: process.execPath, args: [__filename, '--child', 'node-baseline', t.tree], env: {} })

  const results = Object.fromEntries(list.map((c) => [c.id, []]))
  for (let rep = 0; rep < reps; rep++) {
    // Interleaved, with the starting contender rotating so that none always runs first.
    for (let j = 0; j < list.length; j++) {
      const c = list[(j + rep) % list.length]
      const r = runOnce(c)
      results[c.id].push(r)
      log(`rep ${rep + 1}/${reps} ${c.id}: ${fmtS(r.op_ms)} s, ${fmtMiB(r.rss_kib)} MiB RSS`)
    }
  }

  let cold = null
  if (coldMode === '1' || coldMode === 'only') {
    cold = {}
    for (const c of list) {
      dropCache(t.tree)
      cold[c.id] = runOnce(c)
      log(`cold ${c.id}: ${fmtS(cold[c.id].op_ms)} s`)
    }
    // Leave the cache warm again for whoever runs next.
    runOnce(contenders(t.tree).find((c) => c.id === 'cat'))
  }

  // Consistency: our key is stable across runs, so is the SDK's; archives have a sane size.
  const keys = (id) => new Set([...(results[id] || []), ...(cold && cold[id] ? [cold[id]] : [])].map((r) => r.key))
  for (const id of ['ours-key', 'ours-key-rs', 'sdk-key']) {
    if (keys(id).size > 1) throw new Error(`${id}: key changed between runs`)
  }

  // ------------------------------------------------------------------ report
  const bytes = t.bytes
  const lines = []
  const p = (s = '') => lines.push(s)
  p(`### Context: ${(bytes / MiB).toFixed(0)} MiB in ${t.files} files (${t.small} small of 1-8 KiB in 400 dirs + ${t.large} large), ${reps ? `warm page cache, ${reps} interleaved reps` : 'cold page cache only'}`)
  p()
  p(`Machine: ${sysinfo()}`)
  p()
  p(`Addon: ${addonInfo()}`)
  p()
  const la = (l) => l.map((x) => x.toFixed(2)).join(' ')
  p(`Load average (1/5/15 min) at start: ${la(loadStart)}, at end: ${la(os.loadavg())} (other work on this machine competes for its cores).`)
  p()
  const stat = {}
  if (reps) {
    p('| contender | median s | best s | MiB/s (median) | peak RSS MiB (max) | notes |')
    p('|---|---:|---:|---:|---:|---|')
    for (const c of list) {
      const rs = results[c.id]
      const med = median(rs.map((r) => r.op_ms))
      const best = Math.min(...rs.map((r) => r.op_ms))
      const rss = Math.max(...rs.map((r) => r.rss_kib))
      stat[c.id] = { med, best, rss }
      let notes = ''
      if (c.id === 'ours-key+tar') {
        const pm = median(rs.map((r) => r.plan_ms))
        const am = median(rs.map((r) => r.archive_ms))
        notes = `plan ${fmtS(pm)} s + tar ${fmtS(am)} s; ${(rs[0].archive_bytes / MiB).toFixed(1)} MiB tar`
        stat[c.id].tar = am
      } else if (c.id === 'sdk-key+tar') {
        const km = median(rs.map((r) => r.key_ms))
        const tm = median(rs.map((r) => r.tar_ms))
        notes = `key ${fmtS(km)} s + tar ${fmtS(tm)} s; ${(rs[0].archive_bytes / MiB).toFixed(1)} MiB tar`
        stat[c.id].tar = tm
      } else if (!c.id.endsWith('sum') && c.id !== 'cat') {
        notes = `child wall (with start-up) median ${fmtS(median(rs.map((r) => r.wall_ms)))} s`
      }
      p(`| ${c.label} | ${fmtS(med)} | ${fmtS(best)} | ${fmtRate(bytes, med)} | ${fmtMiB(rss)} | ${notes} |`)
    }
    p()
    p(`Peak RSS of a node process that only loads the addon: ${fmtMiB(baseline.rss_kib)} MiB.`)
    p()
    const ratio = (a, b) => (stat[a] && stat[b] ? `${(stat[a].med / stat[b].med).toFixed(1)}x (best ${(stat[a].best / stat[b].best).toFixed(1)}x)` : 'n/a')
    p('| ratio (median) | value |')
    p('|---|---:|')
    p(`| official key / ours key (addon) | ${ratio('sdk-key', 'ours-key')} |`)
    p(`| official key+tar / ours key+tar | ${ratio('sdk-key+tar', 'ours-key+tar')} |`)
    p(`| sha256sum / ours key (addon) | ${ratio('sha256sum', 'ours-key')} |`)
    p(`| sha256sum / ours key, 1 thread | ${ratio('sha256sum', 'ours-key-1t')} |`)
    p(`| official key / md5sum | ${ratio('sdk-key', 'md5sum')} |`)
    if (stat['ours-key+tar'] && stat['sdk-key+tar']) {
      p(`| official tar / ours tar (the tar phase alone) | ${(stat['sdk-key+tar'].tar / stat['ours-key+tar'].tar).toFixed(1)}x |`)
    }
    p()
    if (stat['ours-key'] && stat['sdk-key']) {
      const ok = (b) => (b ? 'met' : 'MISSED')
      const r8 = stat['sdk-key'].med / stat['ours-key'].med
      p(`Targets: ours >= 8x faster than the official key: ${ok(r8 >= 8)} (${r8.toFixed(1)}x); ` +
        (stat.sha256sum ? `faster than single-process sha256sum: ${ok(stat['ours-key'].med < stat.sha256sum.med)}; ` : '') +
        `peak RSS < 100 MB: ${ok(['ours-key', 'ours-key-rs', 'ours-key+tar'].every((id) => !stat[id] || stat[id].rss * 1024 < 100e6))}.`)
      p()
    }
  }
  if (cold) {
    p('Cold page cache (guest only: `posix_fadvise(DONTNEED)` on every file first; one run each):')
    p()
    p('| contender | s | MiB/s | peak RSS MiB |')
    p('|---|---:|---:|---:|')
    for (const c of list) {
      const r = cold[c.id]
      p(`| ${c.label} | ${fmtS(r.op_ms)} | ${fmtRate(bytes, r.op_ms)} | ${fmtMiB(r.rss_kib)} |`)
    }
    p()
  }
  const text = lines.join('\n')
  process.stdout.write(text + '\n')
  const outFile = path.join(DATA, `context-results-${sizeMiB}m${reps ? '' : '-cold'}.json`)
  fs.writeFileSync(outFile, JSON.stringify({ machine: sysinfo(), tree: t, reps, results, cold, baseline }, null, 1))
  log(`raw results: ${outFile}`)
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4]).catch((e) => {
    console.error(e)
    process.exit(1)
  })
} else {
  main().catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
