'use strict'
// The official examples in examples/ (exec-command, pty, the README's first example) and ours
// (build-progress), compiled
// with tsc and run as a user runs them, on the local engine. Each prints what it did; the
// official examples catch their own errors and print them, so the output is checked, not only
// the exit status.

const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawn } = require('node:child_process')
const path = require('node:path')

const E = require('./engine-support/engine.js')

const ROOT = path.resolve(__dirname, '..')
const BUILD = path.join(ROOT, 'examples', '.build')

before(() => {
  E.ensureServices()
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'examples')], { cwd: ROOT, stdio: 'inherit' })
})

/** Runs a compiled example with the local engine (in `cwd`, the project root unless given);
 * resolves with { code, out }. */
function run(file, args = [], cwd = ROOT) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DAYTONA_BACKEND: 'local' }
    delete env.DAYTONA_API_KEY
    const child = spawn(process.execPath, [path.join(BUILD, file), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (out += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? signal, out })
    })
  })
}

/** Asserts every marker appears in order in `out`. */
function inOrder(out, markers) {
  let at = 0
  for (const m of markers) {
    const i = out.indexOf(m, at)
    assert.ok(i >= 0, `missing ${JSON.stringify(m)} after offset ${at} in:\n${out}`)
    at = i + m.length
  }
}

test('exec-command: codeRun, executeCommand, sessions with input and followed logs, the stateful interpreter', async () => {
  const { code, out } = await run('exec-command.js')
  assert.equal(code, 0, out)
  assert.ok(!out.includes('Error executing commands'), out)
  inOrder(out, [
    'Hello World from code!',
    'Hello World from CMD!',
    'FOO=BAR',
    '[STDOUT]: Hello, Alice',
    'Count: 3',
    'Initialized counter = 1',
    'Counter after second call = 2',
    'Isolated context value: stored in isolated context',
    'Value still available: stored in isolated context',
    "[ERROR] NameError: name 'value' is not defined",
    'Timed out as expected',
  ])
})

test('pty: an interactive session that exits, and one that is killed', async () => {
  const { code, out } = await run('pty.js')
  assert.equal(code, 0, out)
  inOrder(out, ['Hello, Bob', 'PTY session resized to 80x25', 'PTY session exited with code: 0', 'PTY session terminated'])
})

test("the README's first example: codeRun and executeCommand", async () => {
  const { code, out } = await run('readme.js')
  assert.equal(code, 0, out)
  inOrder(out, ['Hello World!', 'Hello, World!', 'Sum: 30'])
})

test('build-progress: steps with cached and timed ones, the context, then a build that is not needed', async () => {
  const { code, out } = await run('build-progress.js', [E.BUSYBOX])
  // The images the example built stay cached under their keys: remove them.
  for (const m of out.matchAll(/image (daytona-[0-9a-f]{64})/g)) {
    try {
      E.docker('rmi', m[1])
    } catch {}
  }
  assert.equal(code, 0, out)
  inOrder(out, [
    '--- first build',
    'context: 1 file(s), 29 bytes in 1 context(s)',
    // Steps as [n/total] (the classic builder adds LABEL steps for the build's labels after these).
    `[1/`,
    `] FROM ${E.BUSYBOX}`,
    '[2/',
    '] COPY ',
    '[3/',
    // (cached or run: BuildKit's cache outlives the example's images)
    '] RUN cat /opt/greeting.txt',
    '[4/',
    '] RUN for i in 1 2 3',
    '      done in ',
    'built in ',
    '--- same image again',
    'context: 1 file(s)',
    'nothing to build: image found',
  ])
  assert.ok(!out.includes('build failed'), out)
})

test('lifecycle: create, setLabels, stop, start, get, executeCommand, list with filters, delete', async () => {
  const { code, out } = await run('lifecycle.js')
  assert.equal(code, 0, out)
  assert.ok(!/Error/.test(out), out)
  inOrder(out, [
    'Creating sandbox',
    'Sandbox created',
    'Stopping sandbox',
    'Sandbox stopped',
    'Starting sandbox',
    'Sandbox started',
    'Getting existing sandbox',
    'Got existing sandbox',
    'Hello World from exec!',
    'Deleting sandbox',
    'Sandbox deleted',
  ])
})

test('file-operations: list, create, upload many, search, replace, download many, streams both ways', async () => {
  const fs = require('node:fs')
  const os = require('node:os')
  // The example writes and removes its local files in the current directory.
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-file-operations-'))
  try {
    const { code, out } = await run('file-operations.js', [], cwd)
    assert.equal(code, 0, out)
    assert.ok(!out.includes('Error:') && !out.includes('Error downloading'), out)
    inOrder(out, [
      'Initial files:',
      'Verifying uploaded files:',
      'config.json',
      'example.txt',
      'script.sh',
      'Running script:',
      'Hello from script!',
      "JSON files found: { files: [ '",
      'project-files/config.json',
      'Downloading multiple files:',
      'Downloaded project-files/config.json to local-config.json',
      'Downloaded project-files/example.txt to memory (50 bytes)',
      'Downloaded project-files/script.sh to local-script.sh',
      'Config content:',
      '"debug": false',
      'Streaming upload with progress:',
      'uploaded 49152 / 49152 bytes',
      'Streaming download with progress:',
      'downloaded ',
      'Streamed content:',
      '"debug": false',
    ])
    // It cleaned up after itself.
    assert.deepEqual(fs.readdirSync(cwd), [])
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true })
  }
})
