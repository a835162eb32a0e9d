'use strict'
// The glue's one table from core error kinds to JavaScript classes (src/errors.rs `class_name`):
//  1. it covers every `ErrorKind` of crates/client/src/error.rs exactly once, and every class it
//     names is one of errors.js, with the official SDK's name and prototype chain (all but this
//     package's own DaytonaBuildError);
//  2. the errors that reach JS as they are thrown: every HTTP status class and every daemon code
//     of reference §4, the same fault served to the official SDK and to ours (the fake API), give
//     the same class, message and fields; the kinds made without a response (invalid argument,
//     refused connection, a deadline) are instances of their official class.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const util = require('node:util')

const official = require('@daytonaio/sdk')
const native = require('../index.js')
const H = require('./api-server/helpers.js')

const ROOT = path.join(__dirname, '..')
const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }))

/** The variants of `pub enum ErrorKind`. */
function errorKinds() {
  const src = fs.readFileSync(path.join(ROOT, 'crates/client/src/error.rs'), 'utf8')
  const body = src.match(/pub enum ErrorKind \{([\s\S]*?)\n\}/)[1]
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('//'))
    .map((l) => l.replace(/,$/, ''))
}

/** The `Kind => "Class"` rows of the glue's `class_name`. */
function glueTable() {
  const src = fs.readFileSync(path.join(ROOT, 'src/errors.rs'), 'utf8')
  const body = src.match(/pub fn class_name\(kind: ErrorKind\) -> &'static str \{([\s\S]*?)\n\}/)[1]
  return [...body.matchAll(/^\s*(\w+) => "(\w+)",$/gm)].map((m) => [m[1], m[2]])
}

/** Class names from C up to (excluding) Error. */
function chain(C) {
  const names = []
  for (let p = C; p && p !== Error && p !== Function.prototype; p = Object.getPrototypeOf(p)) names.push(p.name)
  return names
}

test('the glue table maps every ErrorKind to an errors.js class with the official name and hierarchy', () => {
  const kinds = errorKinds()
  const table = glueTable()
  assert.ok(kinds.length >= 40, `parsed the enum: ${kinds}`)
  assert.deepEqual(table.map(([k]) => k).sort(), [...kinds].sort(), 'one row per kind')
  // `Aborted` shares the base class: an aborted call rejects with `signal.reason` (index.js).
  assert.deepEqual(table.find(([k]) => k === 'Aborted'), ['Aborted', 'DaytonaError'])
  const classes = table.filter(([k]) => k !== 'Aborted').map(([, c]) => c)
  assert.equal(new Set(classes).size, classes.length, 'no class named twice')
  for (const [kind, name] of table) {
    const ours = native[name]
    assert.equal(typeof ours, 'function', `${kind}: ${name} is exported`)
    assert.ok(new ours('m') instanceof native.DaytonaError, `${name} is a DaytonaError`)
    if (name === 'DaytonaBuildError') {
      assert.equal(official[name], undefined, 'DaytonaBuildError is ours')
      assert.deepEqual(chain(ours), ['DaytonaBuildError', 'DaytonaError'])
      continue
    }
    assert.equal(typeof official[name], 'function', `${kind}: ${name} is an official class`)
    assert.deepEqual(chain(ours), chain(official[name]), `${name}: same hierarchy as the official class`)
  }
  // Every official error class is reachable from some kind.
  const officialClasses = Object.keys(official).filter((k) => /^Daytona\w*Error$/.test(k))
  assert.deepEqual(officialClasses.filter((c) => !classes.includes(c)), [], 'official classes no kind maps to')
})

const DAEMON_CODES = [
  'GIT_AUTH_FAILED', 'GIT_REPO_NOT_FOUND', 'GIT_BRANCH_NOT_FOUND', 'GIT_BRANCH_EXISTS', 'GIT_PUSH_REJECTED',
  'GIT_DIRTY_WORKTREE', 'GIT_MERGE_CONFLICT', 'GIT_TRANSPORT_FAILED', 'GIT_REMOTE_REJECTED', 'FILE_NOT_FOUND',
  'FILE_ACCESS_DENIED', 'INVALID_FILE_PATH', 'FILE_READ_FAILED', 'LSP_SERVER_NOT_INITIALIZED',
  'PROCESS_EXECUTION_TIMEOUT', 'PROCESS_NOT_FOUND', 'SESSION_ENDED', 'COMMAND_ALREADY_COMPLETED',
  'A11Y_UNAVAILABLE', 'RECORDING_STILL_ACTIVE', 'RECORDING_FFMPEG_NOT_FOUND',
]

test('every HTTP status class and daemon code: the same class, message and fields as the official SDK', async () => {
  const cases = [400, 401, 403, 404, 408, 409, 410, 422, 429, 500, 502, 503, 504, 418, 501].map((status) => ({
    status,
    body: { message: `status ${status}` },
  }))
  for (const code of DAEMON_CODES) cases.push({ status: 500, body: { message: code.toLowerCase(), code, source: 'DAYTONA_DAEMON' } })
  cases.push({ status: 404, body: { message: 'api code', code: 'FILE_NOT_FOUND', source: 'DAYTONA_API' } })

  async function run(client, srv) {
    const sb = await client.create()
    const out = []
    for (const c of cases) {
      srv.faults.status('getSandbox', c.status, c.body, { count: 10 })
      out.push((await settle(client.get(sb.id))).error)
      srv.faults.clear()
    }
    return out
  }
  const theirs = await H.withServer({ s3: 'none' }, (srv) => run(H.officialClient(official, srv), srv), 60_000)
  const ours = await H.withServer({ s3: 'none' }, (srv) => run(H.nativeClient(native, srv), srv), 60_000)
  const seen = new Set()
  cases.forEach((c, i) => {
    const what = `${c.status} ${JSON.stringify(c.body)}`
    const [o, n] = [theirs[i], ours[i]]
    assert.ok(o instanceof official.DaytonaError, `official ${what}: ${util.inspect(o)}`)
    assert.ok(n instanceof native.DaytonaError, `ours ${what}: ${util.inspect(n)}`)
    const name = o.constructor.name
    assert.equal(n.name, name, what)
    assert.equal(n.constructor, native[name], what)
    assert.deepEqual(
      { message: n.message, statusCode: n.statusCode, code: n.code, source: n.source },
      { message: o.message, statusCode: o.statusCode, code: o.code, source: o.source },
      what,
    )
    seen.add(name)
  })
  assert.ok(seen.size >= 30, `distinct classes exercised: ${[...seen]}`)
})

test('errors made without a response are instances of their official class', async () => {
  await H.withServer({ s3: 'none' }, async (srv) => {
    const d = H.nativeClient(native, srv)
    const invalid = (await settle(d.create({}, { timeout: -1 }))).error
    assert.equal(invalid.constructor, native.DaytonaInvalidArgumentError, util.inspect(invalid))
    assert.equal(invalid.message, 'Timeout must be a non-negative number')

    srv.faults.delay('createSandbox', 3000)
    const late = (await settle(d.create({}, { timeout: 0.5 }))).error
    assert.ok(late instanceof native.DaytonaTimeoutError, util.inspect(late))
    assert.ok(['DaytonaTimeoutError', 'DaytonaConnectionTimeoutError'].includes(late.name), late.name)
  }, 60_000)

  // A port nothing listens on (a server started and closed).
  const url = await H.withServer({ s3: 'none' }, async (srv) => srv.apiUrl)
  const refused = (await settle(new native.Daytona({ apiKey: 'k', apiUrl: url, target: 'us' }).get('x'))).error
  assert.equal(refused.constructor, native.DaytonaConnectionError, util.inspect(refused))
})
