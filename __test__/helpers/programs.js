'use strict'
// Random builder programs for the differential test. A program is a factory call followed by
// 1-8 method calls, all plain data, so it can be run against both SDKs and printed on failure.
//
// Each program is tagged `deviationFree` unless one of its COPY sources (or context
// directories) falls into a documented contextList deviation (reference §8 items 7-10): there
// the official SDK's contextList is known to be wrong and ours differs on purpose. The
// Dockerfile text never deviates. A step is also tagged `escapes` when one of its sources
// reaches outside its build context (`..` above the context, or through a symlinked directory
// leading out): the official SDK reads the host file there, ours rejects the step (README
// deviation 11), in both modes.

const path = require('node:path')
const { PYPROJECTS } = require('./tree.js')

/** Strings that stress quoting, sorting, trimming and path handling. */
const TRICKY = [
  '', ' ', '  ', 'a', 'numpy', 'numpy>=1.0', 'Zeta', 'alpha', "it's", "it's!", 'say "hi"', 'a b',
  'a\tb', '\ttab', ' lead', 'trail ', '$HOME', '${X}', 'a$b', '!bang', 'back\\slash', '\\', 'C:\\x',
  'C:', 'c:/y', 'D:a', 'A:=', 'a::', '~', '~/x', '~+', '~+/y', '~bob/z', 'a=b', '=', '[]',
  'pkg[extra]', '#', '# c', 'a#b', 'new\nline', 'cr\r\nlf', '\n', '\u3000', 'x\u3000y', '\u00a0nb',
  'nb\u00a0', 'émoji 🚀', '🚀', '中文', '\uff01', 'a\u2028b', 'x\u0085y', '\u0085', "a'b\"c", '`tick`',
  "'", '"', '""', "''", '*', '?', '{a,b}', '(x)', '@', '+', '|', ';', '&&', '<', '>', 'a,b',
  '--flag', '-q', 'https://i.example/simple', 'https://f.example/a b', 'key=va lue', '%s', '\u200b',
]

const ENV_KEYS = [
  'A', 'PATH', 'lower', 'a b', '1', '10', '2', '01', '-1', '1.5', '0', '4294967294', '4294967295',
  'é', '', '=x', '$K', '9007199254740993', 'with\nnewline', '🚀',
]

/** Values the official SDK rejects where it validates (pipInstall leaves, env values, ...). */
const NON_STRINGS = [1, 0, null, undefined, true, false, {}, { a: 'b' }, [], 1.5, NaN]

const PY_VERSIONS_OK = ['3.9', '3.10', '3.11', '3.12', '3.13']
const PY_VERSIONS_FALSY = [undefined, null, '', 0, false]
const PY_VERSIONS_BAD = ['3.8', '3.14', '3.12.4', ' 3.12', '3.12\n', '3', 'latest', '3.1', 3.12, 3, true]

// COPY sources relative to a context root, without fast-glob magic characters, quotes,
// variables, backslashes or `..` escapes: both SDKs must agree on their contextList entries.
const CLEAN_REL = [
  'a.txt', 'b.txt', 'src', 'src/', './src/', 'src/main.py', 'src/sub/x.py', 'link-to-a', 'link-dir',
  'link-dir/main.py', 'dangling', 'missing.txt', '.', './', '.hidden', 'assets/x.png', 'assets',
  'sub/../a.txt', 'src/sub/..', 'out-link', 'out-dirlink/secret.txt', 'out-dirlink', 'ctxfile',
  '~/a.txt', 'a-b_c.txt', 'Dockerfile', 'src//main.py', 'é.txt', 'a=b.txt', 'x:y', '%20', 'src/./sub', 'src/.', 'assets/sub/',
]
// Only usable in the JSON form (a space would split a whitespace-form operand).
const CLEAN_REL_JSON = ['with space.txt', 'é ü.txt']
// Documented deviations (reference §8 items 7 and 10).
const DEVIANT_REL = [
  // fast-glob patterns: dropped (whitespace form) or files-only (JSON form) by the official SDK
  'assets/*.png', '*.txt', 'src/*', 'a.tx?', '[ab].txt', '{a,b}.txt', 'assets/**', 'src/*/x.py',
  '!(b).txt', '@(a).txt', '+(a).txt', '(a).txt',
  // `..` escapes
  '../outside/secret.txt', 'src/../../outside/secret.txt', '..', '../ctxdata/f.txt',
  // variables, quotes, operators, comments, escapes in the whitespace form
  '$HOME/a.txt', '${SRC}', '"a.txt"', "'b.txt'", '"with space.txt"', 'a.txt;', '#c', 'a\\.txt',
]

