// Type-checked with `tsc --strict` (npm run typecheck): official-SDK-style code must compile
// against our typings, and misuse must not.
import {
  Daytona,
  SandboxState,
  SnapshotState,
  DaytonaBuildError,
  DaytonaError,
  DaytonaInvalidArgumentError,
  DaytonaNotFoundError,
  DaytonaTimeoutError,
  Image,
  type ExecuteResponse,
  type ImagePlan,
  type Sandbox,
  type Snapshot,
} from '../../index.js'

async function usage(): Promise<void> {
  const image: Image = Image.debianSlim('3.12')
    .pipInstall(['numpy', 'pandas'], { indexUrl: 'https://pypi.org/simple', pre: true })
    .pipInstall('requests')
    .runCommands('echo hi', ['bash', '-c', 'echo there'])
    .workdir('/home/daytona')
    .env({ A: 'b' })
    .entrypoint(['/bin/bash'])
    .cmd(['-l'])
    .dockerfileCommands(['RUN true'], undefined, { strictContext: false })
  const fromFile: Image = Image.fromDockerfile('Dockerfile', { strictContext: true })
  const base: Image = Image.base('alpine:3')
  const text: string = image.dockerfile + fromFile.dockerfile + base.dockerfile
  const contexts: { sourcePath: string; archivePath: string }[] = image.contextList
  const plan: ImagePlan = await image.plan({ dockerignore: true })
  const key: string = plan.cacheKey + plan.contexts.map((c) => c.key).join() + text + contexts.length

  const daytona = new Daytona({ backend: 'local', local: { buildNetworkMode: 'host' } })
  const sandbox: Sandbox = await daytona.create(
    { image, envVars: { K: 'v' }, labels: { app: key }, resources: { cpu: 1, memory: 1 } },
    { onSnapshotCreateLogs: (line: string) => console.log(line), timeout: 120 },
  )
  const fromSnapshot: Sandbox = await daytona.create({ snapshot: 'my-snap:1' }, { timeout: 30 })
  const r: ExecuteResponse = await sandbox.process.executeCommand('ls', '/tmp', { A: 'b' }, 5)
  const code: number = r.exitCode
  await sandbox.fs.uploadFile(Buffer.from('x'), 'a.txt')
  await sandbox.fs.uploadFile('local.txt', 'b.txt')
  const buf: Buffer = await sandbox.fs.downloadFile('a.txt')
  await sandbox.fs.downloadFile('a.txt', '/tmp/a.txt')
  await sandbox.stop()
  await sandbox.start(60)
  await sandbox.refreshData()
  const state: string = sandbox.state
  for await (const s of daytona.list({ labels: { app: 'x' } })) console.log(s.id, s.labels)
  const snap: Snapshot = await daytona.snapshot.create({ name: 'my-snap:1', image, entrypoint: ['/bin/sh'] }, { onLogs: console.log })
  await daytona.snapshot.delete(snap)
  await daytona.delete(fromSnapshot)
  console.log(code, buf.length, state)

  try {
    Image.debianSlim('3.12')
  } catch (e) {
    if (e instanceof DaytonaInvalidArgumentError || e instanceof DaytonaNotFoundError) console.log(e.message)
    if (e instanceof DaytonaBuildError) console.log(e.exitCode, e.logTail.join('\n'))
    if (e instanceof DaytonaTimeoutError) console.log(e.statusCode)
    if (e instanceof DaytonaError) console.log(e.code)
  }

  // @ts-expect-error: unsupported Python series
  Image.debianSlim('2.7')
  // @ts-expect-error: packages must be strings
  image.pipInstall(1)
  // @ts-expect-error: Image has no public constructor
  new Image()
  // @ts-expect-error: entrypoint takes an array
  image.entrypoint('/bin/sh')
}

// `await using` deletes the sandbox at the end of the scope; the client disposes too.
async function disposal(): Promise<void> {
  await using daytona = new Daytona()
  await using sandbox = await daytona.create()
  const r = await sandbox.process.executeCommand('true')
  console.log(r.exitCode)
}

void usage
void disposal

// AbortSignal: in the options of create, or one extra argument after the official ones.
async function aborting(): Promise<void> {
  const daytona = new Daytona()
  const ac = new AbortController()
  const sandbox = await daytona.create({ image: Image.base('alpine:3') }, { signal: ac.signal, onSnapshotCreateLogs: console.log })
  await sandbox.process.executeCommand('sleep 10', undefined, undefined, undefined, { signal: AbortSignal.timeout(1000) })
  await sandbox.process.executeSessionCommand('s', { command: 'make' }, undefined, { signal: ac.signal })
  await sandbox.fs.downloadFile('/tmp/a', '/tmp/b', 30, { signal: ac.signal })
  await sandbox.start(60, { signal: ac.signal })
  await daytona.stop(sandbox, { signal: ac.signal })
  // @ts-expect-error: a signal is an AbortSignal
  await sandbox.delete(60, false, { signal: 'now' })
}

void aborting

// snapshot.ensure and the local image cache.
async function caching(): Promise<void> {
  const daytona = new Daytona()
  const snap = await daytona.snapshot.ensure({ image: Image.debianSlim('3.12').pipInstall(['numpy']) }, { onLogs: console.log })
  await daytona.create({ snapshot: snap.name })
  const images = await daytona.localImages.list()
  console.log(images.map((i) => `${i.tags.join(',')} ${i.createdAt.toISOString()} ${i.sizeBytes} ${i.usedBy.length}`))
  const report = await daytona.localImages.prune({ olderThanMinutes: 60 * 24 * 7, keep: 5, dryRun: true })
  console.log(report.removed.length, report.bytesFreed, report.inUse)
  await daytona.localImages.remove(images[0].id)
  // @ts-expect-error: keep is a number
  await daytona.localImages.prune({ keep: 'all' })
}

void caching

// Sandbox settings, snapshots, forks and preview links.
async function settings(daytona: Daytona): Promise<void> {
  const sandbox = await daytona.create()
  const labels: Record<string, string> = await sandbox.setLabels({ team: 'a' })
  await sandbox.setAutostopInterval(15)
  await sandbox.setAutoArchiveInterval(0)
  await sandbox.setAutoDeleteInterval(-1)
  await sandbox.refreshActivity()
  await sandbox.updateEnv({ A: '1' }, { unset: ['B'] })
  const dirs: Array<string | undefined> = [await sandbox.getWorkDir(), await sandbox.getUserHomeDir()]
  await sandbox.resize({ cpu: 2, memory: 4 })
  await sandbox.waitForResizeComplete()
  await sandbox.createSnapshot('snap:1')
  const fork: Sandbox = await sandbox.fork({ name: 'copy' })
  const link = await sandbox.getPreviewLink(3000)
  const signed = await sandbox.getSignedPreviewUrl(3000, 60)
  const state: SandboxState = SandboxState.STARTED
  const last: string | undefined = sandbox.lastActivityAt
  console.log(labels, dirs, fork.id, link.url, signed.port, state, last, JSON.stringify(sandbox), SnapshotState.ACTIVE)
  await sandbox.stop()
  await sandbox.waitUntilStopped()
  await sandbox.archive()
  await sandbox.recover()
  // @ts-expect-error: intervals are numbers
  await sandbox.setAutostopInterval('15')
}
void settings
