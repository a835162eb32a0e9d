'use strict'
// Request (and response) validation against the REST contracts in ../shared/openapi/:
// daytona-api.json (OpenAPI 3.0) and daytona-toolbox.json (Swagger 2.0).
//
// A request is matched to an operation by method + path template (literal segments beat
// `{param}` segments, so `/sandbox/paginated` never matches `/sandbox/{sandboxIdOrName}`), then:
//   - query: every key must be a declared `in: query` parameter; values are coerced from text
//     the way a server framework would (number, integer, boolean = `true`/`false` only), arrays
//     are repeated keys, a non-array parameter may appear only once; then validated with ajv.
//   - JSON bodies: Content-Type must be application/json and the body must parse; it is
//     validated against the operation's schema with `additionalProperties: false` added to
//     every object schema that declares `properties` (the spec never forbids extra keys, but a
//     client sending a key the server does not know is exactly the drift we want to see). An
//     operation without a request body must get an empty body.
//   - multipart bodies (toolbox bulk-upload, which the spec leaves undescribed) are checked by
//     server.js with checkUploadParts() below.
// OpenAPI 3.0 `nullable` is handled by ajv (with `type`) or rewritten to anyOf [.., null].
//
// Known drift between the spec (clients tag v0.205.1+2) and the 0.218 client, accepted here and
// nowhere else (reference §9):
//   - CreateSandbox.kvm (boolean) is sent by 0.218 but absent from the spec.
//   - Sandbox.kvm is returned by newer servers (responses only; extra keys are allowed there).
//   - The toolbox DaemonErrorCode enum lacks INVALID_FILE_PATH and FILE_READ_FAILED.
//   - The GpuType enum lacks B300 and MI355X, which the 0.218 client's GpuType has (reference §5).
// (`GET /sandbox/paginated`, removed in 0.218, needs no entry: nothing calls it.)

const fs = require('node:fs')
const path = require('node:path')
const Ajv = require('ajv')
const addFormats = require('ajv-formats')

const REPO_ROOT = path.resolve(__dirname, '..', '..')

/**
 * The specs live beside the project (`../shared/openapi`). A checkout elsewhere finds them in
 * the nearest ancestor that has `shared/openapi`, or through DAYTONA_OPENAPI_DIR.
 */
function findSpecDir() {
  if (process.env.DAYTONA_OPENAPI_DIR) return path.resolve(process.env.DAYTONA_OPENAPI_DIR)
  for (let dir = path.dirname(REPO_ROOT); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'openapi')
    if (fs.existsSync(path.join(candidate, 'daytona-api.json'))) return candidate
    if (path.dirname(dir) === dir) break
  }
  throw new Error(`OpenAPI specs not found in any ancestor's shared/openapi of ${REPO_ROOT}; set DAYTONA_OPENAPI_DIR`)
}
const SPEC_DIR = findSpecDir()

/** The accepted drift, applied to the request-side copy of the specs. */
const DRIFT = [
  { spec: 'api', schema: 'CreateSandbox', property: 'kvm', definition: { type: 'boolean' }, why: 'reference §9: sent by 0.218, absent from the spec' },
  { spec: 'api', schema: 'Sandbox', property: 'kvm', definition: { type: 'boolean' }, why: 'reference §9: returned by 0.218-era servers' },
  { spec: 'api', enumOf: 'GpuType', values: ['B300', 'MI355X'], why: 'reference §5: in the 0.218 client enum, absent from the spec' },
  { spec: 'toolbox', enumOf: 'DaemonErrorCode', values: ['INVALID_FILE_PATH', 'FILE_READ_FAILED'], why: 'reference §9: mapped by the 0.218 SDK, absent from the spec enum' },
]

const clone = (x) => JSON.parse(JSON.stringify(x))