const poolCache = new Map()

/** Source spellings for one context root, deciding deviation structurally (memoised). */
function copySourcePool(scope) {
  const key = `${scope.root}\0${scope.officialPrefix}\0${scope.unnormalised}\0${scope.relToCwd}`
  if (!poolCache.has(key)) poolCache.set(key, buildSourcePool(scope))
  return poolCache.get(key)
}

function buildSourcePool(scope) {
  // scope.officialPrefix: the string the official SDK prefixes sources with (and tests
  // archive paths against); scope.unnormalised: that prefix breaks its substring arithmetic.
  const pool = []
  const rel = scope.relToCwd ? (s) => (s === '.' || s === './' ? 'ctx' + s.slice(1) : 'ctx/' + s) : (s) => s
  for (const s of CLEAN_REL) pool.push({ s: rel(s), json: false })
  if (scope.relToCwd) for (const s of ['.', './', 'top.txt', 'ctxlink/a.txt', 'emptydir']) pool.push({ s, json: false })
  for (const s of CLEAN_REL_JSON) pool.push({ s: rel(s), json: true })
  for (const s of DEVIANT_REL) pool.push({ s: rel(s), json: false, deviant: true })
  for (const s of ['a.txt', 'src', 'src/main.py', 'missing.txt']) pool.push({ s: path.join(scope.root, 'ctx', s), json: false })
  pool.push({ s: path.join(scope.root, 'ctx'), json: false })
  pool.push({ s: path.join(scope.root, 'outside', 'secret.txt'), json: false })
  pool.push({ s: path.join(scope.root, 'ctxdata', 'f.txt'), json: false })
  if (scope.officialPrefix === 'ctx' || scope.officialPrefix === 'ctx/') {
    // prefix sharing: `ctxfile` starts with `ctx`
    pool.push({ s: 'ctxfile', json: false }, { s: 'ctx/a.txt', json: false })
  }
  return pool.map((e) => {
    const escapes = sourceEscapes(e.s, scope)
    return { ...e, escapes, deviant: e.deviant || escapes || sourceDeviates(e.s, scope) }
  })
}

/** Whether ours rejects the source as reaching outside the context (see the header). */
function sourceEscapes(s, scope) {
  // absolute sources are resolved inside the context, never rejected
  if (path.posix.isAbsolute(s)) return false
  const n = path.posix.normalize(s)
  if (n === '..' || n.startsWith('../')) return true
  // the tree's `ctx/out-dirlink` points at `outside`, which is inside the working directory
  return !scope.relToCwd && n.startsWith('out-dirlink/')
}

