'use strict'
// Focused tests of the Image builder against the official @daytonaio/sdk 0.218: the public
// surface (CommonJS and ESM), the error classes, every argument-error message of reference
// §1.4/§1.6/§1.7, and one test per documented contextList deviation (reference §8 items 7-10),
// each asserting both the official (broken) value and ours.

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const Official = require('@daytonaio/sdk')
const Ours = require('../index.js')
const { createTree } = require('./helpers/tree.js')

const ERROR_NAME = /^Daytona.*Error$/

/** Runs `f(Image)` on both packages; returns [official, ours] as {ok, value} / {error}. */
function both(f) {
  return [Official, Ours].map((pkg) => {
    try {
      return { value: f(pkg.Image, pkg) }
    } catch (e) {
      return { error: e, pkg }
    }
  })
}

function contextsOf(f) {
  const [o, n] = both((Image) => f(Image).contextList.map((c) => ({ ...c })))
  if (o.error) throw o.error
  if (n.error) throw n.error
  return [o.value, n.value]
}

let tree
let T
before(() => {
  tree = createTree()
  tree.enter()
  T = tree.root
})
after(() => tree.leave())

/** Writes ctx/Dockerfile and returns a factory reading it. */
function dockerfile(text, options) {
  fs.rmSync(path.join(T, 'ctx', 'Dockerfile'), { force: true })
  fs.writeFileSync(path.join(T, 'ctx', 'Dockerfile'), text)
  return (Image) => Image.fromDockerfile('ctx/Dockerfile', options)
}

describe('public surface', () => {
  test('every builder method returns the same instance', () => {
    const img = Ours.Image.debianSlim('3.12')
    const calls = [
      ['pipInstall', ['numpy']],
      ['pipInstall', [[], { pre: true }]],
      ['pipInstallFromRequirements', ['req.txt']],
      ['pipInstallFromPyproject', ['py/valid.toml', { optionalDependencies: ['dev'] }]],
      ['addLocalFile', ['req.txt', '/app/']],
      ['addLocalDir', ['ctx/src', '/app/src']],
      ['runCommands', ['echo a', ['echo', 'b']]],
      ['runCommands', []],
      ['env', [{ A: 'b' }]],
      ['workdir', ['/app']],
      ['entrypoint', [['/bin/sh']]],
      ['cmd', [['-c', 'true']]],
      ['dockerfileCommands', [['COPY a.txt /a'], 'ctx']],
      ['dockerfileCommands', [['COPY a.txt /a'], 'ctx', { strictContext: true }]],
    ]
    for (const [m, args] of calls) assert.equal(img[m](...args), img, `${m} returns this`)
    const builders = Object.getOwnPropertyNames(Official.Image.prototype).filter(
      (m) => !['constructor', 'dockerfile', 'contextList', 'formatPipInstallArgs', 'flattenStringArgs'].includes(m),
    )
    for (const m of builders) assert.equal(typeof Ours.Image.prototype[m], 'function', `Image.prototype.${m}`)
    for (const m of ['base', 'debianSlim', 'fromDockerfile']) assert.equal(typeof Ours.Image[m], 'function', `Image.${m}`)
  })

  test('require() and import() expose Image and the error classes', async () => {
    const esm = await import('../index.js')
    assert.equal(esm.Image, Ours.Image)
    assert.equal(esm.default.Image, Ours.Image)
    const names = Object.keys(Official).filter((k) => ERROR_NAME.test(k))
    for (const name of names) {
      assert.equal(typeof Ours[name], 'function', `require: ${name}`)
      assert.equal(esm[name], Ours[name], `import: ${name}`)
    }
    assert.equal(esm.Image.base('x').dockerfile, 'FROM x\n')
  })

  test('the exported Daytona*Error names include every official one; additions extend DaytonaError', () => {
    const official = Object.keys(Official).filter((k) => ERROR_NAME.test(k)).sort()
    const ours = Object.keys(Ours).filter((k) => ERROR_NAME.test(k)).sort()
    assert.deepEqual(official.filter((k) => !ours.includes(k)), [], 'official classes missing from ours')
    // design.md: additions are allowed (e.g. DaytonaBuildError for local-engine builds), but
    // they must be DaytonaErrors so `catch (e) { if (e instanceof DaytonaError) }` still works
    for (const extra of ours.filter((k) => !official.includes(k))) {
      assert.ok(new Ours[extra]('m') instanceof Ours.DaytonaError, `${extra} extends DaytonaError`)
      assert.equal(Ours[extra].name, extra)
    }
    for (const k of ['SOURCE_API', 'SOURCE_DAEMON', 'SOURCE_PROXY']) assert.equal(Ours[k], Official[k])
  })
})

