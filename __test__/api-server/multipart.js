'use strict'
// A small multipart/form-data reader and writer (RFC 7578), enough for the toolbox's bulk-upload
// requests and bulk-download responses. Bodies are buffered whole: test payloads are small.

const crypto = require('node:crypto')

/** The boundary parameter of a multipart Content-Type, or null. */
function boundaryOf(contentType) {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '')
  return m ? m[1] || m[2] : null
}

function parseHeaderBlock(text) {
  const headers = {}
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  return headers
}

function dispositionParam(disposition, name) {
  // name="..." (quoted, with \" escapes) or name=token; filename*= is not used by our clients.
  const re = new RegExp(`;\\s*${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, 'i')
  const m = re.exec(disposition || '')
  if (!m) return undefined
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]
}

/**
 * Parses a whole multipart body.
 * @returns {{ parts: {name?: string, filename?: string, contentType?: string, headers: object, data: Buffer}[], error?: string }}
 */
function parseMultipart(body, contentType) {
  const boundary = boundaryOf(contentType)
  if (!boundary) return { parts: [], error: 'no boundary in Content-Type' }
  const delim = Buffer.from(`--${boundary}`)
  const parts = []
  let pos = body.indexOf(delim)
  if (pos < 0) return { parts, error: 'opening boundary not found' }
  for (;;) {
    pos += delim.length
    if (body.slice(pos, pos + 2).toString() === '--') return { parts }
    if (body.slice(pos, pos + 2).toString() !== '\r\n') return { parts, error: 'malformed boundary line' }
    pos += 2
    const headerEnd = body.indexOf('\r\n\r\n', pos)
    if (headerEnd < 0) return { parts, error: 'unterminated part headers' }
    const headers = parseHeaderBlock(body.slice(pos, headerEnd).toString('utf8'))
    const dataStart = headerEnd + 4
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), dataStart)
    if (next < 0) return { parts, error: 'closing boundary not found' }
    const disposition = headers['content-disposition'] || ''
    parts.push({
      name: dispositionParam(disposition, 'name'),
      filename: dispositionParam(disposition, 'filename'),
      contentType: headers['content-type'],
      headers,
      data: body.slice(dataStart, next),
    })
    pos = next + 2
  }
}

const quote = (s) => String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"')

/**
 * Builds a multipart body.
 * @param {{name: string, filename?: string, contentType?: string, data: Buffer|string}[]} parts
 * @returns {{ contentType: string, body: Buffer }}
 */
function buildMultipart(parts, boundary = `dtn-${crypto.randomBytes(12).toString('hex')}`) {
  const chunks = []
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quote(p.name)}"`
    if (p.filename !== undefined) head += `; filename="${quote(p.filename)}"`
    head += '\r\n'
    if (p.contentType) head += `Content-Type: ${p.contentType}\r\n`
    head += '\r\n'
    chunks.push(Buffer.from(head), Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) }
}

module.exports = { parseMultipart, buildMultipart, boundaryOf }
