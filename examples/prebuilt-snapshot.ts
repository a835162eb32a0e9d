// The "pre-built image" scenario of Daytona's declarative builder: build a named snapshot once,
// then start sandboxes from it by name.
import { mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Daytona, Image } from 'daytona-native'

async function main(): Promise<void> {
  // A stable path: the Dockerfile names it, so an unchanged rerun reuses the built image.
  const dir = join(tmpdir(), 'daytona-native-example')
  mkdirSync(dir, { recursive: true })
  const localFile = join(dir, 'file_example.txt')
  writeFileSync(localFile, 'Hello, World!\n')
  const snapshotName = `python-example:${Math.floor(Date.now() / 1000)}`

  const image = Image.debianSlim('3.12')
    .pipInstall(['six'])
    .runCommands('groupadd -r daytona && useradd -r -g daytona -m daytona', 'mkdir -p /home/daytona/workspace')
    .dockerfileCommands(['USER daytona'])
    .workdir('/home/daytona/workspace')
    .env({ MY_ENV_VAR: 'My Environment Variable' })
    .addLocalFile(localFile, '/home/daytona/workspace/file_example.txt')

  const daytona = new Daytona()
  console.log(`=== Creating snapshot ${snapshotName} on ${daytona.backend} ===`)
  await daytona.snapshot.create({ name: snapshotName, image }, { onLogs: (line) => console.log(`  | ${line}`) })

  const sandbox = await daytona.create({ snapshot: snapshotName })
  try {
    const r = await sandbox.process.executeCommand('whoami && cat file_example.txt')
    console.log(r.result.trimEnd())
    if (r.exitCode !== 0) throw new Error('command failed')
  } finally {
    await sandbox.delete()
    await daytona.snapshot.delete(snapshotName)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
