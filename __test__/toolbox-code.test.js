'use strict'
// Code on the local engine (the in-sandbox agent), Debian with Python (the offline
// python:3.13.3-slim-bookworm): codeRun in the sandbox's language with argv and env, the stateful
// code interpreter (contexts, callbacks, errors, timeout), and the bash session command of the
// official exec-command example.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const E = require('./engine-support/engine.js')
const { Daytona, DaytonaTimeoutError, DaytonaError } = require('../index.js')

const PYTHON = 'python:3.13.3-slim-bookworm'

let daytona
let baseline
let sandbox

before(async () => {
  E.ensureServices()
  baseline = E.containerBaseline()
  daytona = new Daytona({ backend: 'local' })
  sandbox = await daytona.create({ image: PYTHON, language: 'python', labels: E.labelsFor('tb-code') }, { timeout: 60 })
})

after(async () => {
  if (sandbox) await sandbox.delete().catch(() => {})
  await E.assertNoLeaks(baseline)
})

test('codeRun: the sandbox language, argv, env, exit code; the official ExecuteResponse shape', async () => {
  const r = await sandbox.process.codeRun('import os, sys\nprint("args", sys.argv[1:])\nprint("K", os.environ["K"])', { argv: ['a', 'b c'], env: { K: 'V' } })
  assert.deepEqual(r, {
    exitCode: 0,
    result: "args ['a', 'b c']\nK V\n",
    artifacts: { stdout: "args ['a', 'b c']\nK V\n", charts: [] },
  })
  const failed = await sandbox.process.codeRun('import sys\nsys.exit(5)')
  assert.equal(failed.exitCode, 5)
})

test('codeRun without a language label: the official error', async () => {
  // create() sets the label from `language`; with an empty one there is no language to run.
  const sb = await daytona.create({ image: E.BUSYBOX, language: '', labels: E.labelsFor('tb-code') }, { timeout: 60 })
  try {
    if (sb.labels['code-toolbox-language']) return // the backend fills a default: nothing to check
    await assert.rejects(sb.process.codeRun('print(1)'), (e) => e instanceof DaytonaError && e.message === 'Code language is required for codeRun')
  } finally {
    await sb.delete()
  }
})

test('the code interpreter keeps state per context; contexts are isolated', async () => {
  const ci = sandbox.codeInterpreter
  const base = await ci.runCode("counter = 1\nprint(f'Initialized counter = {counter}')")
  assert.deepEqual(base, { stdout: 'Initialized counter = 1\n', stderr: '' })
  const out = []
  await ci.runCode("counter += 1\nprint(f'Counter after second call = {counter}')", { onStdout: (m) => out.push(m.output) })
  assert.equal(out.join(''), 'Counter after second call = 2\n')

  const ctx = await ci.createContext('/tmp')
  assert.equal(ctx.cwd, '/tmp')
  assert.equal(typeof ctx.id, 'string')
  assert.ok((await ci.listContexts()).some((c) => c.id === ctx.id))
  await ci.runCode("value = 'isolated'\nimport os\nprint(os.getcwd())", { context: ctx })
  const same = await ci.runCode('print(value)', { context: ctx })
  assert.equal(same.stdout, 'isolated\n')
  const errors = []
  const other = await ci.runCode('print(value)', { onError: (e) => errors.push(e) })
  assert.equal(other.error.name, 'NameError')
  assert.deepEqual(errors, [other.error])
  assert.equal(typeof other.error.traceback, 'string')

  const env = await ci.runCode("import os\nprint(os.environ.get('ONLY_NOW'))", { context: ctx, envs: { ONLY_NOW: 'yes' } })
  assert.equal(env.stdout, 'yes\n')

  await ci.deleteContext(ctx)
  assert.ok(!(await ci.listContexts()).some((c) => c.id === ctx.id))
})

test('the code interpreter: stdout and stderr callbacks in order; a timeout is DaytonaTimeoutError', async () => {
  const ci = sandbox.codeInterpreter
  const events = []
  const r = await ci.runCode('import sys\nfor i in range(3):\n    print(i, flush=True)\nsys.stderr.write("done")', {
    onStdout: (m) => events.push(['out', m.output]),
    onStderr: (m) => events.push(['err', m.output]),
  })
  assert.equal(events.filter(([k]) => k === 'out').map(([, t]) => t).join(''), '0\n1\n2\n')
  assert.deepEqual(events[events.length - 1], ['err', 'done'])
  assert.equal(r.stdout, '0\n1\n2\n')
  assert.equal(r.stderr, 'done')

  const err = await E.rejection(() => ci.runCode('import time\ntime.sleep(30)', { timeout: 1 }))
  assert.ok(err instanceof DaytonaTimeoutError, `${err.constructor.name}: ${err.message}`)
  // The default context still answers afterwards.
  assert.equal((await ci.runCode('print("alive")')).stdout, 'alive\n')
})

test("the exec-command example's session command (bash arithmetic, input, followed logs)", async () => {
  const p = sandbox.process
  await p.createSession('example')
  const command = await p.executeSessionCommand('example', {
    command:
      'printf "Enter your name: \\n" && read name && printf "Hello, %s\\n" "$name"; ' +
      'counter=1; while (( counter <= 3 )); do echo "Count: $counter"; ' +
      '((counter++)); done; non-existent-command',
    runAsync: true,
  })
  await p.sendSessionCommandInput('example', command.cmdId, 'Alice')
  const out = []
  const err = []
  await p.getSessionCommandLogs('example', command.cmdId, (c) => out.push(c), (c) => err.push(c))
  assert.equal(out.join(''), 'Enter your name: \nHello, Alice\nCount: 1\nCount: 2\nCount: 3\n')
  assert.match(err.join(''), /non-existent-command/)
  assert.equal((await p.getSessionCommand('example', command.cmdId)).exitCode, 127)
  await p.deleteSession('example')
})
