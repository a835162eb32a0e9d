'use strict'
// The sandbox's process toolbox in the fake API (see ./toolbox.js): sessions, PTY, code run and
// the code interpreter, modelled in JavaScript with just the semantics the wire tests need.
//
// The seam: every operation is `handlers[operationId](ctx, sb, body)` (plain HTTP) or
// `upgrades[operationId](ws, sb, params, query, protocols)` (WebSocket, after ./toolbox.js
// validated and recorded the request, and `prechecks[operationId]` found nothing to refuse). A later version can forward the same requests to the in-sandbox agent
// (which serves this toolbox API itself) instead, keeping the routing, validation and recording.
//
// Sessions run a tiny shell: commands separated by `;` or `&&`, each one of
//   echo [-n] WORDS [>&2]   cd DIR   export K=V   K=V   pwd   printenv K   true   false
//   exit N   sleep SECONDS   read VAR (waits for a line of input)
// ($VAR expands from the session's variables). Unknown commands write "<cmd>: not found" to
// stderr and end with 127. A command's log is the daemon's: stdout chunks after 01 01 01,
// stderr chunks after 02 02 02. Following a log (WebSocket, `follow=true`) sends the log from its
// first byte, then each new chunk, then closes normally when the command has ended — a client
// that reconnects gets the log again from the start.
//
// PTY: a line terminal that echoes its input; `exit N` ends it (control message `exited`, then
// close 1000 with `{"exitCode":N}` as the reason). Code run: `print(...)`/`console.log(...)` of a
// string literal become the result; `plt.show()` adds a line chart. Interpreter: per context,
// `NAME = <int or string literal>`, `print(<literal or NAME>)`, `sys.stderr.write(<literal>)`,
// `raise Name('msg')`, `time.sleep(N)` (past the request's timeout: close 4008).

const { HOME, nowIso, sleep } = require('./util.js')
const { shellWords } = require('./words.js')

const OUT = Buffer.from([1, 1, 1])
const ERR = Buffer.from([2, 2, 2])
const ENTRYPOINT = 'entrypoint'

function processState(sb) {
  if (!sb.process) {
    const entry = newSession(sb, ENTRYPOINT)
    const cmd = newCommand(entry, 'sleep infinity')
    write(cmd, 'stdout', 'entrypoint started\n')
    sb.process = { sessions: new Map(), entrypoint: entry, ptys: new Map(), contexts: new Map(), counter: 0 }
    sb.process.entrypointCommand = cmd
  }
  return sb.process
}

function newSession(sb, id) {
  return { id, cwd: HOME, vars: { ...(sb.env || {}) }, commands: new Map(), seq: 0, deleted: false, waiters: new Set() }
}

function newCommand(session, command) {
  session.seq += 1
  const id = `cmd-${session.id}-${session.seq}`
  const cmd = { id, command, exitCode: undefined, log: [], stdout: '', stderr: '', listeners: new Set(), input: [], inputWaiters: [] }
  session.commands.set(id, cmd)
  return cmd
}

function write(cmd, stream, text) {
  if (!text) return
  const chunk = Buffer.concat([stream === 'stdout' ? OUT : ERR, Buffer.from(text)])
  cmd.log.push(chunk)
  cmd[stream] += text
  for (const l of cmd.listeners) l.data(chunk)
}

function finish(cmd, code) {
  cmd.exitCode = code
  for (const l of cmd.listeners) l.end()
  cmd.listeners.clear()
}

/** `output` as the daemon answers it: the log with its stream markers. */
const logText = (c) => Buffer.concat(c.log).toString('utf8')

const commandView = (c) => (c.exitCode === undefined ? { id: c.id, command: c.command } : { id: c.id, command: c.command, exitCode: c.exitCode })
const sessionView = (s) => ({ sessionId: s.id, commands: [...s.commands.values()].map(commandView) })

