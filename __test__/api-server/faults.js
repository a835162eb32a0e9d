'use strict'
// Faults of the fake API (see the header of ./server.js): the per-test fault list (`Faults`,
// `srv.faults`) and how a matched fault is applied to a request (`createFaultActions`).

const { REASONS, sleep } = require('./util.js')

class Faults {
  constructor() {
    this.list = []
  }
  add(spec) {
    const f = { count: 1, fired: 0, ...spec }
    this.list.push(f)
    return f
  }
  status(op, status, body, extra = {}) {
    return this.add({ kind: 'status', op, status, body, ...extra })
  }
  reset(op, extra = {}) {
    return this.add({ kind: 'reset', op, phase: 'before', ...extra })
  }
  garbage(op, extra = {}) {
    return this.add({ kind: 'garbage', op, ...extra })
  }
  delay(op, ms, extra = {}) {
    return this.add({ kind: 'delay', op, ms, ...extra })
  }
  stall(op, extra = {}) {
    return this.add({ kind: 'stall', op, phase: 'before', ...extra })
  }
  flood(op, extra = {}) {
    return this.add({ kind: 'flood', op, bytes: 64 << 20, head: '', fill: 'a', tail: '', contentType: 'application/json', status: 200, chunked: true, ...extra })
  }
  raw(op, extra = {}) {
    return this.add({ kind: 'raw', op, text: 'SSH-2.0-OpenSSH_9.6 not http at all\r\n\r\n', ...extra })
  }
  cutLogs(extra = {}) {
    return this.add({ kind: 'cut', op: /BuildLogs$/, atLine: 2, ...extra })
  }
  ignoreRange(extra = {}) {
    return this.add({ kind: 'ignoreRange', op: /BuildLogs$/, ...extra })
  }
  /** On a toolbox WebSocket: after `afterBytes` bytes of data, drop the connection without a close frame. */
  cutSocket(op, extra = {}) {
    return this.add({ kind: 'cutSocket', op, afterBytes: 0, ...extra })
  }
  clear() {
    this.list.length = 0
  }
  /** The first live fault matching the request, consumed; or null. */
  take(rec, kinds) {
    for (const f of this.list) {
      if (f.fired >= f.count) continue
      if (kinds && !kinds.includes(f.kind)) continue
      if (kinds === undefined && (f.kind === 'cut' || f.kind === 'ignoreRange' || f.kind === 'cutSocket')) continue
      if (!matches(f.op, rec.op)) continue
      if (f.method && f.method.toUpperCase() !== rec.method) continue
      if (f.path !== undefined && !matches(f.path, rec.path)) continue
      if (f.listener && f.listener !== rec.listener) continue
      if (f.when && !f.when(rec)) continue
      f.fired++
      rec.faults.push(f.kind)
      return f
    }
    return null
  }
}

function matches(pattern, value) {
  if (pattern === undefined || pattern === null) return true
  if (pattern instanceof RegExp) return pattern.test(value || '')
  if (Array.isArray(pattern)) return pattern.includes(value)
  return pattern === value
}

/** The fault actions of one server; `S` is the server's shared context (see server.js). */
function createFaultActions(S) {
  const { state, send, destroy, errorBody } = S

  async function applyFault(ctx, f) {
    if (f.delayMs) await sleep(f.delayMs)
    switch (f.kind) {
      case 'status': {
        const body = f.body === undefined ? errorBody(f.status, REASONS[f.status] || 'Error') : f.body
        send(ctx, f.status, body, f.headers)
        return false
      }
      case 'reset':
        if (f.phase === 'after') {
          ctx.resetAfter = true
          return true
        }
        destroy(ctx)
        return false
      case 'garbage': {
        const text = f.body ?? '{"id": "5a000000-0000-4000-8000-0000000000ff", "state": "start'
        ctx.rec.status = f.status || 200
        ctx.res.writeHead(f.status || 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
        ctx.res.end(text)
        return false
      }
      case 'delay':
        await sleep(f.ms || 0)
        return true
      case 'stall': {
        ctx.rec.status = 'stalled'
        if (f.phase === 'headers' || f.phase === 'body') {
          ctx.res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': 4096 })
          ctx.res.flushHeaders()
          if (f.phase === 'body') ctx.res.write('{"id": "5a000000-0000-4000-8000-0000000000ff", "state": ')
        }
        // Never answered; close() destroys the connection.
        return false
      }
      case 'flood':
        await flood(ctx, f)
        return false
      case 'raw':
        ctx.rec.status = 'raw'
        ctx.req.socket.end(f.text)
        return false
      default:
        return true
    }
  }

  /** Writes a body of f.bytes bytes (see faults.flood) with backpressure. */
  async function flood(ctx, f) {
    const { res, rec } = ctx
    rec.status = f.status
    const head = Buffer.from(f.head)
    const tail = Buffer.from(f.tail)
    const total = f.bytes
    const headers = { 'content-type': f.contentType }
    if (!f.chunked && Number.isFinite(total)) headers['content-length'] = total
    res.writeHead(f.status, headers)
    const block = Buffer.alloc(1 << 20, f.fill)
    let closed = false
    res.on('close', () => (closed = true))
    let sent = 0
    const write = (buf) =>
      new Promise((resolve) => {
        if (closed || state.closed) return resolve(false)
        sent += buf.length
        if (res.write(buf)) return resolve(true)
        const done = () => {
          res.removeListener('drain', done)
          res.removeListener('close', done)
          resolve(!closed)
        }
        res.once('drain', done)
        res.once('close', done)
      })
    if (!(await write(head))) return
    const fillBytes = total - head.length - tail.length
    let left = fillBytes
    while (left > 0) {
      const n = Math.min(left, block.length)
      if (!(await write(n === block.length ? block : block.subarray(0, n)))) {
        rec.bytesSent = sent
        return
      }
      left -= n
    }
    if (await write(tail)) res.end()
    rec.bytesSent = sent
  }

  return { applyFault, flood }
}

module.exports = { Faults, matches, createFaultActions }
