// Type-checked with `tsc --strict` (npm run typecheck): toolbox code written against the
// official SDK's types compiles against ours, and misuse does not.
import {
  ChartType,
  CodeRunParams,
  DaytonaTimeoutError,
  PtyHandle,
  STDOUT_PREFIX_BYTES,
  type Chart,
  type Command,
  type ExecuteResponse,
  type ExecutionError,
  type ExecutionResult,
  type InterpreterContext,
  type LineChart,
  type OutputMessage,
  type PtyCreateOptions,
  type PtyConnectOptions,
  type PtyResult,
  type PtySessionInfo,
  type RunCodeOptions,
  type Sandbox,
  type Session,
  type SessionCommandLogsResponse,
  type SessionExecuteRequest,
  type SessionExecuteResponse,
} from '../../index.js'

async function toolbox(sandbox: Sandbox): Promise<void> {
  const p = sandbox.process
  const params = new CodeRunParams()
  params.argv = ['a']
  params.env = { K: 'v' }
  const run: ExecuteResponse = await p.codeRun('print(1)', params, 10)
  const charts: Chart[] = run.artifacts?.charts ?? []
  for (const chart of charts) {
    if (chart.type === ChartType.LINE) console.log((chart as LineChart).x_ticks)
  }

  await p.createSession('s')
  const req: SessionExecuteRequest = { command: 'ls', runAsync: true, suppressInputEcho: false }
  const res: SessionExecuteResponse = await p.executeSessionCommand('s', req, 5)
  const cmd: Command = await p.getSessionCommand('s', res.cmdId)
  const session: Session = await p.getSession('s')
  const sessions: Session[] = await p.listSessions()
  const logs: SessionCommandLogsResponse = await p.getSessionCommandLogs('s', cmd.id)
  const followed: void = await p.getSessionCommandLogs('s', cmd.id, (c: string) => console.log(c), (c: string) => console.error(c))
  const entry: Session = await p.getEntrypointSession()
  const entryLogs: SessionCommandLogsResponse = await p.getEntrypointLogs()
  await p.getEntrypointLogs((c) => console.log(c), (c) => console.error(c))
  await p.sendSessionCommandInput('s', res.cmdId, 'input')
  await p.deleteSession('s')
  console.log(session.commands.length, sessions.length, logs.stdout, followed, entry.sessionId, entryLogs.output)

  const create: PtyCreateOptions & PtyConnectOptions = { id: 'pty', cols: 120, rows: 30, envs: { TERM: 'xterm' }, onData: (d: Uint8Array) => void d }
  const pty: PtyHandle = await p.createPty(create)
  await pty.waitForConnection()
  await pty.sendInput('ls\n')
  await pty.sendInput(new Uint8Array([3]))
  const resized: PtySessionInfo = await pty.resize(80, 24)
  const result: PtyResult = await pty.wait()
  const code: number | undefined = pty.exitCode ?? result.exitCode
  const connected: boolean = pty.isConnected()
  await pty.kill()
  await pty.disconnect()
  const again = await p.connectPty('pty', { onData: async (d) => void d.byteLength })
  const infos: PtySessionInfo[] = await p.listPtySessions()
  const info: PtySessionInfo = await p.getPtySessionInfo('pty')
  const info2: PtySessionInfo = await p.resizePtySession('pty', 100, 40)
  await p.killPtySession('pty')
  console.log(resized.cols, code, connected, again.sessionId, infos.length, info.active, info2.rows, STDOUT_PREFIX_BYTES.length)

  const ci = sandbox.codeInterpreter
  const ctx: InterpreterContext = await ci.createContext('/tmp')
  const options: RunCodeOptions = {
    context: ctx,
    envs: { A: 'b' },
    timeout: 10,
    onStdout: (m: OutputMessage) => process.stdout.write(m.output),
    onStderr: async (m: OutputMessage) => process.stderr.write(m.output),
    onError: (e: ExecutionError) => console.error(e.name, e.value, e.traceback ?? ''),
  }
  try {
    const r: ExecutionResult = await ci.runCode('x = 1', options)
    console.log(r.stdout, r.stderr, r.error?.name)
  } catch (e) {
    if (e instanceof DaytonaTimeoutError) console.log(e.message)
  }
  const contexts: InterpreterContext[] = await ci.listContexts()
  await ci.deleteContext(ctx)
  console.log(contexts.length)

  // @ts-expect-error: the request needs a command
  await p.executeSessionCommand('s', { runAsync: true })
  // @ts-expect-error: createPty needs an id
  await p.createPty({ onData: () => {} })
  // @ts-expect-error: PtyHandle is made by createPty/connectPty
  new PtyHandle()
  // @ts-expect-error: onStdout gets an OutputMessage, not a string
  await ci.runCode('x', { onStdout: (m: string) => m })
}

void toolbox
