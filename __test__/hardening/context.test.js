'use strict'
// Issue 8, build contexts (items 1, 13, 14; item 8 is tested in crates/context): no host file
// reaches an image through COPY/ADD sources, two contexts never share an archive path
// silently, and a linked addLocalDir/addLocalFile path archives its target. Plan-level tests
// need nothing; one test builds a real sandbox on the local engine, one uploads to the fake
// Daytona API + moto.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')

const Official = require('@daytonaio/sdk')
const Ours = require('../../index.js')
const { Image, DaytonaInvalidArgumentError } = Ours

const MARKER = `from-the-context-${crypto.randomBytes(6).toString('hex')}`
const HOST_HOSTNAME = fs.readFileSync('/etc/hostname', 'utf8')

let root
let ctx
before(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dn-hardening-ctx-')))
  ctx = path.join(root, 'ctx')
  fs.mkdirSync(path.join(ctx, 'etc'), { recursive: true })
  fs.writeFileSync(path.join(ctx, 'etc', 'hostname'), `${MARKER}\n`)
  fs.writeFileSync(path.join(ctx, 'a.txt'), 'a\n')
  fs.mkdirSync(path.join(root, 'outside'))
  fs.writeFileSync(path.join(root, 'outside', 'secret.txt'), 'secret\n')
  fs.symlinkSync('../outside', path.join(ctx, 'out-dirlink'))
  // item 14: linked local paths, with a nested link to a host file below the linked directory
  fs.mkdirSync(path.join(root, 'real'))
  fs.writeFileSync(path.join(root, 'real', 'x.txt'), 'x\n')
  fs.symlinkSync('/etc/hostname', path.join(root, 'real', 'nested'))
  fs.symlinkSync('real', path.join(root, 'dirlink'))
  fs.symlinkSync('real/x.txt', path.join(root, 'filelink'))
})
after(() => fs.rmSync(root, { recursive: true, force: true }))

function dockerfile(body) {
  const p = path.join(ctx, 'Dockerfile')
  fs.writeFileSync(p, `FROM scratch\n${body}\n`)
  return p
}

async function assertPlanInside(image) {
  const plan = await image.plan()
  assert.ok(plan.contexts.length > 0)
  for (const c of plan.contexts) {
    const abs = path.resolve(c.sourcePath)
    assert.ok(abs === ctx || abs.startsWith(ctx + path.sep), `${c.sourcePath} lies outside ${ctx}`)
  }
  return plan
}

test('item 1: absolute COPY/ADD sources resolve inside the context (README deviation 11, both outputs)', async () => {
  for (const body of [
    'COPY /etc/hostname /leak',
    'COPY /etc/ /leak/',
    'COPY ["/etc/hostname", "/leak"]',
    'COPY /etc/host* /leak/',
    'ADD /etc/hostname /leak',
    'COPY / /x',
  ]) {
    await assertPlanInside(Image.fromDockerfile(dockerfile(body)))
    await assertPlanInside(Image.base('scratch').dockerfileCommands([body], ctx))
  }
  // both outputs: the official SDK reads the host's /etc/hostname, ours the context's
  const df = dockerfile('COPY /etc/hostname /leak')
  const officialArchive = '/etc/hostname'.substring(`${ctx}/`.length).replace(/^[/\\]+/, '') // §1.6 arithmetic
  assert.deepEqual(Official.Image.fromDockerfile(df).contextList, [{ sourcePath: '/etc/hostname', archivePath: officialArchive }])
  assert.deepEqual(Ours.Image.fromDockerfile(df).contextList, [{ sourcePath: `${ctx}/etc/hostname`, archivePath: 'etc/hostname' }])
  const plan = await Ours.Image.fromDockerfile(df).plan()
  assert.equal(plan.contexts[0].bytes, MARKER.length + 1)
  // without contextDir the working directory is the context (the official SDK reads the host)
  const cmds = ['COPY /etc/hostname /leak']
  assert.deepEqual(Official.Image.base('x').dockerfileCommands(cmds).contextList, [{ sourcePath: '/etc/hostname', archivePath: '/etc/hostname' }])
  assert.deepEqual(Ours.Image.base('x').dockerfileCommands(cmds).contextList, [{ sourcePath: 'etc/hostname', archivePath: 'etc/hostname' }])
})

test('item 1: sources escaping the context are rejected, naming the source and the reason', () => {
  for (const strictContext of [false, true]) {
    const cases = [
      ['COPY ../../../etc/hostname /x', '../../../etc/hostname', /'\.\.' cannot climb above the context directory/],
      ['COPY ["../outside/secret.txt", "/x"]', '../outside/secret.txt', /'\.\.' cannot climb/],
      ['COPY out-dirlink/secret.txt /x', 'out-dirlink/secret.txt', /through a symbolic link/],
      ['COPY out-dirlink/* /x/', 'out-dirlink/*', /through a symbolic link/],
    ]
    for (const [body, source, why] of cases) {
      for (const make of [() => Image.fromDockerfile(dockerfile(body), { strictContext }), () => Image.base('x').dockerfileCommands([body], ctx, { strictContext })]) {
        assert.throws(make, (e) => {
          assert.ok(e instanceof DaytonaInvalidArgumentError, `${body}: ${e}`)
          if (strictContext) assert.match(e.message, /^forbidden path outside the build context: /) // the official message
          else {
            assert.ok(e.message.startsWith(`COPY source ${source} `), e.message)
            assert.match(e.message, why)
            assert.match(e.message, /outside the build context/)
          }
          return true
        })
      }
    }
  }
  // the official SDK (non-strict) takes them and reads the host file
  const o = Official.Image.fromDockerfile(dockerfile('COPY ../outside/secret.txt /x')).contextList
  assert.deepEqual(o.map((c) => c.sourcePath), [path.join(root, 'outside', 'secret.txt')])
})

