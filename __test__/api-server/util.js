'use strict'
// Small pieces shared by the fake API's modules (./server.js and its sections).

const http = require('node:http')
const crypto = require('node:crypto')

const REASONS = http.STATUS_CODES
const HOME = '/home/daytona'

const isPlain = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype

/** A deep copy of `base` with `over` merged in (plain objects recursively; nothing is shared). */
function merge(base, over) {
  const out = {}
  for (const [k, v] of Object.entries(base)) out[k] = isPlain(v) ? merge(v, {}) : Array.isArray(v) ? v.slice() : v
  for (const [k, v] of Object.entries(over || {})) {
    out[k] = isPlain(v) && isPlain(out[k]) ? merge(out[k], v) : Array.isArray(v) ? v.slice() : v
  }
  return out
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const nowIso = () => new Date().toISOString()
const idFor = (prefix, n) => `${prefix}000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

function sha256(s) {
  return crypto.createHash('sha256').update(s).digest('hex')
}

module.exports = { REASONS, HOME, isPlain, merge, sleep, nowIso, idFor, sha256 }
