'use strict'
// The official Python SDK (`daytona` 0.218.0 from PyPI, in the venv scripts/python-sdk.sh makes
// under .services/) against the server of `serve` (or the fake API until this package has one:
// ./serve/target.js), through the validating proxy: ./serve/python_flow.py makes a sandbox from
// Image.debian_slim().pip_install([...]) with build logs (no context files: see the flow's
// header), runs process.exec, uploads and downloads files (from memory and from local paths)
// and deletes it. Every request and answer must conform to the specs.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawn } = require('node:child_process')

const { startHarness, ROOT } = require('./serve/target.js')

let python
let h
before(async () => {
  python = execFileSync('bash', [path.join(ROOT, 'scripts', 'python-sdk.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000 }).trim().split('\n').pop()
  h = await startHarness({ backing: { image: backingImage() } })
})
after(async () => {
  if (h) await h.close()
})

/** The fake's backing sandbox: the image the flow asks for (against serve it is built for real). */
function backingImage() {
  const { Image } = require(ROOT)
  return Image.debianSlim('3.12').pipInstall(['six']).env({ SERVE_TEST_ENV: 'from the image' })
}

function runPython(script, env) {
  return new Promise((resolve, reject) => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-python-home-'))
    const child = spawn(python, [script], { env: { PATH: process.env.PATH, HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (err += c))
    const timer = setTimeout(() => child.kill('SIGKILL'), 900_000)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      fs.rmSync(home, { recursive: true, force: true })
      resolve({ code: code ?? signal, out, err })
    })
  })
}

test('the official Python SDK: declarative build, exec, upload_file/download_file, delete', async () => {
  // The SDK's defaults, as a user has them: it tries its socket.io event stream (not in the spec;
  // the proxy notes it) and polls.
  const env = { ...h.env }
  delete env.DAYTONA_USE_DEPRECATED_POLLING
  const { code, out, err } = await runPython(path.join(__dirname, 'serve', 'python_flow.py'), env)
  assert.equal(code, 0, `python_flow.py failed:\n${out}\n${err}`)
  const line = out.split('\n').find((l) => l.startsWith('RESULT '))
  assert.ok(line, out)
  const r = JSON.parse(line.slice('RESULT '.length))
  assert.ok(r.build_log_lines > 0, `build logs reached the callback: ${JSON.stringify(r)}`)
  assert.deepEqual(r.import, { exit_code: 0, result: 'six' })
  assert.equal(r.exit.exit_code, 3)
  assert.match(r.exit.result, /^from the image\n/)
  assert.equal(r.memory_round_trip, true)
  assert.equal(r.file_round_trip, true)
  assert.equal(r.remote_size, String(1 << 20))
  assert.equal(r.after_delete, 'DaytonaNotFoundError')
  const ops = h.proxy.records.map((x) => x.op)
  for (const op of ['createSandbox', 'getBuildLogsUrl', 'ExecuteCommand', 'deleteSandbox']) assert.ok(ops.includes(op), `${op} in ${ops}`)
  assert.ok(h.proxy.records.some((x) => x.kind === 'toolbox' && /^(UploadFiles|UploadFile)$/.test(x.op)), ops.join(' '))
  assert.ok(h.proxy.records.some((x) => x.kind === 'toolbox' && /^(DownloadFiles|DownloadFile)$/.test(x.op)), ops.join(' '))
  console.log(`# serve-python-sdk: target=${h.kind} ${JSON.stringify(h.proxy.summary())}`)
  h.proxy.assertClean('the official Python SDK and the server')
})
