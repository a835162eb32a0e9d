'use strict'
// What the glue adds to the toolbox operations, checked over the Daytona API backend against the
// fake API (__test__/api-server/, no engine needed): bad arguments reject the Promise with
// DaytonaInvalidArgumentError before anything is sent; callbacks get the output in order, a
// returned Promise is awaited before the next chunk; a callback that throws (or rejects) stops
// the delivery and the operation's Promise rejects with exactly what it threw; the PTY handle.
// The request/result equivalence with the official SDK is toolbox-differential.test.js's job.

const { test } = require('node:test')
const assert = require('node:assert/strict')

const H = require('./api-server/helpers.js')
const native = require('../index.js')
const { DaytonaInvalidArgumentError, DaytonaConnectionError, DaytonaNotFoundError, PtyHandle } = native

/** A sandbox on a fresh fake API; `fn(sandbox, srv)`. */
function withSandbox(fn) {
  return H.withServer(
    { s3: 'none' },
    async (srv) => {
      const sb = await H.nativeClient(native, srv).create({ name: 'glue-sb', language: 'python' }, { timeout: 60 })
      return fn(sb, srv)
    },
    60_000,
  )
}

/** Calls `call()`, which must return a Promise (not throw) rejecting with `message`. */
async function rejectsInvalid(call, message) {
  let p
  assert.doesNotThrow(() => {
    p = call()
  }, 'a bad argument rejects the Promise instead of throwing')
  assert.ok(p instanceof Promise)
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof DaytonaInvalidArgumentError, `${e && e.constructor.name}: ${e && e.message}`)
    assert.equal(e.message, message)
    return true
  })
}

test('bad arguments: DaytonaInvalidArgumentError saying what to fix, and no request sent', async () => {
  await withSandbox(async (sb, srv) => {
    const p = sb.process
    const ci = sb.codeInterpreter
    const before = srv.apiRequests().length
    const cases = [
      [() => p.getSession(), 'Required parameter sessionId was null or undefined when calling getSession.'],
      [() => p.getSession(5), 'sessionId must be a string (got number)'],
      [() => p.createSession(null), 'Required parameter sessionId was null or undefined when calling createSession.'],
      [() => p.deleteSession({}), 'sessionId must be a string (got object)'],
      [() => p.getSessionCommand('s'), 'Required parameter commandId was null or undefined when calling getSessionCommand.'],
      [() => p.executeSessionCommand('s'), 'Required parameter request was null or undefined when calling sessionExecuteCommand.'],
      [() => p.executeSessionCommand('s', 'ls'), 'req must be an object (got string)'],
      [() => p.executeSessionCommand('s', { command: 5 }), 'req.command must be a string (got number)'],
      [() => p.executeSessionCommand('s', { command: 'ls', runAsync: 'yes' }), 'req.runAsync must be a boolean (got string)'],
      [() => p.executeSessionCommand('s', { command: 'ls' }, '5'), 'timeout must be a number (got string)'],
      [() => p.getSessionCommandLogs('s', ['c']), 'commandId must be a string (got an array)'],
      [() => p.getSessionCommandLogs('s', 'c', 5), 'onStdout must be a function (got number)'],
      [() => p.getSessionCommandLogs('s', 'c', () => {}, 'x'), 'onStderr must be a function (got string)'],
      [() => p.getEntrypointLogs(true), 'onStdout must be a function (got boolean)'],
      [() => p.sendSessionCommandInput('s', 'c', 5), 'data must be a string (got number)'],
      [() => p.codeRun(5), 'code must be a string (got number)'],
      [() => p.codeRun('x', { argv: 'a b' }), 'params.argv must be an array of strings (got string)'],
      [() => p.codeRun('x', { argv: ['a', 1] }), 'params.argv must be an array of strings (an element is not a string)'],
      [() => p.codeRun('x', { env: { A: 1 } }), 'params.env.A must be a string (got number)'],
      [() => p.codeRun('x', {}, 'soon'), 'timeout must be a number (got string)'],
      [() => p.createPty(), 'createPty needs options with an id: createPty({ id, onData })'],
      [() => p.createPty({ cols: 80 }), 'Required parameter options.id was null or undefined when calling createPty.'],
      [() => p.createPty({ id: 'p', cols: 0 }), 'options.cols must be an integer from 1 to 65535 (got 0)'],
      [() => p.createPty({ id: 'p', rows: 2.5 }), 'options.rows must be an integer from 1 to 65535 (got 2.5)'],
      [() => p.createPty({ id: 'p', envs: { A: null } }), 'options.envs.A must be a string (got null)'],
      [() => p.createPty({ id: 'p', onData: 'x' }), 'options.onData must be a function (got string)'],
      [() => p.connectPty(7), 'sessionId must be a string (got number)'],
      [() => p.connectPty('p', { onData: 1 }), 'options.onData must be a function (got number)'],
      [() => p.getPtySessionInfo(), 'Required parameter sessionId was null or undefined when calling getPtySession.'],
      [() => p.killPtySession(1), 'sessionId must be a string (got number)'],
      [() => p.resizePtySession('p', '80', 24), 'cols must be a number (got string)'],
      [() => p.resizePtySession('p', 80), 'rows is required: a number'],
      [() => ci.runCode(''), 'Code is required for execution'],
      [() => ci.runCode('   '), 'Code is required for execution'],
      [() => ci.runCode(), 'Code is required for execution'],
      [() => ci.runCode(42), 'code must be a string of Python code'],
      [() => ci.runCode('x', { envs: { A: 2 } }), 'options.envs.A must be a string (got number)'],
      [() => ci.runCode('x', { timeout: '1' }), 'options.timeout must be a number (got string)'],
      [() => ci.runCode('x', { context: { id: 3 } }), 'options.context.id must be a string (got number)'],
      [() => ci.runCode('x', { onError: {} }), 'options.onError must be a function (got object)'],
      [() => ci.createContext(5), 'cwd must be a string (got number)'],
      [() => ci.deleteContext({}), 'Required parameter id was null or undefined when calling deleteInterpreterContext.'],
      [() => ci.deleteContext(), 'deleteContext needs the context to delete: an InterpreterContext or its id'],
    ]
    for (const [call, message] of cases) await rejectsInvalid(call, message)
    assert.equal(srv.apiRequests().length, before, 'nothing was sent for a bad argument')
  })
})

