// The first example of the official SDK's README ("Create a sandbox"), on daytona-native: a
// sandbox whose code language is JavaScript runs code with process.codeRun. The README creates it
// with `{ language: 'typescript' }` on Daytona's default image (Node.js and ts-node included);
// here the image is one that builds offline (Debian with Python, plus this machine's `node`
// binary), so the language is JavaScript. Without DAYTONA_API_KEY it runs on the local Docker Engine.
import { Daytona, Image } from 'daytona-native'

async function main(): Promise<void> {
  const daytona = new Daytona()
  const sandbox = await daytona.create({
    image: Image.debianSlim('3.12').addLocalFile(process.execPath, '/usr/local/bin/node'),
    language: 'javascript',
  }, { timeout: 0 })
  try {
    const response = await sandbox.process.codeRun('console.log("Hello World!")')
    console.log(response.result)

    // "Execute commands" of the same README
    const echo = await sandbox.process.executeCommand('echo "Hello, World!"')
    console.log(echo.result)
    const sum = await sandbox.process.codeRun(`
const x = 10
const y = 20
console.log(\`Sum: \${x + y}\`)
`)
    console.log(sum.result)
    if (response.exitCode !== 0 || sum.exitCode !== 0) process.exitCode = 1
  } finally {
    await sandbox.delete()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
