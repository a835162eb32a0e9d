'use strict'
// The Image builder methods this package adds (aptInstall, uvPipInstall, user, label, expose,
// skipCache, chmod/chown of addLocalFile/addLocalDir, the pip cache mount): the exact Dockerfile
// text, chaining, argument errors (DaytonaInvalidArgumentError, nothing appended), the official
// text when their options are absent, and builds of the ones the local engine's classic builder
// can run (USER, LABEL, EXPOSE, skipCache, COPY --chown) checked with `docker image inspect`.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const Official = require('@daytonaio/sdk')
const { Image, DaytonaInvalidArgumentError, DaytonaNotFoundError } = require('../index.js')

let dir
let file
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-image-ext-'))
  file = path.join(dir, 'run.sh')
  fs.writeFileSync(file, '#!/bin/sh\necho hi\n')
  fs.mkdirSync(path.join(dir, 'src'))
  fs.writeFileSync(path.join(dir, 'src', 'a.txt'), 'a\n')
})
after(() => fs.rmSync(dir, { recursive: true, force: true }))

const APT_TAIL = ' && rm -rf /var/lib/apt/lists/*'

/** Asserts that `f()` throws DaytonaInvalidArgumentError with `message`. */
function invalid(f, message) {
  assert.throws(f, (e) => {
    assert.ok(e instanceof DaytonaInvalidArgumentError, `${e.name}: ${e.message}`)
    assert.equal(e.message, message)
    return true
  })
}

describe('Dockerfile text', () => {
  test('aptInstall', () => {
    const image = Image.base('debian:bookworm')
      .aptInstall(['git', 'curl', 'pkg[x]'])
      .aptInstall('vim', { noInstallRecommends: true })
      .aptInstall([])
    assert.equal(
      image.dockerfile,
      'FROM debian:bookworm\n' +
        `RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y curl git pkg\\[x\\]${APT_TAIL}\n` +
        `RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends vim${APT_TAIL}\n`,
    )
  })

  test('uvPipInstall, with the pip options and the cache mount', () => {
    const image = Image.base('python:3.12')
      .uvPipInstall(['requests', 'numpy>=2'])
      .uvPipInstall('torch', { indexUrl: 'https://i.example/simple', pre: true, extraOptions: ' --no-deps ', cacheMount: true })
    assert.equal(
      image.dockerfile,
      'FROM python:3.12\n' +
        'RUN python -m pip install uv && python -m uv pip install --system numpy\\>\\=2 requests\n' +
        'RUN --mount=type=cache,target=/root/.cache/pip --mount=type=cache,target=/root/.cache/uv ' +
        'python -m pip install uv --index-url https\\://i.example/simple && ' +
        'python -m uv pip install --system --link-mode copy torch --index-url https\\://i.example/simple --pre --no-deps\n',
    )
  })

  test('pipInstall and pipInstallFromRequirements with cacheMount', () => {
    const req = path.join(dir, 'requirements.txt')
    fs.writeFileSync(req, 'six\n')
    const image = Image.base('python:3.12').pipInstall(['b', 'a'], { cacheMount: true, pre: true }).pipInstallFromRequirements(req, { cacheMount: true })
    assert.equal(
      image.dockerfile,
      'FROM python:3.12\n' +
        'RUN --mount=type=cache,target=/root/.cache/pip python -m pip install a b --pre\n' +
        `COPY ${req} /.requirements.txt\n` +
        'RUN --mount=type=cache,target=/root/.cache/pip python -m pip install -r /.requirements.txt\n',
    )
  })

  test('user, label, expose', () => {
    const image = Image.base('x')
      .user('daytona')
      .user(1000)
      .label({ 'org.opencontainers.image.title': 'My app', q: 'say "hi" to $USER \\o/' })
      .label({})
      .expose(8080)
      .expose([80, 443])
      .expose([])
    assert.equal(
      image.dockerfile,
      'FROM x\nUSER daytona\nUSER 1000\n' +
        'LABEL "org.opencontainers.image.title"="My app" "q"="say \\"hi\\" to \\$USER \\\\o/"\n' +
        'EXPOSE 8080\nEXPOSE 80 443\n',
    )
  })

  test('addLocalFile and addLocalDir with chmod and chown', () => {
    const image = Image.base('x')
      .addLocalFile(file, '/usr/local/bin/', { chmod: '755', chown: 'daytona:daytona' })
      .addLocalDir(path.join(dir, 'src'), '/app', { chown: '1000', dockerignore: false })
    assert.equal(
      image.dockerfile,
      `FROM x\nCOPY --chmod=755 --chown=daytona:daytona ${file} /usr/local/bin/run.sh\nCOPY --chown=1000 ${path.join(dir, 'src')} /app\n`,
    )
    assert.deepEqual(
      image.contextList.map((c) => c.sourcePath),
      [file, path.join(dir, 'src')],
    )
  })

  test('skipCache: a new step on every call, and a new cache key', async () => {
    const a = Image.base('x').skipCache()
    const b = Image.base('x').skipCache()
    assert.match(a.dockerfile, /^FROM x\nRUN echo skip-cache [0-9a-f]{16}\n$/)
    assert.notEqual(a.dockerfile, b.dockerfile)
    const [ka, kb, kplain] = await Promise.all([a.plan(), b.plan(), Image.base('x').plan()])
    assert.notEqual(ka.cacheKey, kb.cacheKey)
    assert.notEqual(ka.cacheKey, kplain.cacheKey)
    // the same Image keeps its text: planning it again gives the same key
    assert.equal((await a.plan()).cacheKey, ka.cacheKey)
  })

  test('every new method returns the same instance', () => {
    const image = Image.base('x')
    const calls = [
      ['aptInstall', ['git']],
      ['uvPipInstall', ['six', { cacheMount: true }]],
      ['pipInstall', ['six', { cacheMount: true }]],
      ['user', ['root']],
      ['label', [{ a: 'b' }]],
      ['expose', [[80]]],
      ['skipCache', []],
      ['addLocalFile', [file, '/f', { chmod: '0644' }]],
      ['addLocalDir', [dir, '/d', { chown: 'root' }]],
    ]
    for (const [m, args] of calls) assert.equal(image[m](...args), image, `${m} returns this`)
  })
})