describe('error classes', () => {
  const names = Object.keys(Official).filter((k) => ERROR_NAME.test(k))

  /** The official class chain of `name`, e.g. ['DaytonaInvalidArgumentError', ..., 'DaytonaError']. */
  function officialChain(name) {
    const chain = []
    for (let C = Official[name]; C && C !== Error; C = Object.getPrototypeOf(C)) chain.push(C.name)
    return chain
  }

  test('each class is an instance of its whole official parent chain, with the official name', () => {
    for (const name of names) {
      const C = Ours[name]
      assert.equal(C.name, name)
      const e = new C('msg')
      assert.equal(e.name, name)
      assert.equal(e.message, 'msg')
      assert.ok(e instanceof Error)
      for (const parent of officialChain(name)) assert.ok(e instanceof Ours[parent], `${name} instanceof ${parent}`)
      // no class outside the chain claims it (DaytonaTimeoutError's widening aside)
      for (const other of names) {
        if (officialChain(name).includes(other)) continue
        const expected = new Official[name]('msg') instanceof Official[other]
        assert.equal(e instanceof Ours[other], expected, `${name} instanceof ${other}`)
      }
      // the chain of our class mirrors the official one
      const ours = []
      for (let K = C; K && K !== Error; K = Object.getPrototypeOf(K)) ours.push(K.name)
      assert.deepEqual(ours, officialChain(name))
    }
  })

  test('constructor fields and errorCode', () => {
    const e = new Ours.DaytonaNotFoundError('m', 404, { a: '1' }, 'CODE', 'DAYTONA_API')
    assert.deepEqual([e.statusCode, e.headers, e.code, e.source, e.errorCode], [404, { a: '1' }, 'CODE', 'DAYTONA_API', 'CODE'])
    const bare = new Ours.DaytonaError('m')
    assert.deepEqual([bare.statusCode, bare.code, bare.source, bare.headers, bare.errorCode], [undefined, undefined, undefined, undefined, undefined])
  })

  test('argument errors thrown by the builder carry no statusCode, code or source', () => {
    const thrown = []
    for (const f of [
      (I) => I.debianSlim('2.7'),
      (I) => I.base('x').addLocalFile('missing.txt', '/x'),
      (I) => I.base('x').env({ A: 1 }),
    ]) {
      const [o, n] = both(f)
      assert.ok(o.error && n.error)
      thrown.push(n.error)
      for (const field of ['statusCode', 'code', 'source', 'headers']) {
        assert.equal(n.error[field], undefined, field)
        assert.equal(o.error[field], undefined, field)
      }
      assert.ok(n.error instanceof Ours.DaytonaError)
      assert.ok(n.error instanceof Ours[n.error.name])
      assert.ok(n.error.stack.startsWith(`${n.error.name}: `))
    }
    assert.ok(thrown[0] instanceof Ours.DaytonaInvalidArgumentError)
    assert.ok(thrown[0] instanceof Ours.DaytonaValidationError)
    assert.ok(thrown[0] instanceof Ours.DaytonaBadRequestError)
    assert.ok(thrown[1] instanceof Ours.DaytonaNotFoundError)
    assert.ok(!(thrown[1] instanceof Ours.DaytonaBadRequestError))
  })

  test('DaytonaTimeoutError also matches connection timeouts; its subclasses do not', () => {
    const conn = new Ours.DaytonaConnectionTimeoutError('t')
    assert.ok(conn instanceof Ours.DaytonaTimeoutError)
    assert.ok(conn instanceof Ours.DaytonaConnectionError)
    assert.ok(!(conn instanceof Ours.DaytonaProcessExecutionTimeoutError))
    assert.ok(new Ours.DaytonaProcessExecutionTimeoutError('p') instanceof Ours.DaytonaTimeoutError)
    assert.ok(!(new Ours.DaytonaConnectionError('c') instanceof Ours.DaytonaTimeoutError))
    assert.ok(!(new Ours.DaytonaProcessExecutionTimeoutError('p') instanceof Ours.DaytonaConnectionError))
  })
})

