'use strict'
// The S3 side of the API tests: moto (started by scripts/test-services.sh s3, which checks SigV4
// signatures and STS session tokens), its credentials, a client for assertions, and an optional
// recording pass-through proxy that lets a test see every S3 request a client makes.

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const REPO_ROOT = path.resolve(__dirname, '..', '..')
const SERVICES_DIR = process.env.DAYTONA_SERVICES_DIR || path.join(REPO_ROOT, '.services')

/** Starts moto unless it already answers (idempotent; the first run installs it from PyPI). */
function ensureMoto() {
  try {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'test-services.sh'), 's3'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 900_000,
    })
  } catch (e) {
    throw new Error(`scripts/test-services.sh s3 failed (exit ${e.status}):\n${e.stderr || e.message}`)
  }
  return readS3Config()
}

/** {endpoint, region, bucket, accessKey, secret, sessionToken, ...} of the running moto. */
function readS3Config() {
  return JSON.parse(fs.readFileSync(path.join(SERVICES_DIR, 's3.json'), 'utf8'))
}

/** An S3 client with the STS session credentials (what the push-access endpoint hands out). */
function s3Client(cfg = readS3Config()) {
  const { S3Client } = require('@aws-sdk/client-s3')
  return new S3Client({
    region: cfg.region,
    endpoint: cfg.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: cfg.accessKey, secretAccessKey: cfg.secret, sessionToken: cfg.sessionToken },
  })
}

/** Keys under `prefix` in the bucket. */
async function listKeys(prefix, cfg = readS3Config()) {
  const { ListObjectsV2Command } = require('@aws-sdk/client-s3')
  const client = s3Client(cfg)
  const keys = []
  let token
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: cfg.bucket, Prefix: prefix, ContinuationToken: token }))
    for (const o of r.Contents || []) keys.push(o.Key)
    token = r.IsTruncated ? r.NextContinuationToken : undefined
  } while (token)
  client.destroy()
  return keys.sort()
}

async function getObject(key, cfg = readS3Config()) {
  const { GetObjectCommand } = require('@aws-sdk/client-s3')
  const client = s3Client(cfg)
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: cfg.bucket, Key: key }))
    return Buffer.from(await r.Body.transformToByteArray())
  } finally {
    client.destroy()
  }
}

/** Names of the entries of an (uncompressed, ustar/pax) tar archive, in order. */
function tarEntries(buf) {
  const names = []
  let pos = 0
  let paxPath = null
  let longName = null
  while (pos + 512 <= buf.length) {
    const h = buf.slice(pos, pos + 512)
    if (h.every((b) => b === 0)) break
    const field = (o, n) => h.slice(o, o + n).toString('utf8').replace(/\0.*$/s, '')
    const size = parseInt(field(124, 12).trim() || '0', 8)
    const type = field(156, 1) || '0'
    const prefix = field(345, 155)
    let name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100)
    const data = buf.slice(pos + 512, pos + 512 + size)
    pos += 512 + Math.ceil(size / 512) * 512
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))
      paxPath = m ? m[1] : null
      continue
    }
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0.*$/s, '')
      continue
    }
    if (type === 'g') continue
    if (paxPath) name = paxPath
    if (longName) name = longName
    paxPath = longName = null
    names.push({ name, type, size, data })
  }
  return names
}

/**
 * A pass-through proxy in front of moto that records every request. SigV4 signs the Host
 * header, which is forwarded unchanged (moto checks the signature against what it receives),
 * so signed requests stay valid.
 * @returns {Promise<{url: string, requests: object[], close(): Promise<void>}>}
 */
async function startS3Proxy(targetEndpoint, requests = []) {
  const target = new URL(targetEndpoint)
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    const rec = {
      method: req.method,
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      time: Date.now(),
      status: null,
      bytes: 0,
    }
    requests.push(rec)
    const headers = {}
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i]
      if (/^connection$/i.test(k)) continue
      headers[k] = req.rawHeaders[i + 1]
    }
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, setHost: false },
      (upRes) => {
        rec.status = upRes.statusCode
        res.writeHead(upRes.statusCode, upRes.headers)
        upRes.pipe(res)
      },
    )
    up.on('error', (e) => {
      rec.status = 502
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(`proxy error: ${e.message}`)
    })
    req.on('data', (c) => (rec.bytes += c.length))
    req.pipe(up)
  })
  server.keepAliveTimeout = 1000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

module.exports = { ensureMoto, readS3Config, s3Client, listKeys, getObject, tarEntries, startS3Proxy, SERVICES_DIR }