/** Recursively rewrites a spec copy: nullable without type, and (strict) closed objects. */
function transformSchemas(node, strict) {
  if (Array.isArray(node)) {
    node.forEach((n) => transformSchemas(n, strict))
    return node
  }
  if (!node || typeof node !== 'object') return node
  for (const [k, v] of Object.entries(node)) if (k !== 'example' && k !== 'examples') transformSchemas(v, strict)
  if (node.nullable === true && node.type === undefined) {
    const inner = { ...node }
    delete inner.nullable
    for (const k of Object.keys(node)) delete node[k]
    node.anyOf = [inner, { type: 'null' }]
  }
  if (strict && node.properties && typeof node.properties === 'object' && !('additionalProperties' in node) && !node.allOf) {
    node.additionalProperties = false
  }
  return node
}

function applyDrift(doc, which) {
  for (const d of DRIFT) {
    if (d.spec !== which) continue
    const schemas = which === 'api' ? doc.components.schemas : doc.definitions
    if (d.property) schemas[d.schema].properties[d.property] = d.definition
    if (d.enumOf) schemas[d.enumOf].enum = [...schemas[d.enumOf].enum, ...d.values]
  }
  return doc
}

/** JSON pointer (URI fragment form) to a node of the spec. */
function pointer(tokens) {
  return '#/' + tokens.map((t) => encodeURIComponent(String(t).replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')
}

function compileTemplates(paths) {
  const out = []
  for (const [template, ops] of Object.entries(paths)) {
    const segs = template.split('/').filter(Boolean)
    const names = []
    const re = new RegExp(
      '^/' +
        segs
          .map((s) => {
            const m = /^\{([^}]+)\}$/.exec(s)
            if (m) {
              names.push(m[1])
              return '([^/]+)'
            }
            return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          })
          .join('/') +
        '/?$',
    )
    const literals = segs.filter((s) => !s.startsWith('{')).length
    out.push({ template, re, names, literals, segs: segs.length, ops })
  }
  // Most specific first: more literal segments win.
  out.sort((a, b) => b.literals - a.literals || b.segs - a.segs)
  return out
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']

class SpecValidator {
  /**
   * @param {'api'|'toolbox'} which
   */
  constructor(which, ajv) {
    const file = which === 'api' ? 'daytona-api.json' : 'daytona-toolbox.json'
    this.which = which
    this.file = path.join(SPEC_DIR, file)
    const raw = JSON.parse(fs.readFileSync(this.file, 'utf8'))
    this.raw = raw
    this.swagger2 = Boolean(raw.swagger)
    this.reqId = `${which}-request`
    this.resId = `${which}-response`
    this.req = applyDrift(transformSchemas(clone(raw), true), which)
    this.res = applyDrift(transformSchemas(clone(raw), false), which)
    this.req.$id = this.reqId
    this.res.$id = this.resId
    ajv.addSchema(this.req, this.reqId)
    ajv.addSchema(this.res, this.resId)
    this.ajv = ajv
    this.templates = compileTemplates(raw.paths)
    this.cache = new Map()
  }

  validator(id, tokens) {
    const ref = `${id}${pointer(tokens)}`
    let v = this.cache.get(ref)
    if (!v) {
      v = this.ajv.compile({ $ref: ref })
      this.cache.set(ref, v)
    }
    return v
  }

  /** Follows local `$ref`s (and single-element allOf) to find a schema's effective type. */
  deref(schema) {
    let s = schema
    for (let i = 0; i < 10 && s; i++) {
      if (s.$ref) {
        const parts = s.$ref.replace(/^#\//, '').split('/')
        s = parts.reduce((n, p) => n && n[p.replace(/~1/g, '/').replace(/~0/g, '~')], this.raw)
      } else if (s.allOf && s.allOf.length === 1 && !s.type) {
        s = s.allOf[0]
      } else break
    }
    return s || {}
  }

  /** @returns {{template, method, op, params, pathParams} | null} */
  match(method, pathname) {
    const m = method.toLowerCase()
    for (const t of this.templates) {
      const hit = t.re.exec(pathname)
      if (!hit) continue
      if (!METHODS.includes(m) || !t.ops[m]) return { template: t.template, method: m, op: null, allowed: Object.keys(t.ops) }
      const pathParams = {}
      t.names.forEach((n, i) => (pathParams[n] = decodeURIComponent(hit[i + 1])))
      const op = t.ops[m]
      const params = [...(t.ops.parameters || []), ...(op.parameters || [])]
      return { template: t.template, method: m, op, params, pathParams, operationId: op.operationId }
    }
    return null
  }

  coerce(text, schema) {
    const s = this.deref(schema)
    const type = s.type
    if (type === 'number' || type === 'integer') {
      if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return { error: `"${text}" is not a ${type}` }
      return { value: Number(text) }
    }
    if (type === 'boolean') {
      if (text !== 'true' && text !== 'false') return { error: `"${text}" is not a boolean (true/false)` }
      return { value: text === 'true' }
    }
    return { value: text }
  }

  /**
   * Validates query and body of a matched request.
   * @param {object} m the match() result
   * @param {Map<string,string[]>} query
   * @param {{contentType: string, raw: Buffer, json?: any, jsonError?: string}} body
   * @returns {string[]} violations (empty when the request conforms)
   */
  validateRequest(m, query, body) {
    const errors = []
    const opTokens = ['paths', m.template, m.method]
    const declared = new Map()
    ;(m.params || []).forEach((p) => {
      if (p.in === 'query') declared.set(p.name, p)
    })
    for (const [key, values] of query) {
      const p = declared.get(key)
      if (!p) {
        errors.push(`query: unknown parameter "${key}"`)
        continue
      }
      const schema = this.swagger2 ? p : p.schema
      const s = this.deref(schema)
      let value
      if (s.type === 'array') {
        value = []
        for (const v of values) {
          const c = this.coerce(v, s.items || {})
          if (c.error) errors.push(`query ${key}: ${c.error}`)
          else value.push(c.value)
        }
      } else {
        if (values.length > 1) {
          errors.push(`query ${key}: repeated ${values.length} times but is not an array`)
          continue
        }
        const c = this.coerce(values[0], s)
        if (c.error) {
          errors.push(`query ${key}: ${c.error}`)
          continue
        }
        value = c.value
      }
      if (!this.swagger2) {
        const i = m.op.parameters.indexOf(p)
        const v = this.validator(this.reqId, [...opTokens, 'parameters', i, 'schema'])
        if (!v(value)) errors.push(...v.errors.map((e) => `query ${key}: ${e.instancePath || ''} ${e.message}`.replace(/ +/g, ' ')))
      }
    }
    for (const p of declared.values()) {
      if (p.required && !query.has(p.name)) errors.push(`query: missing required parameter "${p.name}"`)
    }

    // Body
    let bodyTokens = null
    let bodyRequired = false
    let consumes = null
    if (this.swagger2) {
      const i = (m.op.parameters || []).findIndex((p) => p.in === 'body')
      consumes = m.op.consumes || this.raw.consumes || ['application/json']
      if (i >= 0) {
        bodyTokens = [...opTokens, 'parameters', i, 'schema']
        bodyRequired = Boolean(m.op.parameters[i].required)
      }
      if (consumes.includes('multipart/form-data')) {
        // Described by hand (see checkUploadParts); only the media type is checked here.
        if (!/^multipart\/form-data\s*;\s*boundary=/i.test(body.contentType || '')) {
          errors.push(`body: Content-Type must be multipart/form-data with a boundary, got "${body.contentType || ''}"`)
        }
        return errors
      }
    } else if (m.op.requestBody) {
      const content = m.op.requestBody.content || {}
      consumes = Object.keys(content)
      if (content['application/json']) bodyTokens = [...opTokens, 'requestBody', 'content', 'application/json', 'schema']
      bodyRequired = Boolean(m.op.requestBody.required)
    }
    const hasBody = body.raw.length > 0
    if (!bodyTokens) {
      if (hasBody) errors.push(`body: this operation takes no request body, got ${body.raw.length} bytes`)
      return errors
    }
    if (!hasBody) {
      if (bodyRequired) errors.push('body: required request body is missing')
      return errors
    }
    if (!/^application\/json\s*(;|$)/i.test(body.contentType || '')) {
      errors.push(`body: Content-Type must be application/json, got "${body.contentType || ''}"`)
    }
    if (body.jsonError) {
      errors.push(`body: not valid JSON (${body.jsonError})`)
      return errors
    }
    const v = this.validator(this.reqId, bodyTokens)
    if (!v(body.json)) {
      errors.push(...v.errors.map((e) => formatAjvError('body', e)))
    }
    return errors
  }

  /** Validates a JSON response body of a matched operation; returns violations. */
  validateResponse(m, status, json) {
    if (!m || !m.op) return []
    const responses = m.op.responses || {}
    const key = responses[String(status)] ? String(status) : null
    if (!key) return []
    let tokens
    if (this.swagger2) {
      if (!responses[key].schema) return []
      tokens = ['paths', m.template, m.method, 'responses', key, 'schema']
    } else {
      const c = responses[key].content
      if (!c || !c['application/json'] || !c['application/json'].schema) return []
      tokens = ['paths', m.template, m.method, 'responses', key, 'content', 'application/json', 'schema']
    }
    const v = this.validator(this.resId, tokens)
    if (v(json)) return []
    return v.errors.map((e) => formatAjvError('response', e))
  }
}

function formatAjvError(where, e) {
  let msg = `${where}${e.instancePath || ''}: ${e.message}`
  if (e.keyword === 'additionalProperties') msg += ` ("${e.params.additionalProperty}")`
  if (e.keyword === 'enum') msg += ` (${JSON.stringify(e.params.allowedValues)})`
  return msg
}

/**
 * The toolbox's bulk-upload form, which the spec leaves undescribed: fields
 * `files[i].path` (plain text) and `files[i].file` (a file part with a filename), for
 * i = 0..n-1 without gaps, nothing else.
 * @param {{name: string, filename?: string, data: Buffer}[]} parts
 */
function checkUploadParts(parts) {
  const errors = []
  const seen = new Map()
  for (const p of parts) {
    const m = /^files\[(\d+)\]\.(path|file)$/.exec(p.name || '')
    if (!m) {
      errors.push(`multipart: unexpected field "${p.name}"`)
      continue
    }
    const i = Number(m[1])
    const e = seen.get(i) || {}
    if (e[m[2]]) errors.push(`multipart: field "${p.name}" appears twice`)
    e[m[2]] = p
    seen.set(i, e)
    if (m[2] === 'path' && p.filename !== undefined) errors.push(`multipart: "${p.name}" must be a plain field, not a file`)
    if (m[2] === 'file' && p.filename === undefined) errors.push(`multipart: "${p.name}" must be a file part (with a filename)`)
  }
  const n = seen.size
  for (let i = 0; i < n; i++) {
    const e = seen.get(i)
    if (!e) errors.push(`multipart: index ${i} missing (indices must be 0..${n - 1})`)
    else {
      if (!e.path) errors.push(`multipart: files[${i}].path missing`)
      if (!e.file) errors.push(`multipart: files[${i}].file missing`)
    }
  }
  if (n === 0) errors.push('multipart: no files')
  return errors
}

let shared = null
/** Both validators, sharing one ajv instance (compiled lazily, cached per process). */
function loadValidators() {
  if (shared) return shared
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false })
  addFormats(ajv)
  shared = { api: new SpecValidator('api', ajv), toolbox: new SpecValidator('toolbox', ajv) }
  return shared
}

module.exports = { loadValidators, checkUploadParts, DRIFT, SPEC_DIR }
