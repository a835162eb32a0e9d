'use strict'
// The toolbox of the fake API (see the header of ./server.js): {toolboxUrl}/{sandboxId}/<path>
// with process/execute (a few commands interpreted here: echo, exit, true, false, pwd, printenv,
// cat, sleep; anything else answers exit code 127 "not found") and files/bulk-upload and
// files/bulk-download on the sandbox's in-memory files.

const path = require('node:path')

const { buildMultipart } = require('./multipart.js')
const { HOME, sleep, nowIso } = require('./util.js')

/** Minimal shell word splitting for the fake `process/execute` (quotes, backslash, $VAR). */
function shellWords(text, env) {
  const words = []
  let cur = null
  let i = 0
  const expand = (s) => s.replace(/\$(\w+)|\$\{(\w+)\}/g, (_, a, b) => env[a || b] ?? '')
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) {
      if (cur !== null) words.push(cur)
      cur = null
      i++
    } else if (c === "'") {
      const j = text.indexOf("'", i + 1)
      cur = (cur || '') + text.slice(i + 1, j < 0 ? text.length : j)
      i = j < 0 ? text.length : j + 1
    } else if (c === '"') {
      let j = i + 1
      let s = ''
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) j++
        s += text[j++]
      }
      cur = (cur || '') + expand(s)
      i = j + 1
    } else if (c === '\\' && i + 1 < text.length) {
      cur = (cur || '') + text[i + 1]
      i += 2
    } else {
      let j = i
      while (j < text.length && !/[\s'"\\]/.test(text[j])) j++
      cur = (cur || '') + expand(text.slice(i, j))
      i = j
    }
  }
  if (cur !== null) words.push(cur)
  return words
}

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

  return { routeToolbox }
}

module.exports = { shellWords, createToolbox }