describe('absent options change nothing', () => {
  test('the official text: empty and undefined options are no options', () => {
    const req = path.join(dir, 'requirements.txt')
    fs.writeFileSync(req, 'six\n')
    const build = (Image, opts) =>
      Image.base('python:3.12')
        .pipInstall(['b', 'a'], opts.pip)
        .pipInstallFromRequirements(req, opts.pip)
        .addLocalFile(file, '/f', opts.copy)
        .addLocalDir(path.join(dir, 'src'), '/d', opts.copy).dockerfile
    const official = build(Official.Image, {})
    for (const opts of [
      {},
      { pip: {}, copy: {} },
      { pip: { cacheMount: false }, copy: { chmod: undefined, chown: null } },
      { pip: { cacheMount: 0 }, copy: { dockerignore: true } },
    ]) {
      assert.equal(build(Image, opts), official, JSON.stringify(opts))
    }
    assert.equal(Image.base('x').addLocalFile(file, '/r', {}).dockerfile, Image.base('x').addLocalFile(file, '/r').dockerfile)
  })
})

describe('argument errors', () => {
  test('each bad argument is a DaytonaInvalidArgumentError that says what to fix; nothing is appended', () => {
    const image = Image.base('x')
    const cases = [
      [() => image.aptInstall(['git\nRUN rm -rf /']), 'aptInstall: package "git\\nRUN rm -rf /" contains \'\\n\'; pass each package as its own array element, without whitespace'],
      [() => image.aptInstall(['-y']), 'aptInstall: package "-y" starts with "-"; apt-get would read it as an option (use noInstallRecommends, or runCommands for other options)'],
      [() => image.aptInstall([1]), 'aptInstall: packages must be a string or an array of strings'],
      [() => image.uvPipInstall(['a\nb']), 'uvPipInstall: package "a\\nb" contains the control character \'\\n\'; remove it'],
      [() => image.uvPipInstall('a', { extraIndexUrls: ['https://x\n'] }), 'uvPipInstall: index URL "https://x\\n" contains the control character \'\\n\'; remove it'],
      [() => image.user(''), 'user: name must not be empty; give a user name or id such as "daytona" or "1000:1000"'],
      [() => image.user('a b'), 'user: name "a b" contains \' \'; a user or group name has no whitespace or control characters'],
      [() => image.user(), 'user: name must be a user name or id, optionally with a group ("daytona", "1000:1000"); got undefined'],
      [() => image.label({ '': 'v' }), 'label: a label key is empty; give every label a name such as "org.opencontainers.image.source"'],
      [() => image.label({ k: 1, j: 'x', i: null }), 'label: label values must be strings. Invalid keys: k,i'],
      [() => image.label({ k: 'a\nb' }), 'label: value of label "k": "a\\nb" contains the control character \'\\n\'; remove it'],
      [() => image.label(['a']), 'label: labels must be an object whose values are strings, such as { "org.opencontainers.image.source": "https://..." }; got an array'],
      [() => image.expose(0), 'expose: port 0 is outside 1-65535'],
      [() => image.expose([80, 70000]), 'expose: port 70000 is outside 1-65535'],
      [() => image.expose(['80']), 'expose: ports must be integers from 1 to 65535; got the string "80"'],
      [() => image.expose(80.5), 'expose: ports must be integers from 1 to 65535; got the number 80.5'],
      [() => image.addLocalFile(file, '/f', { chmod: 'rwx' }), 'addLocalFile: chmod must be an octal mode of 3 or 4 digits such as "755" or "0644"; got "rwx"'],
      [() => image.addLocalFile(file, '/f', { chmod: 0o755 }), 'addLocalFile: chmod must be a string of octal digits such as "755" or "0644" (a number would be read in decimal); got the number 493'],
      [() => image.addLocalDir(dir, '/d', { chown: 'a b' }), 'addLocalDir: chown "a b" contains \' \'; a user or group name has no whitespace or control characters'],
      [() => image.addLocalDir(dir, '/d', { dockerignore: 'no' }), 'addLocalDir: dockerignore must be a boolean; got the string "no"'],
      // options are checked before the path
      [() => image.addLocalFile(path.join(dir, 'missing'), '/f', { chmod: '9' }), 'addLocalFile: chmod must be an octal mode of 3 or 4 digits such as "755" or "0644"; got "9"'],
    ]
    for (const [f, message] of cases) invalid(f, message)
    assert.equal(image.dockerfile, 'FROM x\n')
    assert.deepEqual(image.contextList, [])
    // with valid options, a missing path is still the official not-found error
    assert.throws(() => image.addLocalFile(path.join(dir, 'missing'), '/f', { chmod: '644' }), DaytonaNotFoundError)
  })
})

