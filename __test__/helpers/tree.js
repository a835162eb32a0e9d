'use strict'
// A temporary file tree that both SDKs read: files, directories, symlinks (inside, outside,
// dangling), requirements and pyproject.toml variants. `enter()` makes it the working directory
// and $HOME (so `~` and `~+` paths resolve into it); `leave()` restores both and deletes it.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const PYPROJECTS = {
  // valid, with optional groups
  'valid.toml': `[project]
name = "demo"
dependencies = ["requests>=2.0", "numpy", "Zeta", "pkg[extra]", "it's", "a b"]

[project.optional-dependencies]
dev = ["pytest", "black==24.1"]
test = ["coverage"]
empty = []
notarray = "x"
`,
  'tricky.toml': `[project]
dependencies = ['C:\\x', "say \\"hi\\"", "~/x", "a$b", "", "é", "🚀", "\\uff01", "new\\nline"]
optional-dependencies = { extra = ["x=1", "#c"] }
`,
  'nodeps.toml': '[project]\nname = "x"\n',
  'noproject.toml': '[tool.other]\nx = 1\n',
  'empty.toml': '',
  'depsstr.toml': '[project]\ndependencies = "numpy"\n',
  'depstable.toml': '[project.dependencies]\nnumpy = "1"\n',
  'projectstr.toml': 'project = "x"\n',
  'optarr.toml': '[project]\ndependencies = ["a"]\noptional-dependencies = ["dev"]\n',
  'optstr.toml': '[project]\ndependencies = ["a"]\noptional-dependencies = "dev"\n',
  'optemptystr.toml': '[project]\ndependencies = ["a"]\noptional-dependencies = ""\n',
  'optfalse.toml': '[project]\ndependencies = ["a"]\noptional-dependencies = false\n',
  'opttrue.toml': '[project]\ndependencies = ["a"]\noptional-dependencies = true\n',
  'optzero.toml': '[project]\ndependencies = ["a"]\noptional-dependencies = 0\n',
  'optnum.toml': '[project]\ndependencies = ["a"]\noptional-dependencies = 1.5\n',
  'optdate.toml': '[project]\ndependencies = ["a"]\noptional-dependencies = 1979-05-27\n',
  'nonstr.toml': '[project]\ndependencies = [1, 2]\n',
  'nonstropt.toml': '[project]\ndependencies = ["a"]\n[project.optional-dependencies]\ndev = [true]\n',
  'nested.toml': '[project]\ndependencies = [["b", "a"], ["c"]]\n',
  'emptydeps.toml': '[project]\ndependencies = []\n[project.optional-dependencies]\ndev = ["x"]\n',
  'multiline.toml': '[project]\ndependencies = [\n  "b",\n  "a", # comment\n]\n',
  // parser errors: class and message prefix are compared, the parser's own text is not
  'mixed.toml': '[project]\ndependencies = ["a", 1]\n',
  'mixedopt.toml': '[project]\ndependencies = ["a"]\n[project.optional-dependencies]\ndev = ["x", ["y"]]\n',
  'bad.toml': '[project\ndependencies = ["a"]\n',
  'dupkey.toml': '[project]\ndependencies = ["a"]\ndependencies = ["b"]\n',
  'bom.toml': '\uFEFF[project]\ndependencies = ["a"]\n',
}

function write(p, content) {
  fs.mkdirSync(path.dirname(p), { recursive: true })
  fs.writeFileSync(p, content)
}

function createTree() {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'daytona-image-test-')))
  const at = (...p) => path.join(root, ...p)
  write(at('req.txt'), 'numpy\n')
  write(at('top.txt'), 'top\n')
  write(at('sp ace.txt'), 'x')
  write(at('back\\slash.txt'), 'x')
  write(at('é ü.txt'), 'x')
  write(at('file.txt'), 'x')
  fs.mkdirSync(at('emptydir'))
  write(at('ctxdata', 'f.txt'), 'x')
  write(at('outside', 'secret.txt'), 'secret')
  fs.symlinkSync('req.txt', at('link-req'))
  fs.symlinkSync('nowhere', at('dangling-top'))
  fs.symlinkSync('ctx', at('ctxlink'))
  for (const [name, text] of Object.entries(PYPROJECTS)) write(at('py', name), text)

  write(at('ctx', 'a.txt'), 'a')
  write(at('ctx', 'b.txt'), 'b')
  write(at('ctx', '.hidden'), 'h')
  write(at('ctx', 'ctxfile'), 'c')
  write(at('ctx', 'with space.txt'), 'w')
  write(at('ctx', 'é ü.txt'), 'u')
  write(at('ctx', 'src', 'main.py'), 'print(1)\n')
  write(at('ctx', 'src', 'sub', 'x.py'), 'x = 1\n')
  write(at('ctx', 'assets', 'x.png'), 'x')
  write(at('ctx', 'assets', 'y.png'), 'y')
  write(at('ctx', 'assets', 'sub', 'z.png'), 'z')
  write(at('ctx', 'Dockerfile'), 'FROM scratch\n')
  fs.mkdirSync(at('ctx', 'dfdir'))
  fs.symlinkSync('a.txt', at('ctx', 'link-to-a'))
  fs.symlinkSync('src', at('ctx', 'link-dir'))
  fs.symlinkSync('nope', at('ctx', 'dangling'))
  fs.symlinkSync('../outside/secret.txt', at('ctx', 'out-link'))
  fs.symlinkSync('../outside', at('ctx', 'out-dirlink'))

  let saved = null
  return {
    root,
    at,
    /** Makes the tree the working directory and $HOME. */
    enter() {
      saved = { cwd: process.cwd(), home: process.env.HOME }
      process.chdir(root)
      process.env.HOME = root
    },
    /** Restores the working directory and $HOME, then deletes the tree. */
    leave() {
      if (saved) {
        process.chdir(saved.cwd)
        if (saved.home === undefined) delete process.env.HOME
        else process.env.HOME = saved.home
        saved = null
      }
      fs.rmSync(root, { recursive: true, force: true })
    },
  }
}

module.exports = { createTree, PYPROJECTS }
