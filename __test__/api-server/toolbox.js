'use strict'
// The toolbox of the fake API (see the header of ./server.js): {toolboxUrl}/{sandboxId}/<path>
// with process/execute (a few commands interpreted here: echo, exit, true, false, pwd, printenv,
// cat, sleep; anything else answers exit code 127 "not found") and files/bulk-upload and
// files/bulk-download on the sandbox's in-memory files; sessions, PTY, code run and the
// interpreter from ./process.js, including their WebSockets (routeUpgrade).

const path = require('node:path')

const { buildMultipart } = require('./multipart.js')
const { HOME, REASONS, sleep, nowIso } = require('./util.js')
const { shellWords } = require('./words.js')
const { createProcess } = require('./process.js')
const { WebSocketServer } = require('ws')
const { createForwarder } = require('./agent.js')

const EXIT_CONTROL = 'X-Daytona-Pty-Exit-Control'


/** The toolbox routes of one server; `S` is the server's shared context (see server.js). */
function createToolbox(S) {
  const { state, validators, parseBody, violation, gate, send, destroy, errorBody } = S

  async function routeToolbox(ctx) {
    const { rec } = ctx
    rec.kind = 'toolbox'
    const m0 = /^\/toolbox\/([^/]+)(\/.*)$/.exec(ctx.url.pathname)
    const body = parseBody(ctx)
    if (!m0) {
      violation(ctx, [`no toolbox route for ${ctx.url.pathname}`])
      return send(ctx, 404, errorBody(404, `Cannot ${ctx.req.method} ${ctx.url.pathname}`))
    }
    const sandboxId = decodeURIComponent(m0[1])
    rec.sandboxId = sandboxId
    const validator = validators.toolbox
    const m = validator.match(ctx.req.method, m0[2])
    if (!m || !m.op) {
      violation(ctx, [`no toolbox operation in the spec for ${ctx.req.method} ${m0[2]}`])
      return send(ctx, 404, toolboxError(ctx, 404, `Cannot ${ctx.req.method} ${m0[2]}`))
    }
    rec.op = m.operationId
    rec.template = m.template
    ctx.match = m
    ctx.validator = validator
    if (!(await gate(ctx, validator, m, body))) return
    const sb = state.sandboxes.get(sandboxId)
    if (!sb || sb.gone || sb.deleted) return send(ctx, 404, toolboxError(ctx, 404, `sandbox ${sandboxId} not found`, 'NOT_FOUND'))
    if (sb.state !== 'started') {
      return send(ctx, 409, toolboxError(ctx, 409, `sandbox ${sandboxId} is ${sb.state}, not started`, 'CONFLICT'))
    }
    if (forwarder && forwarded.has(m.operationId)) return forwarder.forwardHttp(ctx, m0[2] + ctx.url.search)
    const handler = toolboxHandlers[m.operationId]
    if (!handler) {
      state.unimplemented.push({ seq: rec.seq, op: rec.op })
      return send(ctx, 501, toolboxError(ctx, 501, `not implemented by the test server: ${m.operationId}`))
    }
    return handler(ctx, sb, body)
  }

  function toolboxError(ctx, status, message, code) {
    const e = { statusCode: status, message, path: ctx.url.pathname, timestamp: nowIso(), method: ctx.req.method }
    if (code) {
      e.code = code
      e.source = 'DAYTONA_DAEMON'
    }
    return e
  }

  const resolvePath = (p) => path.posix.resolve(HOME, p)

  const toolboxHandlers = {
    async ExecuteCommand(ctx, sb, body) {
      const r = body.json
      const env = { ...sb.env, ...(r.envs || {}) }
      const words = shellWords(r.command, env)
      const cwd = r.cwd || HOME
      let exitCode = 0
      let result = ''
      const [cmd, ...args] = words
      if (cmd === undefined) result = ''
      else if (cmd === 'echo') {
        const noNl = args[0] === '-n'
        result = (noNl ? args.slice(1) : args).join(' ') + (noNl ? '' : '\n')
      } else if (cmd === 'exit') exitCode = Number(args[0] || 0)
      else if (cmd === 'true') exitCode = 0
      else if (cmd === 'false') exitCode = 1
      else if (cmd === 'pwd') result = `${cwd}\n`
      else if (cmd === 'printenv') {
        if (args[0] in env) result = `${env[args[0]]}\n`
        else exitCode = 1
      } else if (cmd === 'cat') {
        for (const a of args) {
          const f = sb.files.get(path.posix.resolve(cwd, a))
          if (f) result += f.toString('utf8')
          else {
            result += `cat: ${a}: No such file or directory\n`
            exitCode = 1
          }
        }
      } else if (cmd === 'sleep') {
        const secs = Number(args[0] || 0)
        const limit = r.timeout > 0 ? r.timeout : Infinity
        await sleep(Math.min(secs, limit) * 1000)
        if (secs > limit) {
          return send(ctx, 408, toolboxError(ctx, 408, `command timed out after ${r.timeout}s`, 'PROCESS_EXECUTION_TIMEOUT'))
        }
      } else {
        exitCode = 127
        result = `sh: 1: ${cmd}: not found\n`
      }
      sb.execs = [...(sb.execs || []), { ...r }]
      return send(ctx, 200, { exitCode, result })
    },

    UploadFiles(ctx, sb, body) {
      const parts = body.multipart.parts
      const byIndex = new Map()
      for (const p of parts) {
        const m = /^files\[(\d+)\]\.(path|file)$/.exec(p.name)
        const e = byIndex.get(m[1]) || {}
        e[m[2]] = p
        byIndex.set(m[1], e)
      }
      for (const e of byIndex.values()) sb.files.set(resolvePath(e.path.data.toString('utf8')), Buffer.from(e.file.data))
      return send(ctx, 200)
    },

    DownloadFiles(ctx, sb, body) {
      const parts = []
      for (const p of body.json.paths) {
        const f = sb.files.get(resolvePath(p))
        if (f) parts.push({ name: 'file', filename: p, contentType: 'application/octet-stream', data: f })
        else {
          const err = toolboxError(ctx, 404, `file not found: ${p}`, 'FILE_NOT_FOUND')
          parts.push({ name: 'error', filename: p, contentType: 'application/json', data: JSON.stringify(err) })
        }
      }
      const mp = buildMultipart(parts)
      if (ctx.resetAfter) return destroy(ctx)
      ctx.rec.status = 200
      ctx.res.writeHead(200, { 'content-type': mp.contentType, 'content-length': mp.body.length })
      ctx.res.end(mp.body)
    },
  }

  const proc = createProcess(S, toolboxError)
  Object.assign(toolboxHandlers, proc.handlers)
  Object.assign(toolboxHandlers, require('./info.js').infoHandlers(send, HOME))
  // With a real agent (./agent.js), the process and file routes go to it instead of the model.
  const forwarder = S.agent ? createForwarder(S, S.agent) : null
  const FILE_OPERATIONS = [
    'ListFiles', 'DeleteFile', 'DownloadFiles', 'UploadFiles', 'DownloadFile', 'FindInFiles', 'CreateFolder',
    'GetFileInfo', 'MoveFile', 'SetFilePermissions', 'ReplaceInFiles', 'SearchFiles', 'UploadFile',
  ]
  const forwarded = new Set([...Object.keys(proc.handlers), 'ExecuteCommand', 'GetWorkDir', 'GetUserHomeDir', 'UpdateEnv', ...FILE_OPERATIONS])

  // WebSockets: the daemon answers with one of the offered subprotocols (the PTY exit-control
  // token when offered), as the official SDK expects.
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(EXIT_CONTROL) ? EXIT_CONTROL : protocols.size ? [...protocols][0] : false),
  })

  /** Refuses a WebSocket handshake with an HTTP answer. */
  function refuse(ctx, status, body) {
    ctx.rec.status = status
    ctx.rec.responseBody = body
    const payload = Buffer.from(JSON.stringify(body))
    ctx.socket.end(
      `HTTP/1.1 ${status} ${REASONS[status] || 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${payload.length}\r\nconnection: close\r\n\r\n${payload}`,
    )
  }

  /**
   * A WebSocket upgrade below {toolboxUrl}: recorded like any request (rec.upgrade, rec.protocols),
   * authorized, matched and validated against the spec, then handed to the process model.
   * `GET /process/pty/create-connect` (0.218's createPty) is not in the spec: its query is
   * checked here (id, cols, rows integers, optional cwd).
   */
  async function routeUpgrade(ctx) {
    const { rec, req } = ctx
    rec.kind = 'toolbox'
    rec.upgrade = true
    rec.protocols = req.headers['sec-websocket-protocol']
    const m0 = /^\/toolbox\/([^/]+)(\/.*)$/.exec(ctx.url.pathname)
    if (!m0) {
      violation(ctx, [`no toolbox route for ${ctx.url.pathname}`])
      return refuse(ctx, 404, errorBody(404, `Cannot GET ${ctx.url.pathname}`))
    }
    const sandboxId = decodeURIComponent(m0[1])
    rec.sandboxId = sandboxId
    if (req.headers.authorization !== `Bearer ${state.apiKey}`) {
      state.authFailures.push({ seq: rec.seq, path: rec.path, header: req.headers.authorization === undefined ? 'missing' : 'wrong' })
      return refuse(ctx, 401, errorBody(401, 'Unauthorized'))
    }
    let op
    let params = {}
    if (m0[2] === '/process/pty/create-connect') {
      op = 'CreateConnectPty'
      const errors = []
      for (const k of ctx.query.keys()) if (!['id', 'cols', 'rows', 'cwd'].includes(k)) errors.push(`query: unknown parameter "${k}"`)
      if (!ctx.query.get('id')) errors.push('query: id is required')
      for (const k of ['cols', 'rows']) if (!/^\d+$/.test((ctx.query.get(k) || [])[0] || '')) errors.push(`query ${k}: not an integer`)
      if (errors.length) {
        violation(ctx, errors)
        return refuse(ctx, 400, errorBody(400, errors.join('; ')))
      }
    } else {
      const m = validators.toolbox.match('GET', m0[2])
      if (!m || !m.op || !proc.upgrades[m.operationId]) {
        violation(ctx, [`no toolbox WebSocket operation for GET ${m0[2]}`])
        return refuse(ctx, 404, errorBody(404, `Cannot GET ${m0[2]}`))
      }
      op = m.operationId
      params = m.pathParams
      const errors = validators.toolbox.validateRequest(m, ctx.query, { contentType: '', raw: Buffer.alloc(0) })
      if (errors.length) {
        violation(ctx, errors)
        return refuse(ctx, 400, errorBody(400, `Request does not conform to the spec: ${errors.join('; ')}`))
      }
    }
    rec.op = op
    const sb = state.sandboxes.get(sandboxId)
    if (!sb || sb.gone || sb.deleted) return refuse(ctx, 404, toolboxError(ctx, 404, `sandbox ${sandboxId} not found`, 'NOT_FOUND'))
    if (sb.state !== 'started') return refuse(ctx, 409, toolboxError(ctx, 409, `sandbox ${sandboxId} is ${sb.state}, not started`, 'CONFLICT'))
    if (forwarder) {
      const f = S.faults.take(rec, ['status', 'cutSocket'])
      if (f && f.kind === 'status') return refuse(ctx, f.status, f.body === undefined ? errorBody(f.status, REASONS[f.status] || 'Error') : f.body)
      return forwarder.forwardUpgrade(ctx, m0[2] + ctx.url.search, { cutAfter: f ? f.afterBytes : undefined, refuse, sandbox: sb })
    }
    const refused = proc.prechecks[op] && proc.prechecks[op](sb, params)
    if (refused) return refuse(ctx, refused.status, toolboxError(ctx, refused.status, refused.message, refused.code))
    const f = S.faults.take(rec, ['status', 'cutSocket'])
    if (f && f.kind === 'status') return refuse(ctx, f.status, f.body === undefined ? errorBody(f.status, REASONS[f.status] || 'Error') : f.body)
    wss.handleUpgrade(req, ctx.socket, ctx.head, (ws) => {
      rec.status = 101
      rec.wsIn = []
      ws.on('message', (data, isBinary) => {
        if (rec.wsIn.length < 20) rec.wsIn.push(isBinary ? `bin:${Buffer.from(data).toString('utf8')}` : Buffer.from(data).toString('utf8'))
      })
      S.sockets.add(ws)
      ;(sb.sockets ||= new Set()).add(ws)
      ws.on('close', () => (S.sockets.delete(ws), sb.sockets.delete(ws)))
      if (f && f.kind === 'cutSocket') cutAfter(ws, f.afterBytes)
      const query = new Map([...ctx.query].map(([k, v]) => [k, v[0]]))
      const protocols = (rec.protocols || '').split(',').map((p) => p.trim()).filter(Boolean)
      proc.upgrades[op](ws, sb, params, query, protocols)
    })
  }

  /** Wraps ws.send so that the connection drops (no close frame) once `limit` data bytes went out. */
  function cutAfter(ws, limit) {
    let sent = 0
    const send = ws.send.bind(ws)
    ws.send = (data, opts, cb) => {
      const buf = Buffer.from(data)
      if (sent + buf.length >= limit) {
        const part = buf.subarray(0, limit - sent)
        sent = limit
        if (part.length) send(part, opts)
        ws.send = () => {}
        ws.close = () => {}
        setImmediate(() => ws._socket && ws._socket.destroy())
        return
      }
      sent += buf.length
      send(data, opts, cb)
    }
  }

  return { routeToolbox, routeUpgrade }
}

module.exports = { shellWords, createToolbox }
