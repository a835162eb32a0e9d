'use strict'
// Runs in the consumer test's Debian 11 root (scripts/consumer-test.sh): daytona-native as a user
// installs it from the packed tarballs, no Rust, no compiler, no Docker, no network.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const dn = require('daytona-native')
const { Image, DaytonaError, DaytonaNotFoundError, DaytonaBuildError } = dn

async function main() {
  const glibc = process.report.getReport().header.glibcVersionRuntime
  const main = path.dirname(require.resolve('daytona-native/package.json'))
  assert.deepEqual(fs.readdirSync(main).filter((f) => f.endsWith('.node')), [], 'the main package carries no binary')
  const manifest = require('daytona-native/package.json')
  assert.equal(manifest.scripts, undefined, 'the published package.json has no scripts')
  const binary = require.resolve('daytona-native-linux-x64-gnu')
  assert.ok(require.cache[binary], `the addon was loaded from ${binary}`)

  fs.mkdirSync('ctx', { recursive: true })
  fs.writeFileSync('ctx/data.csv', 'a,b\n1,2\n')
  const image = Image.debianSlim('3.12')
    .pipInstall(['numpy'])
    .workdir('/home/daytona')
    .env({ A: 'b' })
    .addLocalFile('ctx/data.csv', '/home/daytona/data.csv')
  assert.match(image.dockerfile, /^FROM python:3\.12/)
  assert.match(image.dockerfile, /pip install numpy/)
  assert.equal(image.contextList.length, 1)

  const plan = await image.plan()
  assert.equal(plan.dockerfile, image.dockerfile)
  assert.equal(plan.contexts.length, 1)
  assert.match(plan.contexts[0].key, /^[0-9a-f]{64}$/)
  assert.equal(plan.contexts[0].files, 1)
  assert.match(plan.cacheKey, /[0-9a-f]{64}/)

  // Errors built by Rust are the package's JS classes.
  const missing = Image.base('busybox').dockerfileCommands(['COPY missing.txt /x'], 'ctx')
  await assert.rejects(missing.plan(), (e) => {
    assert.ok(e instanceof DaytonaNotFoundError, `${e && e.name}: ${e && e.message}`)
    assert.ok(e instanceof DaytonaError && e instanceof Error)
    assert.equal(e.name, 'DaytonaNotFoundError')
    assert.match(e.message, /missing\.txt/)
    return true
  })
  assert.throws(() => Image.debianSlim('2.7'), (e) => e instanceof DaytonaError && e.constructor !== Error)
  assert.ok(new DaytonaBuildError('m') instanceof DaytonaError)

  console.log(`consumer (CommonJS): glibc ${glibc}, Node ${process.version}, addon ${path.relative(process.cwd(), binary)}; Image, plan() and error classes OK`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