describe('argument errors: class and message byte-for-byte (reference §1.4, §1.6, §1.7)', () => {
  // [label, builder program, message prefix only (TOML parser text differs)]
  const cases = () => [
    ['debianSlim unsupported', (I) => I.debianSlim('3.8')],
    ['debianSlim micro version', (I) => I.debianSlim('3.12.4')],
    ['debianSlim non-string', (I) => I.debianSlim(3.12)],
    ['pipInstall non-string leaf', (I) => I.base('x').pipInstall(['a', ['b', 1]])],
    ['pipInstall null', (I) => I.base('x').pipInstall(null)],
    ['requirements missing', (I) => I.base('x').pipInstallFromRequirements('~/nope.txt')],
    ['requirements is a directory', (I) => I.base('x').pipInstallFromRequirements('ctx')],
    ['pyproject missing', (I) => I.base('x').pipInstallFromPyproject('py/missing.toml')],
    ['pyproject is a directory', (I) => I.base('x').pipInstallFromPyproject('~/py')],
    ['pyproject invalid TOML', (I) => I.base('x').pipInstallFromPyproject('py/bad.toml'), 'Invalid pyproject.toml file py/bad.toml: '],
    ['pyproject mixed array', (I) => I.base('x').pipInstallFromPyproject('py/mixed.toml'), 'Invalid pyproject.toml file py/mixed.toml: Inline lists must be a single type, not a mix of string and integer'],
    ['pyproject byte order mark', (I) => I.base('x').pipInstallFromPyproject('py/bom.toml'), 'Invalid pyproject.toml file py/bom.toml: Unknown character "65279"'],
    ['pyproject without dependencies', (I) => I.base('x').pipInstallFromPyproject('py/nodeps.toml')],
    ['pyproject dependencies not an array', (I) => I.base('x').pipInstallFromPyproject('py/depsstr.toml')],
    ['pyproject empty file', (I) => I.base('x').pipInstallFromPyproject('py/empty.toml')],
    ['optional-dependencies not a table', (I) => I.base('x').pipInstallFromPyproject('py/optarr.toml', { optionalDependencies: [] })],
    ['optional-dependencies a string', (I) => I.base('x').pipInstallFromPyproject('py/optstr.toml', { optionalDependencies: ['dev'] })],
    ['pyproject non-string dependency', (I) => I.base('x').pipInstallFromPyproject('py/nonstr.toml')],
    ['addLocalFile missing', (I) => I.base('x').addLocalFile('~bob/x', '/x/')],
    ['addLocalFile dangling symlink', (I) => I.base('x').addLocalFile('dangling-top', '/x')],
    ['addLocalFile directory', (I) => I.base('x').addLocalFile('ctx', '/x')],
    ['addLocalDir missing', (I) => I.base('x').addLocalDir('nope', '/x')],
    ['addLocalDir file', (I) => I.base('x').addLocalDir('~/req.txt', '/x')],
    ['env non-strings', (I) => I.base('x').env({ b: 'ok', a: 1, 10: null, 2: undefined, c: {} })],
    ['entrypoint string', (I) => I.base('x').entrypoint('/bin/sh')],
    ['entrypoint mixed', (I) => I.base('x').entrypoint(['a', 1])],
    ['cmd null', (I) => I.base('x').cmd(null)],
    ['cmd mixed', (I) => I.base('x').cmd(['a', ['b']])],
    ['strictContext without contextDir', (I) => I.base('x').dockerfileCommands(['RUN a'], undefined, { strictContext: true })],
    ['contextDir missing', (I) => I.base('x').dockerfileCommands(['RUN a'], '~/nope')],
    ['contextDir is a file', (I) => I.base('x').dockerfileCommands(['RUN a'], 'file.txt')],
    ['strict: absolute source', (I) => I.base('x').dockerfileCommands([`COPY ${T}/ctx/a.txt /a`], 'ctx', { strictContext: true })],
    ['strict: .. source', (I) => I.base('x').dockerfileCommands(['COPY a.txt src/../../top.txt /a'], 'ctx', { strictContext: true })],
    ['strict: drive letter', (I) => I.base('x').dockerfileCommands(['COPY ["C:x", "/a"]'], 'ctx', { strictContext: true })],
    ['strict: UNC', (I) => I.base('x').dockerfileCommands(['COPY ["\\\\\\\\server\\\\x", "/a"]'], 'ctx', { strictContext: true })],
    ['strict: symlink to a file outside', (I) => I.base('x').dockerfileCommands(['COPY out-link /a'], '~/ctx', { strictContext: true })],
    ['strict: through a symlinked directory', (I) => I.base('x').dockerfileCommands(['COPY out-dirlink/secret.txt /a'], 'ctx', { strictContext: true })],
    ['strict: dangling symlink', (I) => I.base('x').dockerfileCommands(['COPY a.txt dangling /a'], 'ctx', { strictContext: true })],
    ['fromDockerfile missing', (I) => I.fromDockerfile('~/ctx/nope/Dockerfile')],
    ['fromDockerfile directory', (I) => I.fromDockerfile('ctx/dfdir')],
    ['fromDockerfile strict symlink', dockerfile('FROM x\nCOPY link-to-a out-link /a\n', { strictContext: true })],
    ['fromDockerfile strict absolute inside', dockerfile(`FROM x\nCOPY ${T}/ctx/a.txt /a\n`, { strictContext: true })],
  ]

  test('every message matches the official SDK', () => {
    for (const [label, f, prefix] of cases()) {
      const [o, n] = both(f)
      assert.ok(o.error, `${label}: official throws`)
      assert.ok(n.error, `${label}: ours throws`)
      assert.equal(n.error.name, o.error.name, `${label}: name`)
      assert.equal(n.error.constructor.name, o.error.constructor.name, `${label}: class`)
      assert.ok(n.error instanceof Ours[o.error.name], `${label}: instanceof ${o.error.name}`)
      if (prefix) {
        assert.ok(o.error.message.startsWith(prefix), `${label}: official prefix ${o.error.message}`)
        assert.ok(n.error.message.startsWith(prefix), `${label}: our prefix ${n.error.message}`)
      } else {
        assert.equal(n.error.message, o.error.message, label)
      }
    }
  })

  test('messages name the argument as passed, not the expanded path', () => {
    const [, n] = both((I) => I.base('x').pipInstallFromRequirements('~/nope.txt'))
    assert.equal(n.error.message, 'Requirements file ~/nope.txt does not exist')
    const [, s] = both((I) => I.base('x').dockerfileCommands(['COPY out-link /a'], '~/ctx', { strictContext: true }))
    assert.equal(s.error.message, `forbidden path outside the build context: ${T}/outside/secret.txt`)
  })
})