/** Runs `text` in `session`, writing to `cmd`; resolves with the exit code. */
async function runShell(session, cmd, text, alive) {
  let code = 0
  const parts = text.split(/;|&&/)
  const ands = [...text.matchAll(/;|&&/g)].map((m) => m[0])
  for (let i = 0; i < parts.length; i++) {
    if (i > 0 && ands[i - 1] === '&&' && code !== 0) break
    const words = shellWords(parts[i], session.vars)
    if (!words.length) continue
    let toErr = false
    if (words[words.length - 1] === '>&2' || words[words.length - 1] === '1>&2') {
      toErr = true
      words.pop()
    }
    const [c, ...args] = words
    if (/^\w+=/.test(c) && args.length === 0) {
      const [k, ...v] = c.split('=')
      session.vars[k] = v.join('=')
      code = 0
    } else if (c === 'echo') {
      const noNl = args[0] === '-n'
      write(cmd, toErr ? 'stderr' : 'stdout', (noNl ? args.slice(1) : args).join(' ') + (noNl ? '' : '\n'))
      code = 0
    } else if (c === 'cd') {
      session.cwd = args[0] ? (args[0].startsWith('/') ? args[0] : `${session.cwd.replace(/\/$/, '')}/${args[0]}`) : HOME
      code = 0
    } else if (c === 'export') {
      for (const a of args) {
        const [k, ...v] = a.split('=')
        session.vars[k] = v.join('=')
      }
      code = 0
    } else if (c === 'pwd') {
      write(cmd, 'stdout', `${session.cwd}\n`)
      code = 0
    } else if (c === 'printenv') {
      if (args[0] in session.vars) write(cmd, 'stdout', `${session.vars[args[0]]}\n`)
      code = args[0] in session.vars ? 0 : 1
    } else if (c === 'true') code = 0
    else if (c === 'false') code = 1
    else if (c === 'exit') return Number(args[0] || 0)
    else if (c === 'sleep') {
      await sleep(Number(args[0] || 0) * 1000)
      if (!alive()) return 143
      code = 0
    } else if (c === 'read') {
      const line = cmd.input.length ? cmd.input.shift() : await new Promise((r) => cmd.inputWaiters.push(r))
      if (line === null) return 1
      session.vars[args[0] || 'REPLY'] = line.replace(/\n$/, '')
      code = 0
    } else {
      write(cmd, 'stderr', `sh: 1: ${c}: not found\n`)
      code = 127
    }
  }
  return code
}

function chartFor(code) {
  if (!/plt\.show\(\)/.test(code)) return []
  return [{ type: 'line', title: 'Line Chart', png: 'iVBORw0KGgo=', x_label: 'X', y_label: 'Y', x_unit: null, y_unit: null, x_ticks: [0, 1], x_tick_labels: ['0', '1'], x_scale: 'linear', y_ticks: [0, 1], y_tick_labels: ['0', '1'], y_scale: 'linear', elements: [{ label: 'sin', points: [[0, 0], [1, 0.84]] }] }]
}