function sourceDeviates(s, scope) {
  const P = scope.officialPrefix
  if (/[*?[\]{}()!@+\\$"'#;]/.test(s)) return true
  if (path.posix.isAbsolute(s)) {
    // ours: an absolute source outside the context directory is that path inside it (README
    // deviation 11); a mere string prefix (`ctx` of `ctxdata`) is not containment
    const rel = path.posix.relative(path.posix.resolve(scope.root, P || '.'), s)
    if (rel === '..' || rel.startsWith('../')) return true
    return P !== '' && !s.startsWith(P)
  }
  const n = path.posix.normalize(s)
  if (n === '..' || n.startsWith('../')) return true
  if (P === '') return false
  return scope.unnormalised || s.startsWith(P)
}

function jsonForm(r, srcs, dest) {
  return `${r.pick(['COPY', 'copy', 'Copy'])} ${r.pick(['', '--chown=1:1 ', '--link '])}${JSON.stringify([...srcs, dest])}`
}

/** One COPY instruction (maybe spanning physical lines) and whether it deviates. */
function copyLine(r, scope) {
  const pool = copySourcePool(scope)
  const useJson = r.chance(0.3)
  const usable = useJson ? pool.filter((e) => !/[\\"'$#;]/.test(e.s) || e.deviant) : pool.filter((e) => !e.json)
  const clean = usable.filter((e) => !e.deviant)
  const deviating = usable.filter((e) => e.deviant)
  const picked = Array.from({ length: r.int(1, 3) }, () => r.pick(r.chance(0.07) || !clean.length ? deviating : clean))
  const dest = r.pick(['/app/', '/dst', './', '/d/x/'])
  let deviant = picked.some((e) => e.deviant)
  const escapes = picked.some((e) => e.escapes)
  if (useJson) return { text: jsonForm(r, picked.map((e) => e.s), dest), deviant, escapes }
  const kw = r.pick(['COPY', 'copy', 'COPY', ' COPY', 'COPY\t'])
  const flags = r.weighted([
    [6, []],
    [1, ['--chown=1:1']],
    [1, ['--link', '--chmod=755']],
    [1, ['--from=builder']], // skipped by both (first flag)
    [1, ['--FROM=stage']],
  ])
  const words = [...flags, ...picked.map((e) => e.s), dest]
  if (r.chance(0.15)) {
    // split over physical lines with a continuation and maybe a comment line in between
    const cut = r.int(1, words.length - 1)
    const mid = r.pick(['\n', '\n# comment\n', '\n\n', '\r\n  ', ' \t\n', '\n  # c \\\n', '\n\t\n'])
    return { text: `${kw} ${words.slice(0, cut).join(' ')} \\${mid}  ${words.slice(cut).join(' ')}`, deviant, escapes }
  }

  return { text: `${kw} ${words.join(' ')}`, deviant, escapes }
}

/** COPY-like instructions the official SDK mishandles (reference §8 item 10). */
function deviantInstruction(r) {
  return r.pick([
    'ADD a.txt /app/',
    'add src /src',
    'COPY --chown 1:1 a.txt /app/', // flag value separated by a space
    'COPY a.txt --from=x /d/', // --from= later on the line
    'COPY <<EOF /etc/conf\nhello\nEOF',
    'RUN <<EOF\nCOPY b.txt /x\nEOF',
    'RUN cat <<EOF > /x\nCOPY src /y\nEOF',
    'ENV SRC=a.txt\nCOPY $SRC /d/',
    'ARG D=src\nCOPY ${D}/main.py /d/',
    'COPY "a.txt" /d/',
    'COPY a.txt b.txt; /d/',
    'COPY ["a.txt", 1, "/d/"]',
    'COPY ["a.txt"]',
    'COPY assets/*.png /img/',
    'COPY a.txt *.png /d/',
  ])
}

/** Lines that are not COPY instructions (the whitespace form of the official parser is not involved). */
function otherLine(r) {
  return r.weighted([
    [4, 'RUN ' + r.pick(TRICKY).replace(/<</g, '<')],
    [1, 'FROM ' + r.pick(['python:3.12', 'scratch', 'alpine AS builder'])],
    [1, '# comment ' + r.pick(TRICKY).replace(/\n/g, ' ')],
    [1, ''],
    [1, '   '],
    [1, 'WORKDIR /app'],
    [1, 'ENV A=b'],
    [1, 'COPY a.txt'], // one operand only: no source
    [1, 'COPYa.txt /d'],
    [1, 'RUN echo \\\n  continued'],
    [1, r.pick(TRICKY).replace(/<</g, '<').replace(/copy/gi, 'cp')],
    [1, 'EXPOSE 80\r'],
  ])
}

/** Body of a generated Dockerfile (string or Buffer) and its deviation tag. */
function dockerfileBody(r, scope) {
  const lines = []
  let deviant = false
  let escapes = false
  if (r.chance(0.05)) lines.push('\uFEFF' + 'FROM python:3.12')
  else if (r.chance(0.05)) {
    // a byte order mark before a COPY instruction on the first line
    const c = copyLine(r, scope)
    deviant ||= c.deviant
    escapes ||= c.escapes
    lines.push('\uFEFF' + c.text.replace(/^\s+/, ''))
  }
  else lines.push('FROM ' + r.pick(['python:3.12-slim', 'alpine', 'x AS base']))
  const n = r.int(0, 6)
  for (let i = 0; i < n; i++) {
    const kind = r.weighted([
      [5, 'copy'],
      [4, 'other'],
      [0.5, 'deviant'],
    ])
    if (kind === 'copy') {
      const c = copyLine(r, scope)
      deviant ||= c.deviant
      escapes ||= c.escapes
      lines.push(c.text)
    } else if (kind === 'deviant') {
      deviant = true
      lines.push(deviantInstruction(r))
    } else lines.push(otherLine(r))
  }
  if (r.chance(0.05) && /^\s*copy/i.test(lines[lines.length - 1])) lines[lines.length - 1] += ' \\' // open continuation at the end
  if (r.chance(0.05)) {
    deviant = true
    lines.unshift('# escape=`')
  }
  const eol = r.chance(0.15) ? '\r\n' : '\n'
  let text = lines.join(eol) + (r.chance(0.8) ? eol : '')
  if (r.chance(0.05)) {
    // invalid UTF-8 in a comment: both sides decode it with replacement characters
    const sep = text.endsWith('\n') ? '' : eol
    const buf = Buffer.concat([Buffer.from(text + sep), Buffer.from([0x23, 0x20, 0xff, 0xc3, 0x28, 0xe2, 0x82, 0x0a])])
    return { body: buf, deviant, escapes }
  }
  return { body: text, deviant, escapes }
}

function pipOptions(r) {
  const o = r.weighted([
    [3, undefined],
    [1, null],
    [1, {}],
    [5, 'full'],
  ])
  if (o !== 'full') return o
  const opts = {}
  if (r.chance(0.4)) opts.findLinks = r.some(TRICKY, 0, 3)
  if (r.chance(0.4)) opts.indexUrl = r.pick([...TRICKY, '', undefined, null])
  if (r.chance(0.4)) opts.extraIndexUrls = r.some(TRICKY, 0, 3)
  if (r.chance(0.4)) opts.pre = r.pick([true, false, undefined, null, 0, 1, 'yes', ''])
  if (r.chance(0.4)) opts.extraOptions = r.pick(['', ' ', '\t\n', ' --no-cache-dir ', '-q', '\u3000-v\u00a0', ...TRICKY])
  if (r.chance(0.1)) opts.findLinks = r.pick([null, undefined, 'ab', '🚀x', ''])
  if (r.chance(0.05)) opts.indexUrl = r.pick([5, true, 0])
  if (r.chance(0.1)) opts.extraIndexUrls = r.pick([null, undefined, []])
  return opts
}

function packages(r, depth = 0) {
  const leaf = () => (r.chance(0.02) ? r.pick(NON_STRINGS) : r.pick(TRICKY))
  if (depth > 2 || r.chance(0.25)) return leaf()
  return Array.from({ length: r.int(0, 4) }, () => (r.chance(0.25) ? packages(r, depth + 1) : leaf()))
}

function stringArray(r) {
  if (r.chance(0.08)) return r.pick(['/bin/sh', null, undefined, 5, { 0: 'a', length: 1 }, ['a', 1], ['a', null], [['a']]])
  return r.some(TRICKY, 0, 4)
}

function envRecord(r) {
  const rec = {}
  const n = r.int(0, 4)
  for (let i = 0; i < n; i++) rec[r.pick(ENV_KEYS)] = r.chance(0.025) ? r.pick(NON_STRINGS) : r.pick(TRICKY)
  return rec
}

function localPaths(T) {
  return {
    file: ['req.txt', './req.txt', 'top.txt', '~/req.txt', '~+/req.txt', `${T}/req.txt`, 'link-req', 'sp ace.txt',
      'back\\slash.txt', 'é ü.txt', 'ctx/a.txt', 'ctx/../req.txt', 'ctx//a.txt', '~/ctx/.hidden', 'ctxlink/a.txt'],
    dir: ['ctx', 'ctx/', './ctx', '~', '~/ctx', '~+', '~+/ctx/src', `${T}/ctx`, 'emptydir', 'ctxlink', 'ctx/link-dir', '.'],
    missing: ['missing.txt', '~/missing', '~bob/x', 'dangling-top', 'ctx/dangling', '', 'ctx/nope/'],
  }
}

/** Context directories for dockerfileCommands, with how the official SDK treats them. */
function contextDirs(T) {
  return [
    // value, official prefix (non-strict), official prefix (strict), unnormalised (non-strict)
    { dir: undefined, P: '', Ps: null },
    { dir: '', P: '', Ps: null },
    { dir: 'ctx', P: 'ctx', Ps: 'ctx' },
    { dir: 'ctx/', P: 'ctx/', Ps: 'ctx/' },
    { dir: `${T}/ctx`, P: `${T}/ctx`, Ps: `${T}/ctx` },
    { dir: `${T}/ctx/`, P: `${T}/ctx/`, Ps: `${T}/ctx/` },
    { dir: 'ctxlink', P: 'ctxlink', Ps: 'ctxlink' },
    { dir: './ctx', P: './ctx', Ps: './ctx', unnormalised: true },
    { dir: 'ctx//', P: 'ctx//', Ps: 'ctx//', unnormalised: true },
    { dir: '.', P: '.', Ps: '.', unnormalised: true },
    { dir: '~/ctx', P: '~/ctx', Ps: `${T}/ctx`, unnormalised: true, strictNormalised: true },
    { dir: '~+/ctx', P: '~+/ctx', Ps: `${T}/ctx`, unnormalised: true, strictNormalised: true },
    // errors
    { dir: 'missing-dir', error: true },
    { dir: '~/missing-dir', error: true },
    { dir: 'file.txt', error: true },
    { dir: 'dangling-top', error: true },
  ]
}

const GOOD_PYPROJECTS = ['valid.toml', 'tricky.toml', 'nested.toml', 'emptydeps.toml', 'multiline.toml', 'optemptystr.toml', 'optfalse.toml', 'optdate.toml']

/** Generates one program from `r`. */
function generateProgram(r, T) {
  const steps = []
  let deviant = false
  const reasons = []
  const mark = (why) => {
    deviant = true
    reasons.push(why)
  }
  let dockerfile = null
  const paths = localPaths(T)

  // factory
  const factory = r.weighted([
    [4, 'base'],
    [3, 'debianSlim'],
    [3, 'fromDockerfile'],
  ])
  if (factory === 'base') {
    steps.push({ m: 'base', args: [r.chance(0.9) ? r.pick(TRICKY.concat(['python:3.12', 'ubuntu@sha256:abc'])) : r.pick([12, null, undefined])] })
  } else if (factory === 'debianSlim') {
    const v = r.weighted([
      [12, () => r.pick(PY_VERSIONS_OK)],
      [4, () => r.pick(PY_VERSIONS_FALSY)],
      [1, () => r.pick(PY_VERSIONS_BAD)],
    ])()
    steps.push({ m: 'debianSlim', args: r.chance(0.1) && v === undefined ? [] : [v] })
  } else {
    const where = r.weighted([
      [16, 'ctx/Dockerfile'],
      [4, `${T}/ctx/Dockerfile`],
      [4, '~/ctx/Dockerfile'],
      [2, '~+/ctx/./Dockerfile'],
      [2, 'ctx/../ctx/Dockerfile'],
      [2, 'ctxlink/Dockerfile'],
      [1, 'ctx\\Dockerfile'], // pathe.resolve turns backslashes into separators
      [0.3, ''],
      [1, 'ctx/missing/Dockerfile'],
      [1, 'ctx/dfdir'],
    ])
    const strict = r.pick([undefined, false, true])
    // the official SDK's prefix: the resolved (not real) directory of the Dockerfile, plus '/'
    const resolved = path.resolve(T, where.replace(/^~\+/, T).replace(/^~/, T).replace(/\\/g, '/'))
    const { body, deviant: d, escapes } = dockerfileBody(r, { root: T, officialPrefix: path.dirname(resolved) + '/', relToCwd: false })
    if (d) mark('fromDockerfile sources')
    dockerfile = body
    steps.push({ m: 'fromDockerfile', args: strict === undefined ? [where] : [where, { strictContext: strict }], deviant: d, escapes, strict: !!strict })
  }

  const n = r.int(1, 8)
  for (let i = 0; i < n; i++) {
    const m = r.weighted([
      [4, 'pipInstall'],
      [2, 'pipInstallFromRequirements'],
      [3, 'pipInstallFromPyproject'],
      [2, 'addLocalFile'],
      [2, 'addLocalDir'],
      [3, 'runCommands'],
      [3, 'env'],
      [2, 'workdir'],
      [1, 'entrypoint'],
      [1, 'cmd'],
      [6, 'dockerfileCommands'],
    ])
    const pathOf = (kinds) =>
      r.weighted([
        [30, () => r.pick(paths[kinds[0]])],
        [1, () => r.pick(paths[kinds[1]])],
        [1, () => r.pick(paths.missing)],
      ])()
    switch (m) {
      case 'pipInstall': {
        const args = [packages(r)]
        const o = pipOptions(r)
        if (o !== undefined || r.chance(0.3)) args.push(o)
        steps.push({ m, args })
        break
      }
      case 'pipInstallFromRequirements': {
        const args = [pathOf(['file', 'dir'])]
        const o = pipOptions(r)
        if (o !== undefined) args.push(o)
        steps.push({ m, args })
        break
      }
      case 'pipInstallFromPyproject': {
        const file = r.chance(0.6) ? r.pick(GOOD_PYPROJECTS) : r.pick(Object.keys(PYPROJECTS))
        const p = r.weighted([
          [12, () => `py/${file}`],
          [4, () => `~/py/${file}`],
          [2, () => `${T}/py/${file}`],
          [1, () => r.pick(['py', 'py/missing.toml', 'req.txt'])],
        ])()
        let o = pipOptions(r)
        if (r.chance(0.6)) {
          o = { ...(o || {}), optionalDependencies: r.pick([[], ['dev'], ['dev', 'test'], ['missing'], ['notarray', 'extra'], ['empty', 'extra', 'dev']]) }
        }
        // tomlPath: parser messages may only share the `Invalid pyproject.toml file <path>: ` prefix
        steps.push({ m, args: o === undefined ? [p] : [p, o], tomlPath: p })
        break
      }
      case 'addLocalFile':
        steps.push({ m, args: [pathOf(['file', 'dir']), r.pick([...TRICKY, '/app/', '/app/x.txt', 'rel/', '/'])] })
        break
      case 'addLocalDir':
        steps.push({ m, args: [pathOf(['dir', 'file']), r.pick([...TRICKY, '/app/', '/app', 'rel'])] })
        break
      case 'runCommands': {
        const cmds = Array.from({ length: r.int(0, 3) }, () =>
          r.weighted([
            [10, () => r.pick(TRICKY)],
            [10, () => r.some(TRICKY, 0, 4)],
            // printed as a template literal prints it / TypeError from `c.replace`
            [1, () => r.pick([5, null, undefined, true, ['a', 1], [null]])],
          ])(),
        )
        steps.push({ m, args: cmds })
        break
      }
      case 'env':
        steps.push({ m, args: [envRecord(r)] })
        break
      case 'workdir':
        steps.push({ m, args: [r.pick(TRICKY.concat(['/home/daytona', '~/w']))] })
        break
      case 'entrypoint':
      case 'cmd':
        steps.push({ m, args: [stringArray(r)] })
        break
      case 'dockerfileCommands': {
        const dirs = contextDirs(T)
        const cd = r.weighted(dirs.map((d) => [d.error ? 1 : d.unnormalised && !d.strictNormalised ? 2 : 6, d]))
        const strict = r.weighted([
          [5, undefined],
          [2, false],
          [cd.dir ? 3 : 0.3, true],
        ])
        const P = strict ? (cd.Ps ?? '') : cd.P ?? ''
        const unnormalised = strict ? cd.unnormalised && !cd.strictNormalised : cd.unnormalised
        const scope = { root: T, officialPrefix: P, unnormalised: !!unnormalised, relToCwd: P === '' }
        const lines = []
        let d = false
        let escapes = false
        for (let k = r.int(0, 4); k > 0; k--) {
          const kind = r.weighted([
            [5, 'copy'],
            [4, 'other'],
            [0.5, 'deviant'],
          ])
          if (kind === 'copy') {
            const c = copyLine(r, scope)
            d ||= c.deviant
            escapes ||= c.escapes
            lines.push(c.text)
          } else if (kind === 'deviant') {
            d = true
            lines.push(deviantInstruction(r))
          } else lines.push(otherLine(r))
        }
        if (lines.length && r.chance(0.05) && /^\s*copy/i.test(lines[lines.length - 1])) {
          lines[lines.length - 1] += ' \\'
          // a non-string spliced in below may continue the instruction: its destination (an
          // absolute path outside the context) then becomes a source
          d = true
        }
        if (d) mark(`dockerfileCommands sources (contextDir ${JSON.stringify(cd.dir)})`)
        // Array.prototype.join prints these as '', '', '5', 'a,,b'
        if (r.chance(0.05)) lines.splice(r.int(0, lines.length), 0, r.pick([null, undefined, 5, ['a', null, 'b']]))
        const args = [lines]
        let opts = strict === undefined ? (r.chance(0.2) ? r.pick([{}, null]) : undefined) : { strictContext: strict }
        if (opts && r.chance(0.1)) opts = { strictContext: strict ? r.pick([1, 'yes', {}]) : r.pick([0, '', null]) }
        if (cd.dir !== undefined || opts !== undefined) args.push(cd.dir)
        if (opts !== undefined) args.push(opts)
        steps.push({ m, args, deviant: d, escapes, strict: !!strict })
        break
      }
    }
  }
  return { steps, dockerfile, deviationFree: !deviant, reasons }
}

module.exports = { generateProgram, TRICKY, ENV_KEYS, NON_STRINGS }