test('followed logs: in order, async callbacks awaited one at a time, all before the Promise settles', async () => {
  await withSandbox(async (sb) => {
    const p = sb.process
    await p.createSession('s')
    const cmd = await p.executeSessionCommand('s', { command: 'echo one; echo two >&2; sleep 0.1; echo three; echo four >&2', runAsync: true })
    const events = []
    let busy = false
    const slow = (tag) => async (chunk) => {
      assert.equal(busy, false, 'a callback runs only after the previous one settled')
      busy = true
      events.push(`${tag}:${chunk}`)
      await new Promise((r) => setTimeout(r, 20))
      busy = false
    }
    const done = await p.getSessionCommandLogs('s', cmd.cmdId, slow('out'), slow('err'))
    assert.equal(done, undefined)
    assert.equal(busy, false, 'the last callback settled before the Promise')
    assert.equal(events.filter((e) => e.startsWith('out:')).map((e) => e.slice(4)).join(''), 'one\nthree\n')
    assert.equal(events.filter((e) => e.startsWith('err:')).map((e) => e.slice(4)).join(''), 'two\nfour\n')
    assert.ok(events.findIndex((e) => e.includes('one')) < events.findIndex((e) => e.includes('two')))
    assert.ok(events.findIndex((e) => e.includes('two')) < events.findIndex((e) => e.includes('three')))

    // Only one callback given: the other stream's output is skipped.
    let out = ''
    await p.getSessionCommandLogs('s', cmd.cmdId, (t) => (out += t))
    assert.equal(out, 'one\nthree\n')
  })
})