describe('regressions found by the differential test', () => {
  test('an empty $HOME leaves `~` unexpanded, as os.homedir() does', () => {
    const saved = process.env.HOME
    process.env.HOME = ''
    try {
      const [o, n] = both((I) => I.base('x').addLocalDir('~', '/d').dockerfile)
      assert.equal(o.error?.message, 'Local directory ~ does not exist')
      assert.equal(n.error?.message, o.error.message)
    } finally {
      process.env.HOME = saved
    }
  })

  test('a byte order mark before the first instruction of a Dockerfile', () => {
    const [o, n] = contextsOf(dockerfile('\uFEFFCOPY a.txt /d/\n'))
    assert.deepEqual(o, [{ sourcePath: `${T}/ctx/a.txt`, archivePath: 'a.txt' }])
    assert.deepEqual(n, o)
  })

  test('non-string arguments are printed as the official template literals print them', () => {
    for (const f of [
      (I) => I.base(12).debianSlim,
      (I) => I.debianSlim(0).dockerfile,
      (I) => I.debianSlim(false).dockerfile,
      (I) => I.base('x').pipInstall('a', { pre: 1, indexUrl: null, findLinks: 'ab', extraIndexUrls: undefined }).dockerfile,
      (I) => I.base('x').runCommands(5, null, ['a']).dockerfile,
      (I) => I.base('x').dockerfileCommands(['RUN a', null, 5, ['b', null]]).dockerfile,
      (I) => I.base('x').dockerfileCommands(['RUN a'], 'ctx', { strictContext: 1 }).dockerfile,
    ]) {
      const [o, n] = both(f)
      assert.equal(n.error, undefined)
      assert.equal(n.value, o.value)
    }
    const [o, n] = both((I) => I.base('x').runCommands('kept', ['a', null]))
    assert.equal(o.error.constructor, TypeError)
    assert.equal(n.error.constructor, TypeError)
    assert.equal(n.error.message, o.error.message)
  })
})

