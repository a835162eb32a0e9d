// Drives the agent with the official SDK 0.218 classes (Process, PtyHandle, CodeInterpreter)
// over HTTP on a local TCP port whose connections are each carried by `relay` (as the local client
// does over docker exec). Manual check, not run by cargo test:
//   node crates/agent/tests/sdk_check.js target/debug/daytona-native-agent
// (needs the repo's node_modules and python3 on the host; NODE_MODULES overrides the path).
const path = require('path');
const assert = require('assert/strict');
const M = (process.env.NODE_MODULES || path.join(__dirname, '../../../node_modules')) + '/';
const net = require('net');
const { spawn } = require('child_process');
const { Process } = require(M + '@daytonaio/sdk/cjs/Process.js');
const { CodeInterpreter } = require(M + '@daytonaio/sdk/cjs/CodeInterpreter.js');
const { ProcessApi, InterpreterApi, Configuration } = require(M + '@daytona/toolbox-api-client');
const axios = require(M + 'axios');

const sock = 'dna-sdk-' + process.pid;
const agent = spawn(process.argv[2], ['serve', '--', 'sh', '-c', 'echo entry-out; echo entry-err >&2'], { env: { ...process.env, DAYTONA_AGENT_SOCKET: sock }, stdio: 'inherit' });
// Each TCP connection is carried by a `relay` process, as the local client will do via docker exec.
const server = net.createServer((c) => {
  const r = spawn(process.argv[2], ['relay'], { env: { ...process.env, DAYTONA_AGENT_SOCKET: sock }, stdio: ['pipe', 'pipe', 'inherit'] });
  c.pipe(r.stdin); r.stdout.pipe(c);
  r.on('exit', () => c.end()); c.on('error', () => r.kill()); r.stdin.on('error', () => {});
});

async function main() {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await new Promise((r) => setTimeout(r, 300));
  const basePath = `http://127.0.0.1:${server.address().port}`;
  const cfg = new Configuration({ basePath, baseOptions: { headers: { 'X-Daytona-SDK-Version': '0.218.0' } } });
  const ax = axios.create();
  const proc = new Process(cfg, new ProcessApi(cfg, basePath, ax), async () => '', 'python');
  const ci = new CodeInterpreter(cfg, new InterpreterApi(cfg, basePath, ax), async () => '');

  const ex = await proc.executeCommand('echo hi; echo err >&2; exit 2');
  assert.deepEqual(ex, { exitCode: 2, result: 'hi\nerr\n', artifacts: { stdout: 'hi\nerr\n' } });
  const cr = await proc.codeRun('import sys; print("py", sys.argv[1:])', { argv: ['x'] });
  assert.deepEqual(cr, { exitCode: 0, result: "py ['x']\n", artifacts: { stdout: "py ['x']\n", charts: [] } });
  await proc.createSession('s');
  const c1 = await proc.executeSessionCommand('s', { command: 'export FOO=BAR' });
  const c2 = await proc.executeSessionCommand('s', { command: 'echo $FOO; echo e >&2' });
  assert.deepEqual([c1.exitCode, c2.stdout, c2.stderr], [0, 'BAR\n', 'e\n']);
  const a = await proc.executeSessionCommand('s', { command: 'printf "name?\\n"; read n; echo "Hello, $n"; i=1; while [ $i -le 3 ]; do echo "Count $i"; i=$((i+1)); done; nonexistent-cmd', runAsync: true });
  await proc.sendSessionCommandInput('s', a.cmdId, 'Alice');
  let so = '', se = '';
  await proc.getSessionCommandLogs('s', a.cmdId, (o) => (so += o), (e) => (se += e));
  assert.equal(so, 'name?\nAlice\nHello, Alice\nCount 1\nCount 2\nCount 3\n');
  assert.match(se, /nonexistent-cmd: .*not found/);
  assert.equal((await proc.getSessionCommand('s', a.cmdId)).exitCode, 127);
  const ep = await proc.getEntrypointSession();
  assert.equal(ep.commands[0].exitCode, 0);
  const el = await proc.getEntrypointLogs();
  assert.deepEqual([el.stdout, el.stderr], ['entry-out\n', 'entry-err\n']);
  await assert.rejects(proc.getSession('nope'), (e) => e.response?.status === 404 && e.response.data.message === 'session not found');
  await proc.deleteSession('s');

  let out = '';
  const pty = await proc.createPty({ id: 'p', cols: 100, rows: 30, envs: { PV: 'pty-env' }, onData: (d) => (out += Buffer.from(d).toString()) });
  await pty.sendInput('echo "[$PV]"; stty size\n');
  while (!out.includes('30 100')) await new Promise((r) => setTimeout(r, 50));
  assert.equal((await pty.resize(120, 40)).cols, 120);
  assert.deepEqual((await proc.listPtySessions()).map((s) => s.id), ['p']);
  await pty.sendInput('stty size; exit 4\n');
  assert.deepEqual(await pty.wait(), { exitCode: 4, error: undefined });
  assert.ok(out.includes('[pty-env]') && out.includes('30 100') && out.includes('40 120'), out);

  const r1 = await ci.runCode('counter = 1\nprint(f"init {counter}")');
  const r2 = await ci.runCode('counter += 1\nprint(f"now {counter}")');
  assert.deepEqual([r1.stdout, r2.stdout], ['init 1\n', 'now 2\n']);
  const ctx = await ci.createContext();
  const r3 = await ci.runCode('print(counter)', { context: ctx });
  assert.equal(r3.error?.name, 'NameError');
  assert.equal((await ci.listContexts()).length, 1);
  await ci.deleteContext(ctx);
  await assert.rejects(ci.runCode('import time\nprint("start")\ntime.sleep(5)', { timeout: 1 }), (e) => e.constructor.name === 'DaytonaTimeoutError');
  assert.equal((await ci.runCode('print(counter)')).stdout, '2\n');
  console.log('sdk_check: all passed');
}
main().catch((e) => { console.error('FAILED', e); process.exitCode = 1; }).finally(() => { agent.kill('SIGTERM'); server.close(); });
