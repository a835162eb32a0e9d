'use strict'
// Packaging: the binary that ships (its glibc floor), the per-platform package layout, the
// published package.json, and what `require` says when no binary loads.
// scripts/consumer-test.sh covers the installed packages end to end (Debian 11, no network).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { parseTriple } = require('@napi-rs/cli')

const ROOT = path.resolve(__dirname, '..')
const pkg = require('../package.json')
const targets = pkg.napi.targets.map(parseTriple)
const linuxX64Gnu = process.platform === 'linux' && process.arch === 'x64' && Boolean(process.report.getReport().header.glibcVersionRuntime)
const BINARY = path.join(ROOT, `${pkg.napi.binaryName}.linux-x64-gnu.node`)

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'daytona-native-packaging-'))
}

function versionAbove(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) > (pb[i] || 0)
  }
  return false
}

test('the Linux x64 glibc binary needs no GLIBC symbol version above 2.17 (objdump -T)', { skip: !linuxX64Gnu && 'not linux-x64-gnu' }, (t) => {
  assert.ok(fs.existsSync(BINARY), `${BINARY} exists (npm run build)`)
  let out
  try {
    out = execFileSync('objdump', ['-T', BINARY], { encoding: 'utf8', maxBuffer: 64 << 20 })
  } catch (e) {
    assert.fail(`objdump -T failed (binutils installed?): ${e.message}`)
  }
  // `npm run build:debug` (host toolchain, for quick iteration) writes the same file; only the
  // release build is the shipped one.
  const sections = execFileSync('objdump', ['-h', BINARY], { encoding: 'utf8', maxBuffer: 64 << 20 })
  if (/\.debug_info/.test(sections)) {
    t.skip('a debug build (npm run build:debug); npm run build makes the shipped binary')
    return
  }
  const versions = [...new Set(out.match(/GLIBC_[0-9.]+/g) || [])].map((v) => v.slice(6))
  assert.ok(versions.length > 0, 'objdump lists GLIBC versions')
  const tooNew = versions.filter((v) => versionAbove(v, '2.17'))
  assert.deepEqual(tooNew, [], `symbol versions above GLIBC_2.17: ${tooNew.join(', ')}`)
})

test('npm/<platform> holds one package per napi target, as napi create-npm-dirs makes them', () => {
  const dirs = fs.readdirSync(path.join(ROOT, 'npm')).sort()
  assert.deepEqual(dirs, targets.map((t) => t.platformArchABI).sort())
  for (const t of targets) {
    const dir = path.join(ROOT, 'npm', t.platformArchABI)
    const p = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    const file = `${pkg.napi.binaryName}.${t.platformArchABI}.node`
    assert.equal(p.name, `${pkg.name}-${t.platformArchABI}`)
    assert.equal(p.version, pkg.version)
    assert.deepEqual(p.os, [t.platform])
    assert.deepEqual(p.cpu, [t.arch])
    if (t.platform === 'linux') assert.deepEqual(p.libc, [t.abi === 'musl' ? 'musl' : 'glibc'])
    assert.equal(p.main, file)
    assert.deepEqual(p.files, [file])
    assert.equal(p.license, pkg.license)
    assert.deepEqual(p.repository, pkg.repository)
    assert.equal(p.scripts, undefined)
    assert.ok(fs.existsSync(path.join(dir, 'LICENSE')), `${t.platformArchABI}/LICENSE`)
  }
})

