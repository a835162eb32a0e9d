#!/usr/bin/env node
'use strict'
// Builds the in-sandbox toolbox agent (crates/agent) as a static Linux executable and puts it
// where the package looks for it: agent/<arch>/daytona-native-agent. It goes into every local
// sandbox, whatever libc the image has (or none), so it is linked statically (glibc's static
// libc.a from the host's libc6-dev: no NSS calls in the agent) and its build uses its own
// target directory, so the addon's build cache is untouched by the different RUSTFLAGS.
//
//   node scripts/build-agent.js [--debug]
//
// Only an x86_64 Linux host builds it here; elsewhere the package is used without an agent
// (sandboxes then have no sessions, PTY or code interpreter) unless agent/ was filled by the
// release pipeline.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const TRIPLE = 'x86_64-unknown-linux-gnu'

function say(msg) {
  process.stderr.write(`build-agent: ${msg}\n`)
}

function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    say(`skipped: the agent is built on x86_64 Linux hosts only (this is ${process.platform}-${process.arch})`)
    return 0
  }
  const profile = process.argv.includes('--debug') ? 'debug' : 'release'
  const targetDir = path.join(ROOT, 'target', 'agent')
  const args = ['build', '-p', 'daytona-agent', '--target', TRIPLE, '--target-dir', targetDir]
  if (profile === 'release') args.push('--release')
  const env = { ...process.env, RUSTFLAGS: '-C target-feature=+crt-static' }
  const t0 = Date.now()
  say(`cargo ${args.join(' ')} (RUSTFLAGS=${env.RUSTFLAGS})`)
  const r = spawnSync('cargo', args, { cwd: ROOT, env, stdio: 'inherit' })
  if (r.error) throw r.error
  if (r.status !== 0) return r.status === null ? 1 : r.status
  const built = path.join(targetDir, TRIPLE, profile, 'daytona-native-agent')
  const dest = path.join(ROOT, 'agent', 'x86_64', 'daytona-native-agent')
  fs.mkdirSync(path.dirname(dest), { recursive: true })
  // Copy through a temporary name: a sandbox being created reads the file meanwhile.
  fs.copyFileSync(built, `${dest}.tmp`)
  fs.chmodSync(`${dest}.tmp`, 0o755)
  fs.renameSync(`${dest}.tmp`, dest)
  say(`${path.relative(ROOT, dest)}: ${fs.statSync(dest).size} bytes (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
  return 0
}

process.exit(main())
