// The "dynamic image" scenario of Daytona's declarative builder: define an image in code, build
// it with streamed logs, start a sandbox from it and run commands in it. Runs unchanged against
// @daytonaio/sdk; with daytona-native and no DAYTONA_API_KEY it uses the local Docker Engine.
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

  const image = Image.debianSlim('3.12')
    .pipInstall(['six'])
    .runCommands('mkdir -p /home/daytona/project')
    .workdir('/home/daytona/project')
    .env({ ENV_VAR: 'My Environment Variable' })
    .addLocalFile(localFile, '/home/daytona/project/file_example.txt')

  const daytona = new Daytona()
  console.log(`Creating a sandbox on ${daytona.backend}`)
  const sandbox = await daytona.create({ image }, { timeout: 0, onSnapshotCreateLogs: (line) => console.log(`  | ${line}`) })
  try {
    console.log(`Sandbox ${sandbox.id} is ${sandbox.state}`)
    for (const command of ['python -c "import six; print(six.__version__)"', 'cat file_example.txt', 'echo "$ENV_VAR"', 'pwd']) {
      const r = await sandbox.process.executeCommand(command)
      console.log(`$ ${command}\n${r.result.trimEnd()}  (exit ${r.exitCode})`)
      if (r.exitCode !== 0) throw new Error(`${command} failed`)
    }
  } finally {
    await sandbox.delete()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