test('followed logs: a callback that throws rejects with the thrown value and gets nothing more', async () => {
  await withSandbox(async (sb) => {
    const p = sb.process
    await p.createSession('s')
    const cmd = await p.executeSessionCommand('s', { command: 'echo a; echo b; sleep 0.1; echo c', runAsync: true })
    for (const thrown of [new Error('stop here'), 'a string', { not: 'an error' }]) {
      let calls = 0
      await assert.rejects(
        p.getSessionCommandLogs(
          's',
          cmd.cmdId,
          () => {
            calls++
            throw thrown
          },
          () => {},
        ),
        (e) => e === thrown,
      )
      assert.equal(calls, 1)
    }
    // A rejected Promise counts as a throw.
    const reason = new RangeError('async no')
    await assert.rejects(
      p.getSessionCommandLogs('s', cmd.cmdId, async () => Promise.reject(reason), () => {}),
      (e) => e === reason,
    )
    // The session still works.
    const r = await p.executeSessionCommand('s', { command: 'echo fine' })
    assert.equal(r.stdout, 'fine\n')
  })
})

test('followed logs of an unknown command: DaytonaNotFoundError, no callback', async () => {
  await withSandbox(async (sb) => {
    await sb.process.createSession('s')
    let called = false
    await assert.rejects(
      sb.process.getSessionCommandLogs('s', 'no-such-command', () => (called = true), () => (called = true)),
      DaytonaNotFoundError,
    )
    assert.equal(called, false)
  })
})

test('runCode: callbacks get OutputMessage and ExecutionError in order; a throw rejects with it', async () => {
  await withSandbox(async (sb) => {
    const ci = sb.codeInterpreter
    const events = []
    const r = await ci.runCode('print("x")\nimport sys\nsys.stderr.write("y")', {
      onStdout: async (m) => {
        await new Promise((res) => setTimeout(res, 10))
        events.push(['out', m])
      },
      onStderr: (m) => events.push(['err', m]),
    })
    assert.deepEqual(events, [
      ['out', { output: 'x\n' }],
      ['err', { output: 'y' }],
    ])
    assert.deepEqual(r, { stdout: 'x\n', stderr: 'y' })
    assert.equal(Object.prototype.hasOwnProperty.call(r, 'error'), false, 'no error key without an error')

    const errors = []
    const failed = await ci.runCode("raise ValueError('bad')", { onError: (e) => errors.push(e) })
    assert.equal(errors.length, 1)
    assert.equal(errors[0].name, 'ValueError')
    assert.equal(errors[0].value, 'bad')
    assert.equal(typeof errors[0].traceback, 'string')
    assert.deepEqual(failed.error, errors[0])

    const thrown = new Error('callback failed')
    await assert.rejects(
      ci.runCode('print("x")', {
        onStdout: () => {
          throw thrown
        },
      }),
      (e) => e === thrown,
    )
  })
})

test('PTY handle: Uint8Array output, exit code, input checks; a throwing onData rejects wait()', async () => {
  await withSandbox(async (sb) => {
    const p = sb.process
    const chunks = []
    const pty = await p.createPty({ id: 'glue-pty', onData: (d) => chunks.push(d) })
    assert.ok(pty instanceof PtyHandle)
    assert.equal(pty.sessionId, 'glue-pty')
    assert.equal(pty.isConnected(), true)
    assert.equal(pty.exitCode, undefined)
    await pty.waitForConnection()
    await rejectsInvalid(() => pty.sendInput(5), 'data must be a string or a Uint8Array (got number)')
    await pty.sendInput(new TextEncoder().encode('echo bytes\n'))
    await pty.sendInput('exit 4\n')
    const result = await pty.wait()
    assert.deepEqual(result, { exitCode: 4, error: undefined })
    assert.equal(pty.exitCode, 4)
    assert.ok(chunks.length > 0 && chunks.every((c) => c instanceof Uint8Array))
    assert.ok(Buffer.concat(chunks).toString().includes('bytes'))
    assert.equal(pty.isConnected(), false)
    await assert.rejects(pty.sendInput('x'), (e) => e instanceof DaytonaConnectionError && e.message === 'PTY is not connected')
    await pty.disconnect()

    const thrown = new Error('onData failed')
    const pty2 = await p.createPty({
      id: 'glue-pty2',
      onData: () => {
        throw thrown
      },
    })
    await pty2.sendInput('echo hi\n')
    await assert.rejects(pty2.wait(), (e) => e === thrown)
    await pty2.kill()
    await pty2.disconnect()
  })
})