describe('documented contextList deviations: official output vs ours', () => {
  // §8 item 7: prefix-length arithmetic on an unnormalised contextDir (`./ctx` is 5
  // characters, the normalised `ctx/src` loses 2 more)
  test('§8.7 contextDir ./ctx', () => {
    const [o, n] = contextsOf((I) => I.base('x').dockerfileCommands(['COPY src /d/'], './ctx'))
    assert.deepEqual(o, [{ sourcePath: 'ctx/src', archivePath: 'rc' }])
    assert.deepEqual(n, [{ sourcePath: 'ctx/src', archivePath: 'src' }])
  })

  // §8 item 7: string-prefix test: a source that merely starts with the contextDir text
  test('§8.7 contextDir ctx with a source ctxfile', () => {
    const [o, n] = contextsOf((I) => I.base('x').dockerfileCommands(['COPY ctxfile /d/'], 'ctx'))
    assert.deepEqual(o, [{ sourcePath: 'ctx/ctxfile', archivePath: 'ctx/ctxfile' }])
    assert.deepEqual(n, [{ sourcePath: 'ctx/ctxfile', archivePath: 'ctxfile' }])
  })

  // §8 item 7: an absolute source outside the Dockerfile's directory loses as many leading
  // characters as the prefix has (`ide/...` in the reference's layout)
  test('§8.7 absolute source outside the Dockerfile directory', () => {
    const source = `${T}/outside/secret.txt`
    const [o, n] = contextsOf(dockerfile(`FROM x\nCOPY ${source} /d/\n`))
    const prefix = `${T}/ctx/`
    assert.deepEqual(o, [{ sourcePath: source, archivePath: source.substring(prefix.length).replace(/^[/\\]+/, '') }])
    assert.notEqual(o[0].archivePath, source)
    // ours: Docker's rule, the path inside the context (nothing of the host is read)
    assert.deepEqual(n, [{ sourcePath: `${T}/ctx${source}`, archivePath: source.slice(1) }])
  })

  // §8 item 7: the same arithmetic with a relative contextDir and an absolute source (`p/...`)
  test('§8.7 relative contextDir with an absolute source', () => {
    const source = `${T}/ctx/a.txt`
    const [o, n] = contextsOf((I) => I.base('x').dockerfileCommands([`COPY ${source} /d/`], 'ctx'))
    assert.deepEqual(o, [{ sourcePath: source, archivePath: source.substring(3).replace(/^[/\\]+/, '') }])
    assert.deepEqual(n, [{ sourcePath: source, archivePath: source }])
  })

  // §8 items 7 and 8: a `..` source reads a file outside the context and gets a garbage
  // archive path; ours rejects it (nothing outside the context is read), in both modes
  test('§8.8 `..` source in a Dockerfile', () => {
    const [o, n] = both((I) => dockerfile('FROM x\nCOPY ../outside/secret.txt /d/\n')(I).contextList.map((c) => ({ ...c })))
    const sourcePath = `${T}/outside/secret.txt`
    assert.deepEqual(o.value, [{ sourcePath, archivePath: sourcePath.substring(`${T}/ctx/`.length) }])
    assert.ok(n.error instanceof Ours.DaytonaInvalidArgumentError)
    assert.equal(
      n.error.message,
      `COPY source ../outside/secret.txt is outside the build context ${T}/ctx: '..' cannot climb above the context directory ` +
        '(Docker resolves every COPY/ADD source inside it); move the file into the context or use a context directory that contains it',
    )
  })

  // §8 item 8: the same with dockerfileCommands and a relative contextDir
  test('§8.8 `..` source with contextDir ctx', () => {
    const [o, n] = both((I) => I.base('x').dockerfileCommands(['COPY ../top.txt /d/'], 'ctx').contextList.map((c) => ({ ...c })))
    assert.deepEqual(o.value, [{ sourcePath: 'top.txt', archivePath: '.txt' }])
    assert.ok(n.error instanceof Ours.DaytonaInvalidArgumentError)
    assert.match(n.error.message, new RegExp(`^COPY source \\.\\./top\\.txt is outside the build context ${T}/ctx: `))
  })

  // §8 item 9: `~` is expanded to validate a non-strict contextDir but not to resolve sources
  test('§8.9 ~ in a non-strict contextDir', () => {
    const [o, n] = contextsOf((I) => I.base('x').dockerfileCommands(['COPY a.txt /d/'], '~/ctx'))
    assert.deepEqual(o, [{ sourcePath: '~/ctx/a.txt', archivePath: 'a.txt' }])
    assert.deepEqual(n, [{ sourcePath: `${T}/ctx/a.txt`, archivePath: 'a.txt' }])
    // strict mode expands it in both
    const [os, ns] = contextsOf((I) => I.base('x').dockerfileCommands(['COPY a.txt /d/'], '~/ctx', { strictContext: true }))
    assert.deepEqual(os, n)
    assert.deepEqual(ns, n)
  })

  // §8 item 10: a whitespace-form glob becomes a shell-quote glob object and is dropped
  test('§8.10 whitespace-form glob (directories included)', () => {
    const [o, n] = contextsOf(dockerfile('FROM x\nCOPY assets/* /d/\n'))
    assert.deepEqual(o, [])
    assert.deepEqual(n, [
      { sourcePath: `${T}/ctx/assets/sub`, archivePath: 'assets/sub' },
      { sourcePath: `${T}/ctx/assets/x.png`, archivePath: 'assets/x.png' },
      { sourcePath: `${T}/ctx/assets/y.png`, archivePath: 'assets/y.png' },
    ])
  })

  // §8 item 10: a glob next to a literal source: only the literal survives
  test('§8.10 whitespace-form glob beside a literal', () => {
    const [o, n] = contextsOf((I) => I.base('x').dockerfileCommands(['COPY a.txt assets/*.png /d/'], 'ctx'))
    assert.deepEqual(o, [{ sourcePath: 'ctx/a.txt', archivePath: 'a.txt' }])
    assert.deepEqual(n, [
      { sourcePath: 'ctx/a.txt', archivePath: 'a.txt' },
      { sourcePath: 'ctx/assets/x.png', archivePath: 'assets/x.png' },
      { sourcePath: 'ctx/assets/y.png', archivePath: 'assets/y.png' },
    ])
  })

  // §8 item 10: a JSON-form glob goes through fast-glob with onlyFiles: subdirectories vanish
  test('§8.10 JSON-form glob drops directories', () => {
    const [o, n] = contextsOf(dockerfile('FROM x\nCOPY ["assets/*", "/d/"]\n'))
    const byPath = (a, b) => (a.sourcePath < b.sourcePath ? -1 : 1)
    assert.deepEqual([...o].sort(byPath), [
      { sourcePath: `${T}/ctx/assets/x.png`, archivePath: 'assets/x.png' },
      { sourcePath: `${T}/ctx/assets/y.png`, archivePath: 'assets/y.png' },
    ])
    assert.deepEqual(n, [
      { sourcePath: `${T}/ctx/assets/sub`, archivePath: 'assets/sub' },
      { sourcePath: `${T}/ctx/assets/x.png`, archivePath: 'assets/x.png' },
      { sourcePath: `${T}/ctx/assets/y.png`, archivePath: 'assets/y.png' },
    ])
  })

  // §8 item 10 (heredocs): lines of a heredoc body are read as instructions
  test('§8.10 heredoc body lines', () => {
    const [o, n] = contextsOf(dockerfile('FROM x\nRUN <<EOF\nCOPY b.txt /x\nEOF\nCOPY <<EOF /etc/conf\nhello\nEOF\n'))
    assert.deepEqual(o, [{ sourcePath: `${T}/ctx/b.txt`, archivePath: 'b.txt' }])
    assert.deepEqual(n, [])
  })

  // §8 item 10: `--from=` anywhere on the line skips it, not only as a leading flag
  test('§8.10 --from= later on the line', () => {
    const [o, n] = contextsOf(dockerfile('FROM x\nCOPY a.txt --from=x /d/\n'))
    assert.deepEqual(o, [])
    // Docker parses flags only before the first operand: `--from=x` is a (missing) source
    assert.deepEqual(n, [
      { sourcePath: `${T}/ctx/a.txt`, archivePath: 'a.txt' },
      { sourcePath: `${T}/ctx/--from=x`, archivePath: '--from=x' },
    ])
  })

  // §8 item 10: `$VAR` expands to '' (shell-quote has no variables); ours uses the
  // Dockerfile's ENV/ARG values as Docker does
  test('§8.10 $VAR in a source', () => {
    const [o, n] = contextsOf(dockerfile('FROM x\nENV SRC=a.txt\nCOPY $SRC /d/\n'))
    assert.deepEqual(o, [{ sourcePath: `${T}/ctx/`, archivePath: '' }]) // the whole directory
    assert.deepEqual(n, [{ sourcePath: `${T}/ctx/a.txt`, archivePath: 'a.txt' }])
  })

  // §8 item 10: ADD sources are never read
  test('§8.10 ADD', () => {
    const [o, n] = contextsOf(dockerfile('FROM x\nADD a.txt https://example.com/x.tgz /d/\n'))
    assert.deepEqual(o, [])
    assert.deepEqual(n, [{ sourcePath: `${T}/ctx/a.txt`, archivePath: 'a.txt' }])
  })

  test('the Dockerfile text is identical in every deviation above', () => {
    for (const f of [
      (I) => I.base('x').dockerfileCommands(['COPY src /d/'], './ctx'),
      (I) => I.base('x').dockerfileCommands(['COPY a.txt /d/'], '~/ctx'),
      dockerfile('FROM x\nRUN <<EOF\nCOPY b.txt /x\nEOF\nADD a.txt /d/\nCOPY assets/* $SRC /d/\n'),
    ]) {
      const [o, n] = both((I) => f(I).dockerfile)
      assert.equal(n.value, o.value)
    }
  })
})
