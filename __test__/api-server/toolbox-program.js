'use strict'
// The toolbox user program of the differential tests (../toolbox-differential.test.js, and the
// Rust client's tests through ./cli.js `run-official`), written once against either SDK's
// exports. The Rust mirror (crates/client/tests/toolbox_api.rs) makes the same calls in the same
// order.

const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }))
const errorShape = (e) => e && { name: e.constructor.name, message: e.message, statusCode: e.statusCode }

/** The user program, written once against either SDK's exports. */
async function program(sdk, d) {
  const obs = {}
  const sb = await d.create({ name: 'tb-sb', language: 'python' }, { timeout: 60 })
  const p = sb.process

  // codeRun with argv, env and a chart.
  const run = await p.codeRun('print("hi")\nimport matplotlib.pyplot as plt\nplt.show()', { argv: ['a', 'b'], env: { K: 'V' } }, 10)
  obs.codeRun = { exitCode: run.exitCode, result: run.result, charts: run.artifacts.charts.map((c) => ({ type: c.type, title: c.title, elements: c.elements })) }

  // Sessions: state persists, async commands, logs both ways, input.
  await p.createSession('s1')
  obs.cd = await p.executeSessionCommand('s1', { command: 'cd /tmp && export A=1' })
  const pwd = await p.executeSessionCommand('s1', { command: 'pwd; echo $A; echo oops >&2' }, 10)
  obs.pwd = { stdout: pwd.stdout, stderr: pwd.stderr, exitCode: pwd.exitCode, output: pwd.output }
  const bg = await p.executeSessionCommand('s1', { command: 'echo start; sleep 0.3; echo done; echo warn >&2', runAsync: true })
  obs.bgKeys = Object.keys(bg).sort()
  const followed = { out: '', err: '' }
  await p.getSessionCommandLogs('s1', bg.cmdId, (t) => (followed.out += t), (t) => (followed.err += t))
  obs.followed = followed
  obs.snapshot = await p.getSessionCommandLogs('s1', bg.cmdId)
  obs.command = await p.getSessionCommand('s1', bg.cmdId)
  const reader = await p.executeSessionCommand('s1', { command: 'read X; echo got $X', runAsync: true, suppressInputEcho: true })
  await p.sendSessionCommandInput('s1', reader.cmdId, 'typed\n')
  await p.getSessionCommandLogs('s1', reader.cmdId, () => {}, () => {})
  obs.reader = (await p.getSessionCommandLogs('s1', reader.cmdId)).stdout
  const session = await p.getSession('s1')
  obs.session = { sessionId: session.sessionId, commands: session.commands.map((c) => ({ command: c.command, exitCode: c.exitCode })) }
  obs.sessions = (await p.listSessions()).map((s) => s.sessionId)
  obs.entrypoint = (await p.getEntrypointSession()).sessionId
  obs.entrypointLogs = await p.getEntrypointLogs()
  obs.missing = errorShape((await settle(p.getSession('nope'))).error)
  await p.deleteSession('s1')

  // PTY.
  let text = ''
  const pty = await p.createPty({ id: 'pty1', cwd: '/tmp', envs: { TERM: 'xterm-256color' }, cols: 100, rows: 30, onData: (b) => (text += Buffer.from(b).toString()) })
  await pty.sendInput('echo pty-hello\n')
  obs.resized = (({ cols, rows }) => ({ cols, rows }))(await pty.resize(120, 40))
  obs.ptyInfo = (({ id, cwd, envs, active }) => ({ id, cwd, envs, active }))(await p.getPtySessionInfo('pty1'))
  obs.ptyList = (await p.listPtySessions()).map((s) => s.id)
  await pty.sendInput('exit 3\n')
  obs.ptyResult = await pty.wait()
  obs.ptyExit = pty.exitCode
  obs.ptySawEcho = text.includes('pty-hello')
  await pty.disconnect()
  const pty2 = await p.createPty({ id: 'pty2' })
  await p.killPtySession('pty2')
  obs.killed = (await pty2.wait()).exitCode
  await pty2.disconnect()

  // The code interpreter: state within a context, streaming callbacks, errors, timeout.
  const ci = sb.codeInterpreter
  const ctx = await ci.createContext('/tmp')
  obs.context = { cwd: ctx.cwd, language: ctx.language }
  await ci.runCode('x = 42', { context: ctx })
  const events = []
  const r = await ci.runCode('print(x)\nimport sys\nsys.stderr.write("e")', {
    context: ctx,
    envs: { A: 'B' },
    onStdout: (m) => events.push(['out', m.output]),
    onStderr: (m) => events.push(['err', m.output]),
  })
  obs.interp = { stdout: r.stdout, stderr: r.stderr, error: r.error, events }
  const failed = await ci.runCode("raise ValueError('bad')", { onError: (e) => events.push(['error', e.name, e.value]) })
  obs.interpError = failed.error && { name: failed.error.name, value: failed.error.value }
  obs.interpTimeout = errorShape((await settle(ci.runCode('import time\ntime.sleep(5)', { timeout: 1 }))).error)
  obs.emptyCode = errorShape((await settle(ci.runCode('  '))).error)
  obs.contexts = (await ci.listContexts()).map((c) => c.id)
  await ci.deleteContext(ctx)
  obs.contextsAfter = (await ci.listContexts()).length

  await sb.delete()
  return obs
}

module.exports = { program }
