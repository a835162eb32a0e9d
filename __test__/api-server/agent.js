'use strict'
// Forwarding the fake toolbox's process routes to a real in-sandbox agent
// (crates/agent, `daytona-native-agent`), which serves the same toolbox API over HTTP/1.1 with
// WebSocket upgrades. Enabled by the server option
//   toolboxAgent: { bin: '/path/to/daytona-native-agent', entrypoint?: [argv] }
//                                                           the server runs `bin serve -- entrypoint`
//                                                           on this machine (an abstract socket of
//                                                           its own) and connects through `bin relay`
//   toolboxAgent: { connect: () => Duplex }                 or reaches an agent some other way
//                                                           (e.g. `docker exec -i <c> ... relay`)
// Forwarded: process/execute and every route of ./process.js (files stay in the model). One
// fresh connection per request (as over `relay`). Requests are still recorded, authorized and
// validated by ./toolbox.js first; the agent's JSON answers are checked against the spec's response
// schemas (state.responseViolations). One agent serves every sandbox of the server.

const http = require('node:http')
const { Duplex } = require('node:stream')
const crypto = require('node:crypto')
const { spawn } = require('node:child_process')

/**
 * A connection to the agent through `bin relay`: a Duplex that http accepts. A failed write to
 * the relay (it exits once the agent has answered and closed) is not an error of the exchange:
 * the answer, or its absence, says how the request went.
 */
function relay(bin, name) {
  return relayThrough(bin, ['relay'], { ...process.env, DAYTONA_AGENT_SOCKET: name })
}

/** A Duplex over any command that relays to an agent, e.g. `docker exec -i <container> <agent> relay`. */
function relayThrough(command, args, env = process.env) {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'ignore'] })
  child.stdin.on('error', () => {})
  const d = new Duplex({
    read() {
      child.stdout.resume()
    },
    write(chunk, _enc, cb) {
      child.stdin.write(chunk, () => cb())
    },
    final(cb) {
      child.stdin.end()
      cb()
    },
    destroy(err, cb) {
      child.kill('SIGTERM')
      cb(err)
    },
  })
  child.stdout.on('data', (c) => {
    if (!d.push(c)) child.stdout.pause()
  })
  child.stdout.on('end', () => d.push(null))
  d.on('error', () => {})
  for (const m of ['setNoDelay', 'setKeepAlive', 'setTimeout', 'ref', 'unref']) d[m] = () => d
  return d
}

