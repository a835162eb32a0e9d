'use strict'
// Build logs of the fake API (see the header of ./server.js): the append-only log a build writes
// (`BuildLog`), its default lines, and the log routes: streaming with follow and Range resume
// (`serveLogs`, used by the build-logs API routes too) and the foreign-host route.

const { sleep } = require('./util.js')

const DEFAULT_LOG_LINES = [
  'Step 1/4 : FROM python:3.12.10-slim-bookworm',
  ' ---> 3f2a9c1b7d4e',
  'Step 2/4 : RUN python -m pip install requests',
  'Collecting requests (grüße ✓ ünïcödé)',
  'Step 3/4 : WORKDIR /home/daytona',
  'Successfully built 3f2a9c1b7d4e',
]

/** An append-only build log that streams can follow. */
class BuildLog {
  constructor() {
    this.buf = Buffer.alloc(0)
    this.lineStarts = []
    this.done = false
    this.waiters = new Set()
  }
  get total() {
    return this.buf.length
  }
  append(line) {
    this.lineStarts.push(this.buf.length)
    this.buf = Buffer.concat([this.buf, Buffer.from(`${line}\n`)])
    this.wake()
  }
  finish() {
    this.done = true
    this.wake()
  }
  wake() {
    const ws = [...this.waiters]
    this.waiters.clear()
    ws.forEach((w) => w())
  }
  wait() {
    return new Promise((resolve) => this.waiters.add(resolve))
  }
  /** Index of the line containing byte `pos`. */
  lineAt(pos) {
    let lo = 0
    let hi = this.lineStarts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.lineStarts[mid] <= pos) lo = mid
      else hi = mid - 1
    }
    return lo
  }
  lineEnd(i) {
    return i + 1 < this.lineStarts.length ? this.lineStarts[i + 1] : this.buf.length
  }
  get lines() {
    return this.buf.toString('utf8').split('\n').slice(0, -1)
  }
}

/** The build-log routes of one server; `S` is the server's shared context (see server.js). */
function createBuildLogs(S) {
  const { config, state, faults, streams, logsToken, parseBody, send, destroy, errorBody, applyFault, findSnapshot } = S

  async function routeForeign(ctx) {
    const { rec } = ctx
    rec.kind = 'logs'
    rec.op = 'foreignBuildLogs'
    parseBody(ctx)
    const m = /^\/logs\/(sandbox|snapshot)\/([^/]+)\/([^/]+)$/.exec(ctx.url.pathname)
    if (!m || ctx.req.method !== 'GET') {
      return send(ctx, 404, errorBody(404, `Cannot ${ctx.req.method} ${ctx.url.pathname}`))
    }
    if (m[3] !== logsToken) return send(ctx, 403, errorBody(403, 'invalid log token'))
    for (const k of ctx.query.keys()) {
      if (k !== 'follow') return send(ctx, 400, errorBody(400, `unknown query parameter ${k}`))
    }
    const f = faults.take(rec)
    if (f && !(await applyFault(ctx, f))) return
    const obj = m[1] === 'sandbox' ? state.sandboxes.get(m[2]) : findSnapshot(m[2], true)
    if (!obj) return send(ctx, 404, errorBody(404, `${m[1]} ${m[2]} not found`))
    return serveLogs(ctx, obj.log, `${m[1]} ${obj.id}`)
  }

  async function serveLogs(ctx, log, what) {
    const { req, res, rec } = ctx
    if (!log) return send(ctx, 404, errorBody(404, `No build logs for ${what}`))
    if (ctx.resetAfter) return destroy(ctx)
    const follow = (ctx.query.get('follow') || [])[0] === 'true'
    const cut = faults.take(rec, ['cut'])
    const ignoreRange = faults.take(rec, ['ignoreRange'])
    let pos = 0
    let status = 200
    const range = req.headers.range
    rec.range = range
    if (range !== undefined && !ignoreRange) {
      const m = /^bytes=(\d+)-$/.exec(range.trim())
      if (!m) return send(ctx, 416, errorBody(416, `unsupported Range ${range} (only bytes=N-)`))
      pos = Number(m[1])
      if (log.done && pos > log.total) {
        return send(ctx, 416, errorBody(416, `offset ${pos} is past the end (${log.total})`), { 'content-range': `bytes */${log.total}` })
      }
      status = 206
    }
    if (cut && cut.delayMs) await sleep(cut.delayMs)
    rec.status = status
    rec.startOffset = pos
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' })
    res.flushHeaders()
    let closed = false
    const onClose = () => (closed = true)
    res.on('close', onClose)
    const entry = { res, wake: () => {} }
    streams.add(entry)
    const write = (buf) => {
      if (!closed && buf.length) res.write(buf)
    }
    try {
      for (;;) {
        if (closed || state.closed) return
        if (pos < log.total) {
          const li = log.lineAt(pos)
          if (cut && li >= cut.atLine) {
            const end = log.lineEnd(li)
            const half = pos + Math.max(1, Math.floor((end - pos) / 2))
            write(log.buf.slice(pos, half))
            rec.cutAt = half
            await sleep(20)
            res.destroy()
            return
          }
          let end = log.lineEnd(li)
          if (config.logChunking === 'batch') {
            end = log.total
            if (cut && cut.atLine < log.lineStarts.length) end = Math.min(end, log.lineStarts[cut.atLine])
          }
          const piece = log.buf.slice(pos, end)
          if (config.logChunking === 'split' && piece.length > 1) {
            let h = piece.findIndex((b) => b >= 0x80)
            h = h >= 0 ? h + 1 : Math.floor(piece.length / 2)
            write(piece.slice(0, h))
            await sleep(config.timings.splitDelayMs)
            write(piece.slice(h))
          } else write(piece)
          pos = end
          rec.bytesSent = pos
          continue
        }
        if (!follow || log.done) {
          res.end()
          return
        }
        await Promise.race([log.wait(), new Promise((r) => (entry.wake = r))])
      }
    } finally {
      streams.delete(entry)
      res.removeListener('close', onClose)
    }
  }

  return { routeForeign, serveLogs }
}

module.exports = { DEFAULT_LOG_LINES, BuildLog, createBuildLogs }
