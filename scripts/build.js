#!/usr/bin/env node
'use strict'
// `npm run build` (also run by `npm install` / `npm ci` in a checkout, through `prepare`): the
// in-sandbox toolbox agent (scripts/build-agent.js), the release addon, generated loader
// (binding.js) and typings (binding.d.ts).
//
// On a Linux x64 glibc host this is the binary that ships in daytona-native-linux-x64-gnu: it is
// compiled and linked with napi-rs's cross toolchain (gcc with a glibc 2.17 sysroot, from the npm
// registry), so it loads on any glibc >= 2.17 (`__test__/packaging.test.js` checks the symbol
// versions). Everywhere else it is a plain release build for the host, which is what the CI
// matrix of each other target does (README: "Platforms").
//
//   node scripts/build.js [--host-toolchain] [extra napi build args...]
//
// --host-toolchain (or DAYTONA_NATIVE_HOST_TOOLCHAIN=1) skips the cross toolchain: a binary for
// this machine's glibc only, not one to publish.

const { spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const NAPI_ARGS = ['build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts']

// The cross toolchain package for an x64 host building x86_64-unknown-linux-gnu. @napi-rs/cli
// 3.10 asks for it at @napi-rs/cross-toolchain's own version (1.0.5), which was never published
// for this target (the registry has 0.0.16 and 1.0.0), so `--use-napi-cross` alone fails with a
// 404 on a fresh machine. We fetch 1.0.0 (pinned by integrity) and unpack it where the CLI looks
// for an already extracted toolchain.
const TOOLCHAIN = {
  triple: 'x86_64-unknown-linux-gnu',
  pkg: '@napi-rs/cross-toolchain-x64-target-x86_64',
  version: '1.0.0',
  integrity:
    'sha512-lecoghCfoTAX9MLFcIx9/nL9M8xdkZ9n8Pki8qjKUNzjiq1zbECdEbzIZAMMHRtrXxifK9dAyYuh8gSxNbr2og==',
}

function say(msg) {
  process.stderr.write(`build: ${msg}\n`)
}

function isGlibcLinuxX64() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false
  const report = process.report && process.report.getReport ? process.report.getReport() : null
  return Boolean(report && report.header && report.header.glibcVersionRuntime)
}

function fromCli(request) {
  const cliDir = path.dirname(require.resolve('@napi-rs/cli/package.json', { paths: [ROOT] }))
  return require.resolve(request, { paths: [cliDir, ROOT] })
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

// The toolchain is a .tar.xz; xz-utils is not in a minimal Debian (CI), so install it there.
function ensureXz() {
  if (onPath('xz')) return
  if (process.getuid && process.getuid() === 0 && onPath('apt-get')) {
    say('installing xz-utils (apt-get) to unpack the toolchain')
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const install = ['install', '-y', '-qq', '--no-install-recommends', 'xz-utils']
    if (spawnSync('apt-get', install, { env, stdio: 'ignore' }).status !== 0) {
      execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' })
      execFileSync('apt-get', install, { env, stdio: 'inherit' })
    }
    return
  }
  throw new Error('xz is needed to unpack the toolchain: install xz-utils (or your distribution\'s xz)')
}

// Returns the directory @napi-rs/cli's --use-napi-cross reads the toolchain from, after making
// sure an extracted toolchain is there.
function ensureCrossToolchain() {
  const cliToolchainVersion = require(fromCli('@napi-rs/cross-toolchain/package.json')).version
  const dir = path.join(os.homedir(), '.napi-rs', 'cross-toolchain', cliToolchainVersion, TOOLCHAIN.triple)
  if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'bin'))) return dir

  const t0 = Date.now()
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'daytona-native-toolchain-'))
  try {
    const spec = `${TOOLCHAIN.pkg}@${TOOLCHAIN.version}`
    say(`fetching ${spec} (gcc + glibc 2.17 sysroot, ~49 MB) from the npm registry`)
    const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tmp], {
      cwd: tmp,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const [info] = JSON.parse(out)
    if (info.integrity !== TOOLCHAIN.integrity) {
      throw new Error(`${spec}: integrity ${info.integrity}, expected ${TOOLCHAIN.integrity}`)
    }
    execFileSync('tar', ['--no-same-owner', '-xzf', path.join(tmp, info.filename), '-C', tmp])
    ensureXz()
    const staged = path.join(tmp, 'toolchain')
    fs.mkdirSync(staged)
    execFileSync('tar', ['--no-same-owner', '-xJf', path.join(tmp, 'package', `${TOOLCHAIN.triple}.tar.xz`), '-C', staged])
    if (!fs.existsSync(path.join(staged, 'bin', `${TOOLCHAIN.triple}-gcc`))) {
      throw new Error(`${spec} holds no bin/${TOOLCHAIN.triple}-gcc`)
    }
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    fs.renameSync(staged, dir)
    say(`cross toolchain ready in ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
    return dir
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

function main() {
  const args = process.argv.slice(2)
  let hostToolchain = process.env.DAYTONA_NATIVE_HOST_TOOLCHAIN === '1'
  const extra = args.filter((a) => {
    if (a === '--host-toolchain') hostToolchain = true
    return a !== '--host-toolchain'
  })
  const napiArgs = [...NAPI_ARGS]
  if (isGlibcLinuxX64() && !hostToolchain) {
    try {
      ensureCrossToolchain()
    } catch (e) {
      say(`could not set up the glibc 2.17 cross toolchain: ${e.message}`)
      say('a build for this machine only: npm run build -- --host-toolchain')
      process.exit(1)
    }
    napiArgs.push('--target', TOOLCHAIN.triple, '--use-napi-cross')
  }
  napiArgs.push(...extra)
  const agent = spawnSync(process.execPath, [path.join(__dirname, 'build-agent.js')], { cwd: ROOT, stdio: 'inherit' })
  if (agent.status !== 0) process.exit(agent.status === null ? 1 : agent.status)
  const napi = path.join(path.dirname(fromCli('@napi-rs/cli/package.json')), 'cli.mjs')
  say(`napi ${napiArgs.join(' ')}`)
  const r = spawnSync(process.execPath, [napi, ...napiArgs], { cwd: ROOT, stdio: 'inherit' })
  if (r.error) throw r.error
  process.exit(r.status === null ? 1 : r.status)
}

main()
