// A small build progress display on `onBuildEvent`: one line per step (cached or how long it
// took), the build output counted per step, the context and its upload, and how the build
// ended. Builds a snapshot twice: the second build finds the first one's image and builds
// nothing. With daytona-native and no DAYTONA_API_KEY it uses the local Docker Engine.
//
//   node build-progress.js [base image]      (default alpine:3.20)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Daytona, Image, type BuildEvent } from 'daytona-native'

function progressDisplay(): (event: BuildEvent) => void {
  let linesInStep = 0
  const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`
  return (event) => {
    switch (event.type) {
      case 'contextPlanned':
        console.log(`context: ${event.files} file(s), ${event.bytes} bytes in ${event.keys.length} context(s)`)
        break
      case 'uploadProgress':
        console.log(`upload ${event.key.slice(0, 12)}: ${event.skipped ? 'already stored' : `${mib(event.bytesSent)} of ${mib(event.totalBytes)}`}`)
        break
      case 'stepStarted':
        linesInStep = 0
        console.log(`[${event.index}/${event.total}] ${event.instruction}`)
        break
      case 'stepCached':
        console.log(`      cached`)
        break
      case 'log':
        if (event.step !== null) linesInStep++
        break
      case 'stepFinished':
        console.log(`      done in ${(event.durationMs / 1000).toFixed(2)} s, ${linesInStep} line(s) of output`)
        break
      case 'buildFinished':
        console.log(`${event.cached ? 'nothing to build: image found' : 'built'} in ${(event.durationMs / 1000).toFixed(2)} s: image ${event.image ?? '(unknown)'}`)
        break
      case 'buildFailed':
        console.log(`build failed at step ${event.step ?? '?'} (exit code ${event.exitCode ?? '?'}): ${event.message.split('\n')[0]}`)
        break
    }
  }
}

async function main(): Promise<void> {
  const base = process.argv[2] || 'alpine:3.20'
  const dir = mkdtempSync(join(tmpdir(), 'build-progress-'))
  writeFileSync(join(dir, 'greeting.txt'), 'Hello from the build context\n')
  const image = Image.base(base)
    .addLocalFile(join(dir, 'greeting.txt'), '/opt/greeting.txt')
    .runCommands('cat /opt/greeting.txt', `for i in 1 2 3; do echo "working $i (${Date.now()})"; done`)

  const daytona = new Daytona()
  console.log(`Building on ${daytona.backend}`)
  const names: string[] = []
  try {
    for (const attempt of ['first build', 'same image again']) {
      console.log(`--- ${attempt}`)
      const name = `build-progress-${Date.now()}`
      const snapshot = await daytona.snapshot.create({ name, image }, { timeout: 0, onBuildEvent: progressDisplay() })
      names.push(snapshot.name)
      console.log(`snapshot ${snapshot.name} is ${snapshot.state}`)
    }
  } finally {
    for (const name of names) await daytona.snapshot.delete(name)
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