describe('builds on the local engine', () => {
  const E = require('./engine-support/engine.js')
  const { Daytona } = require('../index.js')
  let daytona
  let baseline
  const janitor = new E.ImageJanitor()
  const snapshots = []

  before(() => {
    E.ensureServices()
    baseline = E.containerBaseline()
    daytona = new Daytona({ backend: 'local' })
  })
  after(async () => {
    try {
      for (const name of snapshots) await daytona.snapshot.delete(name).catch(() => {})
      await E.assertNoLeaks(baseline)
    } finally {
      janitor.cleanup()
    }
  })

  /** Builds `image` as snapshot `<name>-<run id>:1`; returns the snapshot's image reference. */
  async function build(image, name) {
    await janitor.track(image)
    const ref = `dn-ext-${name}-${E.RUN_ID}:1`
    snapshots.push(ref)
    await daytona.snapshot.create({ name: ref, image }, { timeout: 120 })
    return ref
  }

  /** Runs `argv` in a throwaway container of `ref` as root (removed at once). */
  const run = (ref, ...argv) => E.docker('run', '--rm', '--user', '0', '--entrypoint', argv[0], ref, ...argv.slice(1))

  test('user, label, expose and COPY --chown end up in the built image', async () => {
    const image = Image.base(E.BUSYBOX)
      .runCommands(`echo ext-config-${E.RUN_ID}`)
      .addLocalFile(file, '/opt/run.sh', { chown: '1234:2345' })
      .user('nobody')
      .label({ 'org.example.title': 'My "app"', 'org.example.literal': '$HOME \\n', 'with space': '' })
      .expose([8080, 9000])
      .expose(53)
    const ref = await build(image, 'config')
    const config = JSON.parse(E.docker('image', 'inspect', ref))[0].Config
    assert.equal(config.User, 'nobody')
    assert.equal(config.Labels['org.example.title'], 'My "app"')
    assert.equal(config.Labels['org.example.literal'], '$HOME \\n')
    assert.equal(config.Labels['with space'], '')
    assert.deepEqual(Object.keys(config.ExposedPorts).sort(), ['53/tcp', '8080/tcp', '9000/tcp'])
    assert.equal(run(ref, 'stat', '-c', '%u:%g', '/opt/run.sh'), '1234:2345')
  })

  /**
   * Builds `image` with the engine's own BuildKit through the Engine API (`version=2`; the
   * context streamed as one tar, no network), as Daytona's servers build: proves that the
   * BuildKit-only text (`COPY --chmod`, `RUN --mount=type=cache`) is accepted. Returns the tag.
   */
  async function buildKitBuild(image, name) {
    const http = require('node:http')
    const { execFileSync } = require('node:child_process')
    const tag = `dn-ext-bk-${name}-${E.RUN_ID}:1`
    janitor.add(tag)
    const plan = await image.plan()
    const dfDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-image-ext-df-'))
    let tar
    try {
      fs.writeFileSync(path.join(dfDir, 'Dockerfile'), plan.dockerfile)
      const sources = plan.contexts.map((c) => c.archivePath.replace(/^\/+/, ''))
      tar = execFileSync('tar', ['cf', '-', '-C', dfDir, 'Dockerfile', '-C', '/', ...sources], { maxBuffer: 64 << 20 })
    } finally {
      fs.rmSync(dfDir, { recursive: true, force: true })
    }
    const host = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock'
    assert.ok(host.startsWith('unix://'), `this test talks to the engine over a unix socket, not ${host}`)
    const body = await new Promise((resolve, reject) => {
      const req = http.request(
        {
          socketPath: host.slice('unix://'.length),
          path: `/build?version=2&networkmode=none&t=${encodeURIComponent(tag)}`,
          method: 'POST',
          headers: { 'Content-Type': 'application/x-tar', 'Content-Length': tar.length },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (d) => (text += d))
          res.on('end', () => resolve({ status: res.statusCode, text }))
        },
      )
      req.on('error', reject)
      req.end(tar)
    })
    assert.equal(body.status, 200, body.text)
    const errors = body.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((m) => m.error)
    assert.deepEqual(errors, [], `BuildKit build of:\n${plan.dockerfile}`)
    return tag
  }

  test('BuildKit-only text builds with BuildKit: COPY --chmod, and pip/uv cache mounts that persist across builds', async () => {
    // A stand-in `python` (no network, no pip in busybox): records its arguments, and notes
    // whether the pip cache mount still holds the marker an earlier build left there.
    const fake = path.join(dir, 'python')
    const marker = `/root/.cache/pip/dn-ext-marker-${E.RUN_ID}`
    fs.writeFileSync(
      fake,
      '#!/bin/sh\n' +
        `echo "$*" >> /calls\n` +
        `if [ -d /root/.cache/uv ]; then echo uv-cache >> /calls; fi\n` +
        `if [ -e ${marker} ]; then echo seen > /result; rm -f ${marker}; else echo fresh > /result; touch ${marker}; fi\n`,
    )
    fs.chmodSync(fake, 0o600) // the COPY --chmod makes it executable
    const make = () =>
      Image.base(E.BUSYBOX)
        .addLocalFile(fake, '/usr/local/bin/python', { chmod: '0755', chown: '1234:2345' })
        .runCommands(`echo bk-${E.RUN_ID}`)
        .skipCache()
        .pipInstall(['six'], { cacheMount: true })
    const first = await buildKitBuild(make(), 'pip1')
    const second = await buildKitBuild(make(), 'pip2')
    const uv = await buildKitBuild(
      Image.base(E.BUSYBOX).addLocalFile(fake, '/usr/local/bin/python', { chmod: '755' }).skipCache().uvPipInstall('six', { cacheMount: true }),
      'uv',
    )
    assert.equal(run(first, 'stat', '-c', '%a %u:%g', '/usr/local/bin/python'), '755 1234:2345')
    assert.equal(run(first, 'cat', '/calls'), '-m pip install six')
    assert.equal(run(first, 'cat', '/result'), 'fresh')
    assert.equal(run(second, 'cat', '/result'), 'seen', 'the second build found what the first left in the cache mount')
    assert.equal(run(first, 'ls', '-A', '/root/.cache/pip'), '', 'what is in the cache mount is not part of the image')
    assert.equal(run(uv, 'cat', '/calls'), '-m pip install uv\nuv-cache\n-m uv pip install --system --link-mode copy six\nuv-cache')
  })

  test('skipCache: the step after it runs again on every build; the steps before it stay cached', async () => {
    const stamp = (where) => `echo skip-test-${E.RUN_ID} && cat /proc/sys/kernel/random/uuid > /${where}`
    const skipping = () => Image.base(E.BUSYBOX).runCommands(stamp('before')).skipCache().runCommands(stamp('after'))
    // control: the same steps without skipCache, told apart only by a final label
    const control = (n) => Image.base(E.BUSYBOX).runCommands(stamp('before')).runCommands(stamp('after')).label({ n: String(n) })
    const read = (ref) => run(ref, 'cat', '/before', '/after').split('\n')
    const [s1, s2, c1, c2] = []
      .concat(await build(skipping(), 'skip1'))
      .concat(await build(skipping(), 'skip2'))
      .concat(await build(control(1), 'control1'))
      .concat(await build(control(2), 'control2'))
      .map(read)
    assert.equal(s1[0], s2[0], 'the step before skipCache comes from the cache')
    assert.equal(s1[0], c1[0])
    assert.notEqual(s1[1], s2[1], 'the step after skipCache ran again')
    assert.equal(c1[1], c2[1], 'without skipCache the same step comes from the cache')
  })
})