function createProcess(S, toolboxError) {
  const { send } = S

  const notFound = (ctx, what) => send(ctx, 404, toolboxError(ctx, 404, `${what} not found`, 'NOT_FOUND'))
  const badRequest = (ctx, msg) => send(ctx, 400, toolboxError(ctx, 400, msg, 'BAD_REQUEST'))

  function session(sb, id) {
    const p = processState(sb)
    if (id === ENTRYPOINT) return p.entrypoint
    const s = p.sessions.get(id)
    return s && !s.deleted ? s : null
  }

  function ptyView(p) {
    return { id: p.id, cwd: p.cwd, envs: p.envs, cols: p.cols, rows: p.rows, createdAt: p.createdAt, active: p.active, lazyStart: false }
  }

  const handlers = {
    CreateSession(ctx, sb, body) {
      const id = body.json.sessionId
      const p = processState(sb)
      if (!id) return badRequest(ctx, 'sessionId is required')
      if (p.sessions.has(id) && !p.sessions.get(id).deleted) return send(ctx, 409, toolboxError(ctx, 409, `session ${id} already exists`, 'CONFLICT'))
      p.sessions.set(id, newSession(sb, id))
      return send(ctx, 201)
    },
    GetSession(ctx, sb) {
      const s = session(sb, ctx.match.pathParams.sessionId)
      return s ? send(ctx, 200, sessionView(s)) : notFound(ctx, 'session')
    },
    GetEntrypointSession(ctx, sb) {
      return send(ctx, 200, sessionView(processState(sb).entrypoint))
    },
    ListSessions(ctx, sb) {
      return send(ctx, 200, [...processState(sb).sessions.values()].filter((s) => !s.deleted).map(sessionView))
    },
    DeleteSession(ctx, sb) {
      const s = session(sb, ctx.match.pathParams.sessionId)
      if (!s || s.id === ENTRYPOINT) return notFound(ctx, 'session')
      s.deleted = true
      for (const c of s.commands.values()) {
        for (const w of c.inputWaiters.splice(0)) w(null)
        if (c.exitCode === undefined) finish(c, 143)
      }
      return send(ctx, 204)
    },
    GetSessionCommand(ctx, sb) {
      const s = session(sb, ctx.match.pathParams.sessionId)
      if (!s) return notFound(ctx, 'session')
      const c = s.commands.get(ctx.match.pathParams.commandId)
      return c ? send(ctx, 200, commandView(c)) : notFound(ctx, 'command')
    },
    async SessionExecuteCommand(ctx, sb, body) {
      const s = session(sb, ctx.match.pathParams.sessionId)
      if (!s) return notFound(ctx, 'session')
      if (s.id === ENTRYPOINT) return badRequest(ctx, "can't execute command in entrypoint session")
      const r = body.json
      if (!r.command || !r.command.trim()) return badRequest(ctx, 'command cannot be empty')
      const cmd = newCommand(s, r.command)
      const run = runShell(s, cmd, r.command, () => !s.deleted && !S.state.closed).then(
        (code) => cmd.exitCode === undefined && finish(cmd, code),
        () => cmd.exitCode === undefined && finish(cmd, 1),
      )
      if (r.runAsync || r.async) return send(ctx, 202, { cmdId: cmd.id })
      await run
      return send(ctx, 200, { cmdId: cmd.id, output: logText(cmd), stdout: cmd.stdout, stderr: cmd.stderr, exitCode: cmd.exitCode })
    },
    GetSessionCommandLogs(ctx, sb) {
      const s = session(sb, ctx.match.pathParams.sessionId)
      if (!s) return notFound(ctx, 'session')
      const c = s.commands.get(ctx.match.pathParams.commandId)
      if (!c) return notFound(ctx, 'command')
      return send(ctx, 200, { output: logText(c), stdout: c.stdout, stderr: c.stderr })
    },
    GetEntrypointLogs(ctx, sb) {
      const c = processState(sb).entrypointCommand
      return send(ctx, 200, { output: logText(c), stdout: c.stdout, stderr: c.stderr })
    },
    SendInput(ctx, sb, body) {
      const s = session(sb, ctx.match.pathParams.sessionId)
      if (!s) return notFound(ctx, 'session')
      const c = s.commands.get(ctx.match.pathParams.commandId)
      if (!c) return notFound(ctx, 'command')
      if (c.exitCode !== undefined) return send(ctx, 410, toolboxError(ctx, 410, 'command has already completed', 'COMMAND_ALREADY_COMPLETED'))
      for (const line of body.json.data.split(/(?<=\n)/)) {
        const w = c.inputWaiters.shift()
        if (w) w(line)
        else c.input.push(line)
      }
      return send(ctx, 204)
    },

    ListPtySessions(ctx, sb) {
      return send(ctx, 200, { sessions: [...processState(sb).ptys.values()].map(ptyView) })
    },
    GetPtySession(ctx, sb) {
      const p = processState(sb).ptys.get(ctx.match.pathParams.sessionId)
      return p ? send(ctx, 200, ptyView(p)) : notFound(ctx, 'PTY session')
    },
    DeletePtySession(ctx, sb) {
      const p = processState(sb).ptys.get(ctx.match.pathParams.sessionId)
      if (!p) return notFound(ctx, 'PTY session')
      exitPty(p, 137, 'killed')
      processState(sb).ptys.delete(p.id)
      return send(ctx, 200, { message: `PTY session ${p.id} deleted` })
    },
    ResizePtySession(ctx, sb, body) {
      const p = processState(sb).ptys.get(ctx.match.pathParams.sessionId)
      if (!p) return notFound(ctx, 'PTY session')
      if (!p.active) return send(ctx, 410, toolboxError(ctx, 410, 'PTY session has ended'))
      p.cols = body.json.cols
      p.rows = body.json.rows
      return send(ctx, 200, ptyView(p))
    },

    CodeRun(ctx, sb, body) {
      const r = body.json
      const lits = [...r.code.matchAll(/(?:print|console\.log)\((['"])(.*?)\1\)/g)].map((m) => `${m[2]}\n`)
      const args = r.argv && r.argv.length ? `argv=${r.argv.join(',')}\n` : ''
      const envs = r.envs ? Object.entries(r.envs).map(([k, v]) => `${k}=${v}\n`).join('') : ''
      return send(ctx, 200, { exitCode: 0, result: lits.join('') + args + envs, artifacts: { charts: chartFor(r.code) } })
    },

    CreateInterpreterContext(ctx, sb, body) {
      const p = processState(sb)
      p.counter += 1
      const c = { id: `ctx-${p.counter}`, cwd: body.json.cwd || HOME, language: body.json.language || 'python', createdAt: nowIso(), active: true, vars: {} }
      p.contexts.set(c.id, c)
      return send(ctx, 200, contextView(c))
    },
    ListInterpreterContexts(ctx, sb) {
      return send(ctx, 200, { contexts: [...processState(sb).contexts.values()].map(contextView) })
    },
    DeleteInterpreterContext(ctx, sb) {
      const p = processState(sb)
      if (!p.contexts.delete(ctx.match.pathParams.id)) return notFound(ctx, 'context')
      return send(ctx, 200, { message: 'Context deleted' })
    },
  }

  const contextView = (c) => ({ id: c.id, cwd: c.cwd, language: c.language, createdAt: c.createdAt, active: c.active })

  /** Streams a command's log: all of it so far, then new chunks, then a normal close. */
  function followLog(ws, cmd) {
    for (const chunk of cmd.log) ws.send(chunk, { binary: true })
    if (cmd.exitCode !== undefined) return ws.close(1000)
    const l = { data: (chunk) => ws.send(chunk, { binary: true }), end: () => ws.close(1000) }
    cmd.listeners.add(l)
    ws.on('close', () => cmd.listeners.delete(l))
  }

  function exitPty(p, code, reason) {
    if (!p.active) return
    p.active = false
    for (const ws of p.clients) {
      ws.send(JSON.stringify({ type: 'control', status: 'exited', exitCode: code, ...(reason ? { exitReason: reason } : {}) }))
      ws.close(1000, JSON.stringify({ exitCode: code, ...(reason ? { exitReason: reason } : {}) }))
    }
  }

  function attachPty(ws, p) {
    p.clients.add(ws)
    ws.send(JSON.stringify({ type: 'control', status: 'connected' }))
    let line = ''
    ws.on('message', (data) => {
      const text = Buffer.from(data).toString('utf8')
      for (const w of p.clients) w.send(Buffer.from(text.replace(/\n/g, '\r\n')), { binary: true })
      line += text
      let nl
      while ((nl = line.indexOf('\n')) >= 0) {
        const cmd = line.slice(0, nl).trim()
        line = line.slice(nl + 1)
        const m = /^exit(?:\s+(\d+))?$/.exec(cmd)
        if (m) return exitPty(p, Number(m[1] || 0))
        const words = shellWords(cmd, p.envs)
        if (words[0] === 'echo') for (const w of p.clients) w.send(Buffer.from(`${words.slice(1).join(' ')}\r\n`), { binary: true })
      }
    })
    ws.on('close', () => p.clients.delete(ws))
  }

  // What the daemon refuses before upgrading (an HTTP error answer): {status, message, code}.
  const prechecks = {
    GetSessionCommandLogs(sb, params) {
      const s = session(sb, params.sessionId)
      if (!s) return { status: 404, message: 'session not found', code: 'NOT_FOUND' }
      if (!s.commands.get(params.commandId)) return { status: 404, message: 'command not found', code: 'NOT_FOUND' }
      return null
    },
  }

  const upgrades = {
    GetSessionCommandLogs(ws, sb, params) {
      followLog(ws, session(sb, params.sessionId).commands.get(params.commandId))
    },
    GetEntrypointLogs(ws, sb) {
      followLog(ws, processState(sb).entrypointCommand)
    },
    CreateConnectPty(ws, sb, params, query, protocols) {
      const p = processState(sb)
      const id = query.get('id')
      let envs = {}
      const token = protocols.find((t) => t.startsWith('X-Daytona-Pty-Envs~'))
      if (token) envs = JSON.parse(Buffer.from(token.slice('X-Daytona-Pty-Envs~'.length), 'base64url').toString('utf8'))
      if (p.ptys.has(id) && p.ptys.get(id).active) {
        ws.send(JSON.stringify({ type: 'control', status: 'error', error: `PTY session ${id} already exists` }))
        return ws.close(1000)
      }
      const pty = { id, cwd: query.get('cwd') || HOME, envs, cols: Number(query.get('cols')), rows: Number(query.get('rows')), createdAt: nowIso(), active: true, clients: new Set() }
      p.ptys.set(id, pty)
      attachPty(ws, pty)
    },
    ConnectPtySession(ws, sb, params) {
      const pty = processState(sb).ptys.get(params.sessionId)
      if (!pty || !pty.active) {
        ws.send(JSON.stringify({ type: 'control', status: 'error', error: `Failed to connect to PTY session: PTY session ${params.sessionId} not found` }))
        return ws.close(1000)
      }
      attachPty(ws, pty)
    },
    ExecuteInterpreterCode(ws, sb) {
      ws.once('message', async (data) => {
        const r = JSON.parse(Buffer.from(data).toString('utf8'))
        const p = processState(sb)
        const c = r.contextId ? p.contexts.get(r.contextId) : (p.defaultContext ||= { vars: {} })
        if (!c) {
          ws.send(JSON.stringify({ type: 'error', name: 'ContextError', value: `context ${r.contextId} not found`, traceback: '' }))
          return ws.close(1000)
        }
        const vars = c.vars
        const value = (expr) => {
          const lit = /^(['"])(.*)\1$/.exec(expr)
          if (lit) return lit[2]
          if (/^-?\d+$/.test(expr)) return expr
          if (expr in vars) return vars[expr]
          if (/^os\.environ\[(['"])(\w+)\1\]$/.test(expr)) return (r.envs || {})[/\[(['"])(\w+)\1\]/.exec(expr)[2]] ?? ''
          return undefined
        }
        let elapsed = 0
        for (const raw of r.code.split('\n')) {
          const stmt = raw.trim()
          let m
          if (!stmt || /^import /.test(stmt) || stmt.startsWith('#')) continue
          if ((m = /^print\((.*)\)$/.exec(stmt))) {
            const v = value(m[1].trim())
            if (v === undefined) {
              ws.send(JSON.stringify({ type: 'error', name: 'NameError', value: `name '${m[1].trim()}' is not defined`, traceback: `Traceback (most recent call last):\nNameError: name '${m[1].trim()}' is not defined` }))
              break
            }
            ws.send(JSON.stringify({ type: 'stdout', text: `${v}\n` }))
          } else if ((m = /^sys\.stderr\.write\((.*)\)$/.exec(stmt))) {
            ws.send(JSON.stringify({ type: 'stderr', text: value(m[1].trim()) ?? '' }))
          } else if ((m = /^raise (\w+)\((['"])(.*)\2\)$/.exec(stmt))) {
            ws.send(JSON.stringify({ type: 'error', name: m[1], value: m[3], traceback: `Traceback (most recent call last):\n${m[1]}: ${m[3]}` }))
            break
          } else if ((m = /^time\.sleep\(([\d.]+)\)$/.exec(stmt))) {
            const secs = Number(m[1])
            if (r.timeout > 0 && elapsed + secs > r.timeout) {
              await sleep((r.timeout - elapsed) * 1000)
              return ws.close(4008, 'execution timed out')
            }
            elapsed += secs
            await sleep(secs * 1000)
          } else if ((m = /^(\w+)\s*=\s*(.+)$/.exec(stmt))) {
            vars[m[1]] = value(m[2].trim())
          }
        }
        ws.send(JSON.stringify({ type: 'control', text: 'completed' }))
        ws.close(1000)
      })
    },
  }

  return { handlers, prechecks, upgrades }
}

module.exports = { createProcess }