test('item 13: two contexts with different content at one archive path are rejected at plan()', async () => {
  for (const [d, content] of [['one', 'one'], ['two', 'two'], ['three', 'one']]) {
    fs.mkdirSync(path.join(root, d, 'src'), { recursive: true })
    fs.writeFileSync(path.join(root, d, 'src', 'a.txt'), content)
  }
  const clash = Image.base('scratch')
    .dockerfileCommands(['COPY src /one'], path.join(root, 'one'))
    .dockerfileCommands(['COPY src /two'], path.join(root, 'two'))
  await assert.rejects(clash.plan(), (e) => {
    assert.ok(e instanceof DaytonaInvalidArgumentError, String(e))
    assert.ok(e.message.includes(path.join(root, 'one', 'src')) && e.message.includes(path.join(root, 'two', 'src')), e.message)
    assert.match(e.message, /both go to src of the build context/)
    return true
  })
  // the same content twice is no conflict
  const same = Image.base('scratch')
    .dockerfileCommands(['COPY src /one'], path.join(root, 'one'))
    .dockerfileCommands(['COPY src /three'], path.join(root, 'three'))
  assert.equal((await same.plan()).contexts.length, 2)
})

test('item 14: a linked addLocalDir/addLocalFile path archives its target; nested links stay links', async () => {
  const image = Image.base('scratch').addLocalDir(path.join(root, 'dirlink'), '/app').addLocalFile(path.join(root, 'filelink'), '/f.txt')
  const plan = await image.plan()
  assert.deepEqual(plan.contexts.map((c) => [c.files, c.bytes]), [[1, 2], [1, 2]])
  assert.deepEqual(image.contextList.map((c) => c.sourcePath), [path.join(root, 'dirlink'), path.join(root, 'filelink')])
})

// ---------------------------------------------------------------------------------------------
// Real backends

test('local engine: a Dockerfile with COPY /etc/hostname builds from the context, linked local paths arrive', async (t) => {
  const E = require('../engine-support/engine.js')
  try {
    E.ensureServices()
  } catch (e) {
    t.skip(`no local engine: ${e.message.split('\n')[0]}`)
    return
  }
  const baseline = E.containerBaseline()
  const janitor = new E.ImageJanitor()
  const daytona = new Ours.Daytona({ backend: 'local' })
  const df = path.join(ctx, 'Dockerfile.engine')
  fs.writeFileSync(df, `FROM ${E.BUSYBOX}\nCOPY /etc/hostname /leak\nRUN echo hardening-ctx-${E.RUN_ID}\n`)
  const image = Image.fromDockerfile(df).addLocalDir(path.join(root, 'dirlink'), '/app').addLocalFile(path.join(root, 'filelink'), '/f.txt')
  try {
    await janitor.track(image)
    const sb = await daytona.create({ image, labels: E.labelsFor('hardening-ctx') }, { timeout: 120 })
    try {
      const run = async (cmd) => (await sb.process.executeCommand(cmd)).result
      assert.equal(await run('cat /leak'), `${MARKER}\n`)
      assert.notEqual(await run('cat /leak'), HOST_HOSTNAME)
      assert.equal(await run('cat /app/x.txt /f.txt'), 'x\nx\n')
      assert.equal(await run('readlink /app/nested'), '/etc/hostname\n', 'the nested link is a link, not the host file')
    } finally {
      await sb.delete()
    }
    await E.assertNoLeaks(baseline, 'hardening-ctx')
  } finally {
    janitor.cleanup()
  }
})

test('API backend: the uploaded context tar holds the context file, no host path; a clash uploads nothing', async (t) => {
  const { startApiServer } = require('../api-server/server.js')
  const { ensureMoto, listKeys, getObject, tarEntries } = require('../api-server/s3.js')
  const H = require('../api-server/helpers.js')
  try {
    ensureMoto()
  } catch (e) {
    t.skip(`no S3 server: ${e.message.split('\n')[0]}`)
    return
  }
  const srv = await startApiServer({ s3: 'proxy' })
  try {
    const d = H.nativeClient(Ours, srv)
    const image = Image.fromDockerfile(dockerfile('COPY /etc/hostname /leak\nCOPY ["/etc/", "/etc2/"]'))
    const sb = await d.create({ image }, { timeout: 30 })
    await sb.delete()
    const keys = await listKeys(`${srv.organizationId}/`)
    assert.ok(keys.length >= 1)
    for (const key of keys) {
      for (const e of tarEntries(await getObject(key))) {
        assert.ok(e.name.startsWith('etc/') || e.name === 'etc', `unexpected entry ${e.name}`)
        if (e.data && e.data.length) {
          assert.equal(e.data.toString(), `${MARKER}\n`, e.name)
          assert.notEqual(e.data.toString(), HOST_HOSTNAME)
        }
      }
    }
    // item 13 on this backend: the clash is refused before any object is uploaded
    const before = srv.state.s3Requests.filter((r) => r.method === 'PUT' || r.method === 'POST').length
    const clash = Image.base('scratch')
      .dockerfileCommands(['COPY src /one'], path.join(root, 'one'))
      .dockerfileCommands(['COPY src /two'], path.join(root, 'two'))
    await assert.rejects(d.create({ image: clash }, { timeout: 30 }), DaytonaInvalidArgumentError)
    assert.equal(srv.state.s3Requests.filter((r) => r.method === 'PUT' || r.method === 'POST').length, before)
  } finally {
    await srv.close()
  }
})