test('the published package.json has no scripts and depends on every platform package', () => {
  const dir = tmpdir()
  try {
    fs.mkdirSync(path.join(dir, 'scripts'))
    fs.copyFileSync(path.join(ROOT, 'scripts/publish-manifest.js'), path.join(dir, 'scripts/publish-manifest.js'))
    fs.cpSync(path.join(ROOT, 'npm'), path.join(dir, 'npm'), { recursive: true })
    const original = fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')
    fs.writeFileSync(path.join(dir, 'package.json'), original)
    const script = path.join(dir, 'scripts/publish-manifest.js')

    execFileSync(process.execPath, [script, 'write'])
    const published = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    assert.equal(published.scripts, undefined, 'no prepare/install script ships')
    assert.equal(published.devDependencies, undefined)
    assert.deepEqual(
      published.optionalDependencies,
      Object.fromEntries(targets.map((t) => [`${pkg.name}-${t.platformArchABI}`, pkg.version]).sort()),
    )
    for (const key of ['name', 'version', 'main', 'types', 'exports', 'files', 'license', 'repository', 'engines', 'napi']) {
      assert.deepEqual(published[key], pkg[key], key)
    }
    // An interrupted pack (no postpack) is repaired by the next write.
    execFileSync(process.execPath, [script, 'write'])
    execFileSync(process.execPath, [script, 'restore'])
    assert.equal(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'), original)
    assert.ok(!fs.existsSync(path.join(dir, '.package.json.dev')))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('the main package ships the JS, typings, LICENSE, README, the in-sandbox agent and the serve command, and no addon', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })
  const files = JSON.parse(out)[0].files.map((f) => f.path).sort()
  assert.deepEqual(files, [
    'LICENSE',
    'README.md',
    'agent/x86_64/daytona-native-agent',
    'bin/daytona-native.js',
    'binding.d.ts',
    'binding.js',
    'errors.js',
    'index.d.ts',
    'index.js',
    'load-binding.js',
    'package.json',
  ])
})

// The agent runs inside sandboxes of any image (busybox, distroless, another libc): it must be
// a static x86-64 ELF executable, i.e. one without a program interpreter (PT_INTERP).
test('the in-sandbox agent is a static x86-64 Linux executable', () => {
  const elf = fs.readFileSync(path.join(ROOT, 'agent', 'x86_64', 'daytona-native-agent'))
  assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF')
  assert.equal(elf[4], 2, 'ELFCLASS64')
  assert.equal(elf.readUInt16LE(0x12), 0x3e, 'EM_X86_64')
  const phoff = Number(elf.readBigUInt64LE(0x20))
  const phentsize = elf.readUInt16LE(0x36)
  const phnum = elf.readUInt16LE(0x38)
  const types = Array.from({ length: phnum }, (_, i) => elf.readUInt32LE(phoff + i * phentsize))
  assert.ok(types.length > 0)
  assert.ok(!types.includes(3), 'has a PT_INTERP segment: dynamically linked')
})

// Runs `require(<dir>/index.js)` in a child process, optionally pretending to be another
// platform, and returns the error it throws.
function loadError(dir, fake) {
  const preload = fake
    ? `Object.defineProperty(process, 'platform', { value: ${JSON.stringify(fake.platform)} }); Object.defineProperty(process, 'arch', { value: ${JSON.stringify(fake.arch)} });`
    : ''
  const code = `${preload}
    try { require(${JSON.stringify(path.join(dir, 'index.js'))}); console.log(JSON.stringify({ loaded: true })) }
    catch (e) { console.log(JSON.stringify({ message: e.message, code: e.code, platform: e.platform, supported: e.supportedPlatforms, hasCause: Boolean(e.cause) })) }`
  const env = { ...process.env }
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

function copyOfJs() {
  const dir = tmpdir()
  for (const f of ['index.js', 'errors.js', 'load-binding.js', 'binding.js', 'package.json']) {
    fs.copyFileSync(path.join(ROOT, f), path.join(dir, f))
  }
  return dir
}

const supportedNames = targets.map((t) => t.platformArchABI)

function assertActionable(e) {
  assert.equal(e.code, 'ERR_DAYTONA_NATIVE_BINDING')
  assert.ok(e.hasCause, 'napi loader errors kept as cause')
  assert.deepEqual(e.supported, supportedNames)
  assert.ok(e.message.includes(supportedNames.join(', ')), e.message)
  assert.doesNotMatch(e.message, /npm has a bug|npm i again|removing both package-lock/)
  assert.match(e.message, /git clone \S+ daytona-native && cd daytona-native && npm install/)
  assert.match(e.message, /NAPI_RS_NATIVE_LIBRARY_PATH=/)
}

test('an unsupported platform: the error names it, the supported list and how to build from source', () => {
  const e = loadError(ROOT, { platform: 'freebsd', arch: 'x64' })
  assertActionable(e)
  assert.equal(e.platform, 'freebsd-x64')
  assert.match(e.message, /no prebuilt binary for freebsd-x64/)
  assert.match(e.message, /daytona-native\.freebsd-x64\.node/)
  const riscv = loadError(ROOT, { platform: 'linux', arch: 'riscv64' })
  assert.equal(riscv.platform, 'linux-riscv64-gnu')
  assert.match(riscv.message, /no prebuilt binary for linux-riscv64-gnu/)
})

test('a supported platform whose package is missing: the error names the package to install', { skip: !linuxX64Gnu && 'not linux-x64-gnu' }, () => {
  const dir = copyOfJs()
  try {
    const e = loadError(dir)
    assertActionable(e)
    assert.equal(e.platform, 'linux-x64-gnu')
    assert.match(e.message, new RegExp(`npm install ${pkg.name}-linux-x64-gnu@${pkg.version.replace(/\./g, '\\.')}`))
    assert.match(e.message, /optional dependency/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a binary that is present but cannot load: the error says why', { skip: !linuxX64Gnu && 'not linux-x64-gnu' }, () => {
  const dir = copyOfJs()
  try {
    const platformDir = path.join(dir, 'node_modules', `${pkg.name}-linux-x64-gnu`)
    fs.mkdirSync(platformDir, { recursive: true })
    fs.copyFileSync(path.join(ROOT, 'npm/linux-x64-gnu/package.json'), path.join(platformDir, 'package.json'))
    fs.writeFileSync(path.join(platformDir, `${pkg.napi.binaryName}.linux-x64-gnu.node`), 'not an ELF file')
    const e = loadError(dir)
    assertActionable(e)
    assert.match(e.message, /is installed but its binary failed to load: .*(invalid ELF header|too short)/)
    assert.match(e.message, /glibc 2\.17 or newer/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
