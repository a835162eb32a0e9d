// image.plan(): the context engine as users call it (keys, .dockerignore, warnings, errors).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Image, DaytonaNotFoundError } = require('../index.js')

function tree(files) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-plan-'))
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(root, name)
    fs.mkdirSync(path.dirname(p), { recursive: true })
    if (content !== null) fs.writeFileSync(p, content)
  }
  return root
}

async function planOf(dir, options, addOptions) {
  return Image.base('busybox').addLocalDir(dir, '/app', addOptions).plan(options)
}

test('plan lists contexts with keys, counts and the cache key, and touches nothing', async () => {
  const dir = tree({ 'a.txt': 'hello', 'sub/b.txt': 'world!' })
  const file = path.join(dir, 'a.txt')
  const image = Image.debianSlim('3.12').addLocalDir(dir, '/app').addLocalFile(file, '/a.txt').addLocalFile(file, '/again.txt')
  const plan = await image.plan()
  assert.equal(plan.dockerfile, image.dockerfile)
  // Identical (source, archive) pairs are planned once.
  assert.equal(plan.contexts.length, 2)
  assert.deepEqual(plan.contexts.map((c) => [c.sourcePath, c.archivePath, c.files, c.bytes]), [
    [dir, dir, 2, 11],
    [file, file, 1, 5],
  ])
  for (const c of plan.contexts) assert.match(c.key, /^[0-9a-f]{64}$/)
  assert.match(plan.cacheKey, /^daytona-[0-9a-f]{64}$/)
  assert.deepEqual(plan.warnings, [])
  // Deterministic, and the Dockerfile is part of the cache key but not of context keys.
  const again = await image.plan()
  assert.deepEqual(again, plan)
  const other = await Image.base('x').addLocalDir(dir, '/app').plan()
  assert.equal(other.contexts[0].key, plan.contexts[0].key)
  assert.notEqual(other.cacheKey, plan.cacheKey)
})

test('content, names, modes and symlink targets change the key; touch does not', async () => {
  const dir = tree({ 'a.txt': 'one', 'link-target': 'x' })
  fs.symlinkSync('a.txt', path.join(dir, 'link'))
  const key = async () => (await planOf(dir)).contexts[0].key
  const k0 = await key()
  const past = new Date(Date.now() - 3600_000)
  fs.utimesSync(path.join(dir, 'a.txt'), past, past)
  assert.equal(await key(), k0, 'mtime is not part of the key')
  fs.chmodSync(path.join(dir, 'a.txt'), 0o755)
  const k1 = await key()
  assert.notEqual(k1, k0, 'chmod +x changes the key')
  fs.unlinkSync(path.join(dir, 'link'))
  fs.symlinkSync('link-target', path.join(dir, 'link'))
  const k2 = await key()
  assert.notEqual(k2, k1, 'retargeting a symlink changes the key')
  fs.renameSync(path.join(dir, 'a.txt'), path.join(dir, 'b.txt'))
  assert.notEqual(await key(), k2, 'renaming changes the key')
})

test('no collision by concatenation: {a:"bc"} and {ab:"c"} differ', async () => {
  const one = tree({ a: 'bc' })
  const two = tree({ ab: 'c' })
  assert.notEqual((await planOf(one)).contexts[0].key, (await planOf(two)).contexts[0].key)
})

test('the same tree in two places has the same key when archive paths are relative', async () => {
  const a = tree({ 'src/x.py': 'print(1)', 'src/y/z.txt': 'z' })
  const b = tree({ 'src/x.py': 'print(1)', 'src/y/z.txt': 'z' })
  const keyIn = async (root) => {
    const cwd = process.cwd()
    process.chdir(root)
    try {
      return (await Image.base('x').dockerfileCommands(['COPY src /src'], '.').plan()).contexts[0]
    } finally {
      process.chdir(cwd)
    }
  }
  const ka = await keyIn(a)
  const kb = await keyIn(b)
  assert.equal(ka.archivePath, 'src')
  assert.equal(ka.key, kb.key)
})

test('.dockerignore is honoured like docker build, and addLocalDir can turn it off', async () => {
  const dir = tree({
    '.dockerignore': '# build output\n*.log\n!keep.log\nbuild/\n**/*.tmp\n',
    'app.py': 'x',
    'debug.log': 'noise',
    'keep.log': 'keep',
    'build/out.bin': 'bin',
    'deep/er/x.tmp': 'tmp',
    'deep/er/y.txt': 'y',
  })
  const ignored = await planOf(dir)
  // .dockerignore, app.py, keep.log, deep/er/y.txt
  assert.equal(ignored.contexts[0].files, 4)
  const off = await planOf(dir, undefined, { dockerignore: false })
  assert.equal(off.contexts[0].files, 7)
  assert.notEqual(off.contexts[0].key, ignored.contexts[0].key)
  const globalOff = await planOf(dir, { dockerignore: false })
  assert.equal(globalOff.contexts[0].key, off.contexts[0].key)
})

test('plan warns about big contexts and unignored node_modules/.git/__pycache__', async () => {
  const dir = tree({ 'node_modules/x/index.js': 'x'.repeat(2000), '.git/HEAD': 'ref', 'src/__pycache__/a.pyc': 'c', 'ok.txt': 'ok' })
  const plan = await planOf(dir, { warnBytes: 1000 })
  const text = plan.warnings.join('\n')
  assert.match(text, /node_modules/)
  assert.match(text, /\.git/)
  assert.match(text, /__pycache__/)
  assert.match(text, /dockerignore/)
  assert.equal(plan.warnings.filter((w) => w.includes('node_modules')).length, 1, 'one warning per directory, not per file')
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n.git\n**/__pycache__\n')
  const clean = await planOf(dir)
  assert.deepEqual(clean.warnings, [])
})

test('a missing COPY source is a DaytonaNotFoundError naming it, before anything is built', async () => {
  const dir = tree({ 'a.txt': 'a' })
  const image = Image.base('x').dockerfileCommands(['COPY missing.txt /x'], dir)
  await assert.rejects(image.plan(), (e) => {
    assert.ok(e instanceof DaytonaNotFoundError)
    assert.match(e.message, /missing\.txt/)
    return true
  })
})
