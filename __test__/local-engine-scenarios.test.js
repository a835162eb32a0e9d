'use strict'
// The two scenarios of Daytona's "Declarative Builder" page, for real on the local engine:
// a dynamic image built on create (debianSlim + pip, with network), and a pre-built snapshot
// used by a later create.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const E = require('./engine-support/engine.js')
const { Daytona, Image, DaytonaNotFoundError, DaytonaConflictError } = require('../index.js')

let daytona
let baseline
let dir
const janitor = new E.ImageJanitor()
/** Kept between runs: the debianSlim('3.12') prefix layers, so later runs skip apt/pip upgrade. */
const DEBIAN_SLIM_CACHE_TAG = 'daytona-native-test/debian-slim-cache:3.12'

before(() => {
  E.ensureServices()
  baseline = E.containerBaseline()
  daytona = new Daytona({ backend: 'local' })
  dir = E.tempDir('scenario')
})

after(async () => {
  try {
    await E.assertNoLeaks(baseline)
  } finally {
    janitor.cleanup()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

// A step's announcement: `Step 2/4 : RUN …` (classic builder) or `#5 [stage-0 2/4] RUN …`
// (BuildKit, the default where the engine has it).
const STEP = /^(?:Step (\d+)\/(\d+) : |#\d+ \[(?:\S+ )?(\d+)\/(\d+)\] )(.*)$/

/** Steps announced in the log, checked to be 1..N, each once (in increasing order with the
 * classic builder; BuildKit may announce steps resolved from its cache together); returns N. */
function assertSteps(lines) {
  const steps = lines.map((l) => STEP.exec(l)).filter(Boolean).map((m) => [Number(m[1] || m[3]), Number(m[2] || m[4])])
  assert.ok(steps.length > 0, 'the logs have step lines')
  const total = steps[0][1]
  const numbers = steps.map(([k]) => k)
  const classic = lines.some((l) => /^Step \d+\/\d+ : /.test(l))
  assert.deepEqual(
    classic ? numbers : [...numbers].sort((a, b) => a - b),
    Array.from({ length: total }, (_, i) => i + 1),
    'steps 1..N, each once',
  )
  assert.ok(steps.every(([, n]) => n === total))
  return total
}

test('dynamic image: debianSlim + pip + workdir + env + local file, built on create with logs', async () => {
  const localFile = path.join(dir, 'file_example.txt')
  const content = `Hello, World! (${E.RUN_ID})\n`
  fs.writeFileSync(localFile, content)
  // The scenario's image. One addition: an ENV with the run id before pipInstall, so the pip
  // step really runs (and logs) in every test run instead of coming from the layer cache of an
  // earlier run or another user of this engine.
  const image = Image.debianSlim('3.12')
    .env({ DAYTONA_NATIVE_TEST_RUN: E.RUN_ID })
    .pipInstall(['six'])
    .runCommands('mkdir -p /home/daytona/project')
    .workdir('/home/daytona/project')
    .env({ ENV_VAR: 'My Environment Variable' })
    .addLocalFile(localFile, '/home/daytona/project/file_example.txt')
  await janitor.track(image)

  const lines = []
  let resolved = false
  let late = 0
  const sandbox = await daytona.create(
    { image, labels: E.labelsFor('dynamic') },
    {
      onSnapshotCreateLogs: (line) => {
        if (resolved) late++
        lines.push(line)
      },
      timeout: 0,
    },
  )
  resolved = true
  const atResolve = lines.length
  try {
    for (const l of lines) {
      assert.equal(typeof l, 'string')
      assert.ok(!l.includes('\n'), `a log line contains a newline: ${JSON.stringify(l)}`)
    }
    const total = assertSteps(lines)
    // BuildKit counts the steps that change the file system (not the two ENV): 9 of the 11.
    assert.ok(total >= 9, `expected the whole Dockerfile to be built, got ${total} steps`)
    const pipStep = lines.findIndex((l) => STEP.exec(l)?.[5] === 'RUN python -m pip install six')
    assert.ok(pipStep >= 0, 'the pip step is logged')
    const pipOutput = lines.slice(pipStep)
    assert.ok(pipOutput.some((l) => /Collecting six/.test(l)), 'pip output: Collecting six')
    assert.ok(pipOutput.some((l) => /Successfully installed six-/.test(l)), 'pip output: Successfully installed six')

    // Remember the debianSlim prefix (its last step's layer) for the next runs.
    const prefixEnd = lines.findIndex((l) => /^Step 5\/\d+ : RUN echo 'debconf/.test(l))
    const layer = lines.slice(prefixEnd + 1).map((l) => /^ ---> ([0-9a-f]{12})$/.exec(l)).find(Boolean)
    if (prefixEnd >= 0 && layer) {
      try {
        E.docker('tag', layer[1], DEBIAN_SLIM_CACHE_TAG)
      } catch {}
    }

    assert.equal(sandbox.state, 'started')
    const py = await sandbox.process.executeCommand('python -c "import six; print(six.__version__)"')
    assert.equal(py.exitCode, 0, py.result)
    assert.match(py.result.trim(), /^\d+\.\d+\.\d+$/)
    const cat = await sandbox.process.executeCommand('cat file_example.txt')
    assert.equal(cat.exitCode, 0, cat.result)
    assert.equal(cat.result, content)
    const envVar = await sandbox.process.executeCommand('echo $ENV_VAR')
    assert.equal(envVar.result.trim(), 'My Environment Variable')
    const pwd = await sandbox.process.executeCommand('pwd')
    assert.equal(pwd.result.trim(), '/home/daytona/project')
    // Relative file paths are relative to the image's WORKDIR.
    assert.equal((await sandbox.fs.downloadFile('file_example.txt')).toString(), content)
    await sandbox.fs.uploadFile(Buffer.from('uploaded\n'), 'out/result.txt')
    assert.equal((await sandbox.process.executeCommand('cat /home/daytona/project/out/result.txt')).result, 'uploaded\n')

    // Every line reached the callback before the Promise resolved.
    await E.sleep(200)
    assert.equal(late, 0, 'lines delivered after the Promise resolved')
    assert.equal(lines.length, atResolve)
  } finally {
    await sandbox.delete()
  }
  assert.deepEqual(E.ourContainers('dynamic'), [])
})

test('pre-built snapshot: create with logs, use, get/list, conflict, delete', async () => {
  const name = `daytona-native-test-${E.RUN_ID}:1`
  const localFile = path.join(dir, 'snapshot_file.txt')
  fs.writeFileSync(localFile, `snapshot data ${E.RUN_ID}\n`)
  const image = Image.base(E.BUSYBOX)
    .dockerfileCommands([`RUN mkdir -p /workspace && echo ${E.RUN_ID} > /workspace/run-id`, 'WORKDIR /workspace'])
    .addLocalFile(localFile, '/workspace/file_example.txt')
  const dockerfileBefore = image.dockerfile
  const entrypoint = ['/bin/sh', '-c', `echo entrypoint-${E.RUN_ID} > /tmp/entrypoint-ran; exec sleep 100000`]

  const logs = []
  const snap = await daytona.snapshot.create({ name, image, entrypoint }, { onLogs: (l) => logs.push(l) })
  janitor.add(snap.id)
  assert.equal(image.dockerfile, dockerfileBefore, 'entrypoint did not mutate the caller\'s Image')
  assert.equal(logs[0], `Creating snapshot ${name} (building)`)
  assert.equal(logs[logs.length - 1], `Created snapshot ${name} (active)`)
  assertSteps(logs)
  const config = JSON.parse(E.docker('image', 'inspect', '--format', '{{json .Config.Entrypoint}}', name))
  assert.deepEqual(config, entrypoint, 'the entrypoint is part of the built image')
  assert.equal(snap.name, name)
  assert.equal(snap.state, 'active')
  assert.deepEqual(snap.entrypoint, entrypoint)

  const sandbox = await daytona.create({ snapshot: name, labels: E.labelsFor('snapshot') })
  try {
    assert.equal(sandbox.snapshot, name)
    const r = await sandbox.process.executeCommand('cat file_example.txt run-id')
    assert.equal(r.exitCode, 0, r.result)
    assert.equal(r.result, `snapshot data ${E.RUN_ID}\n${E.RUN_ID}\n`)
    // The snapshot's ENTRYPOINT runs in the sandbox (in the background).
    let ep
    for (let i = 0; i < 20; i++) {
      ep = await sandbox.process.executeCommand('cat /tmp/entrypoint-ran')
      if (ep.exitCode === 0) break
      await E.sleep(100)
    }
    assert.equal(ep.result.trim(), `entrypoint-${E.RUN_ID}`)
  } finally {
    await sandbox.delete()
  }

  const got = await daytona.snapshot.get(name)
  assert.equal(got.name, name)
  assert.equal(got.id, snap.id)
  assert.equal(got.state, 'active')
  const list = await daytona.snapshot.list()
  assert.ok(list.items.some((s) => s.name === name), 'snapshot.list() contains it')
  assert.equal(list.total, list.items.length)

  const conflict = await E.rejection(() => daytona.snapshot.create({ name, image: Image.base(E.BUSYBOX) }))
  assert.ok(conflict instanceof DaytonaConflictError, `${conflict.name}: ${conflict.message}`)
  assert.match(conflict.message, new RegExp(name.replace(/[.:]/g, '\\$&')))

  await daytona.snapshot.delete(name)
  const gone = await E.rejection(() => daytona.snapshot.get(name))
  assert.ok(gone instanceof DaytonaNotFoundError, `${gone.name}: ${gone.message}`)
  const noSnapshot = await E.rejection(() => daytona.create({ snapshot: name, labels: E.labelsFor('snapshot') }))
  assert.ok(noSnapshot instanceof DaytonaNotFoundError, `create from a deleted snapshot: ${noSnapshot.name}: ${noSnapshot.message}`)
  assert.ok(!(await daytona.snapshot.list()).items.some((s) => s.name === name), 'not listed after delete')
  assert.deepEqual(E.ourContainers('snapshot'), [])
})