/** Starts (or wraps) the agent: {connect(), close()}. */
async function startAgent(options) {
  if (options.connect) return { connect: options.connect, close: async () => {} }
  const name = `daytona-native-agent-test-${crypto.randomBytes(6).toString('hex')}`
  const entrypoint = options.entrypoint || ['sh', '-c', 'echo entrypoint started; exec sleep 1000000']
  // An empty home: the agent's interactive shells (PTY) would otherwise run this machine's
  // ~/.bashrc, whose hooks can hold a shell's exit for a long time.
  const home = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'dn-agent-home-'))
  const child = spawn(options.bin, ['serve', '--', ...entrypoint], { env: { ...process.env, DAYTONA_AGENT_SOCKET: name, HOME: home }, stdio: 'ignore' })
  const exited = new Promise((r) => child.once('exit', r))
  // Node's net cannot reach abstract sockets (libuv stops the name at its NUL), so each
  // connection goes through `relay`, as the client's would through `docker exec`.
  const connect = () => relay(options.bin, name)
  return {
    connect,
    close: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** The agent's head as the client should see it (hop-by-hop headers dropped). */
function responseHeaders(res) {
  const out = {}
  for (const [k, v] of Object.entries(res.headers)) if (!['connection', 'keep-alive', 'transfer-encoding'].includes(k)) out[k] = v
  return out
}

/** An http.Agent that makes one fresh agent connection per request and never reuses it (Node's
 *  global agent keeps sockets alive, which a relay connection cannot be). */
function oneShot(agent) {
  const a = new http.Agent({ keepAlive: false, maxSockets: 1 })
  a.createConnection = () => agent.connect()
  return a
}

function createForwarder(S, agent) {
  /** Forwards a plain request (path below the toolbox root, with its query). */
  function forwardHttp(ctx, path) {
    return new Promise((resolve) => {
      const headers = { ...ctx.req.headers, host: 'agent', connection: 'close' }
      delete headers['transfer-encoding']
      headers['content-length'] = String(ctx.raw.length)
      const req = http.request({ agent: oneShot(agent), method: ctx.req.method, path, headers })
      req.on('response', (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => {
          const body = Buffer.concat(chunks)
          ctx.rec.status = res.statusCode
          const type = res.headers['content-type'] || ''
          let parsed
          if (/json/i.test(type) && body.length) {
            try {
              parsed = JSON.parse(body.toString('utf8'))
            } catch {}
          }
          // A large download is recorded by its size only (a string cannot hold a GiB).
          ctx.rec.responseBody = parsed !== undefined ? parsed : body.length > 16 << 20 ? `<${body.length} bytes>` : body.toString('utf8')
          if (parsed !== undefined && res.statusCode >= 200 && res.statusCode < 300 && ctx.match && ctx.validator) {
            const errs = ctx.validator.validateResponse(ctx.match, res.statusCode, parsed)
            if (errs.length) S.state.responseViolations.push({ seq: ctx.rec.seq, op: ctx.rec.op, errors: errs })
          }
          if (ctx.resetAfter) return resolve(S.destroy(ctx))
          const h = responseHeaders(res)
          h['content-length'] = body.length
          ctx.res.writeHead(res.statusCode, h)
          ctx.res.end(body)
          resolve()
        })
      })
      req.on('error', (e) => {
        S.send(ctx, 502, S.errorBody(502, `the agent did not answer: ${e.message}`))
        resolve()
      })
      req.end(ctx.raw)
    })
  }

  /**
   * Forwards a WebSocket handshake and then the raw stream both ways. `cutAfter` (bytes of the
   * agent's stream after its 101 head) drops the client's connection there, frame or not.
   */
  function forwardUpgrade(ctx, path, { cutAfter, refuse, sandbox }) {
    const headers = { ...ctx.req.headers, host: 'agent' }
    const req = http.request({ agent: oneShot(agent), method: 'GET', path, headers })
    req.on('upgrade', (res, upstream, head) => {
      ctx.rec.status = 101
      const lines = ['HTTP/1.1 101 Switching Protocols']
      for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`)
      const client = ctx.socket
      client.write(`${lines.join('\r\n')}\r\n\r\n`)
      const handle = { terminate: () => (client.destroy(), upstream.destroy()) }
      S.sockets.add(handle)
      ;(sandbox.sockets ||= new Set()).add(handle)
      let sent = 0
      const down = (chunk) => {
        if (cutAfter === undefined) return client.write(chunk)
        const room = cutAfter - sent
        if (chunk.length < room) {
          sent += chunk.length
          return client.write(chunk)
        }
        client.write(chunk.subarray(0, room))
        cutAfter = undefined
        upstream.destroy()
        client.destroy()
      }
      const end = () => (client.destroy(), upstream.destroy())
      upstream.on('end', end)
      upstream.on('close', end)
      client.on('close', end)
      upstream.on('error', end)
      client.on('error', end)
      if (head.length) down(head)
      upstream.on('data', down)
      if (ctx.head && ctx.head.length) upstream.write(ctx.head)
      client.on('data', (c) => upstream.write(c))
    })
    req.on('response', (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body
        try {
          body = JSON.parse(text)
        } catch {
          body = { message: text }
        }
        refuse(ctx, res.statusCode, body)
      })
    })
    req.on('error', (e) => refuse(ctx, 502, S.errorBody(502, `the agent did not answer: ${e.message}`)))
    req.end()
  }

  return { forwardHttp, forwardUpgrade }
}

module.exports = { startAgent, createForwarder, relayThrough }
