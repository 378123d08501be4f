// Hostile code, resource abuse: each case tries to exhaust or crash the sandbox, then checks the
// answer the user gets, that a plain run still works, and that no container is left beyond the pool.
// docs/SECURITY.md has one row per case (the ids R1...).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { availableEngines } from '../support/engines.ts';
import { CASE, startHostileDaemon, type HostileDaemon } from '../support/hostile.ts';

const engines = await availableEngines({ bwrap: true });

for (const engine of engines) {
  describe(`hostile resources on ${engine.name}`, () => {
    let h: HostileDaemon;
    const run = (code: string, extra: Record<string, unknown> = {}) => h.run(code, extra);

    before(async () => {
      h = await startHostileDaemon(engine);
    });
    after(async () => {
      await h?.dispose();
    });

    test('R1 fork bomb: the pids limit holds and the timeout ends it', CASE, async () => {
      const r = await run('import os\nprint("forking", flush=True)\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass', { timeout: 5 });
      assert.equal(r.status, 'timeout', JSON.stringify(r));
      assert.match(r.error!.message, /ran past its 5 s timeout; the sandbox was killed/);
      await h.recovered();
    });

    test('R2 memory bomb: the memory limit kills it and the run says out of memory', CASE, async () => {
      const r = await run('chunks = []\nwhile True:\n    chunks.append(b"x" * 10_000_000)', { timeout: 60 });
      assert.equal(r.status, 'error', JSON.stringify(r));
      if (r.error?.type === 'OutOfMemory') assert.match(r.error.message, /ran out of memory and was killed \(raise MCP_BRIDGE_MEMORY/);
      else {
        // Podman on cgroup v1 does not report the OOM kill; the run says what it can see.
        assert.equal(engine.name, 'podman', JSON.stringify(r));
        assert.match(r.error!.message, /^the sandbox exited with code 137 \(killed by SIGKILL: the memory limit or a kill\)/);
      }
      await h.recovered();
    });

    test('R3 CPU spin in threads and processes past the timeout is killed', CASE, async () => {
      const code = [
        'import multiprocessing, threading',
        'def spin():',
        '    while True: pass',
        'for _ in range(4): threading.Thread(target=spin, daemon=True).start()',
        'for _ in range(4): multiprocessing.Process(target=spin, daemon=True).start()',
        'print("spinning", flush=True)',
        'spin()',
      ].join('\n');
      const started = Date.now();
      const r = await run(code, { timeout: 3 });
      assert.equal(r.status, 'timeout', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['spinning']);
      assert.ok(Date.now() - started < 60_000, 'answered long before a minute');
      await h.recovered();
    });

    test('R4 a flood of output on both streams is capped, counted and marked', CASE, async () => {
      const code = 'import sys\nline = "y" * 1023 + "\\n"\nfor _ in range(100 * 1024):\n    sys.stdout.write(line)\n    sys.stderr.write(line)';
      const r = await run(code, { timeout: 120 });
      assert.equal(r.status, 'success', r.summary);
      assert.equal(r.truncated?.limitBytes, 4096);
      assert.ok(r.truncated!.stdoutBytesDropped >= 100 * 1024 * 1024 - 4096, `stdout dropped ${r.truncated!.stdoutBytesDropped}`);
      assert.ok(r.truncated!.stderrBytesDropped >= 100 * 1024 * 1024 - 4096, `stderr dropped ${r.truncated!.stderrBytesDropped}`);
      for (const stream of [r.stdout, r.stderr]) {
        assert.match(stream.at(-1)!, /^\[output truncated: \d+ more bytes not shown\]$/);
        assert.ok(stream.slice(0, -1).join('\n').length <= 4096);
      }
      await h.recovered();
    });

    test('R5 one 100 MB line without a newline is cut to the cap', CASE, async () => {
      const r = await run('import sys\nsys.stdout.write("z" * 100_000_000)\nprint("end", file=sys.stderr)', { timeout: 60 });
      assert.equal(r.status, 'success', r.summary);
      assert.equal(r.stdout.length, 2);
      assert.equal(r.stdout[0], 'z'.repeat(4096));
      assert.equal(r.stdout[1], `[output truncated: ${100_000_000 - 4096} more bytes not shown]`);
      assert.deepEqual(r.stderr, ['end']);
      await h.recovered();
    });

    test('R6 unbounded recursion is a RecursionError with its traceback', CASE, async () => {
      const r = await run('def f(n):\n    return f(n + 1)\nf(0)');
      assert.equal(r.status, 'error');
      assert.equal(r.error?.type, 'RecursionError');
      assert.match(r.error!.traceback!, /Previous line repeated \d+ more times/);
      await h.recovered();
    });

    test('R7 recursion past the C stack (limit raised) crashes only the sandbox', CASE, async () => {
      const r = await run('import sys\nsys.setrecursionlimit(10**7)\nnested = []\nfor _ in range(10**6):\n    nested = [nested]\nprint(repr(nested)[:5])', { timeout: 60 });
      assert.equal(r.status, 'error', JSON.stringify(r));
      assert.equal(r.error?.type, 'SandboxExited');
      assert.match(r.error!.message, /^the sandbox exited with code 139 \(killed by SIGSEGV\) before the code finished/);
      await h.recovered();
    });

    test('R21 a RecursionError a million frames deep (limit raised) is reported, its traceback cut to both ends', CASE, async () => {
      // Python 3.11 keeps plain Python calls off the C stack, so this depth is reached (unlike R7's
      // repr). Formatting every frame took ~20 s, past the timeout; unwinding them takes Python a few.
      const code = [
        'import sys',
        'sys.setrecursionlimit(10**6 + 100)',
        'def f(n):',
        '    return f(n + 1) if n < 10**6 else g()',
        'def g():',
        '    raise RecursionError("deep")',
        'f(0)',
      ].join('\n');
      const r = await run(code, { timeout: 20 });
      assert.equal(r.status, 'error', JSON.stringify(r).slice(0, 2000));
      assert.equal(r.error?.type, 'RecursionError');
      const traceback = r.error!.traceback!;
      assert.match(traceback, /^Traceback \(most recent call last\):\n {2}File "<run_python>", line 7, in <module>\n/, 'the first frame is kept');
      assert.match(traceback, /\n {2}\[\.\.\. 999983 frames left out \.\.\.\]\n/);
      assert.match(traceback, /line 6, in g\n {4}raise RecursionError\("deep"\)\nRecursionError: deep\n$/, 'the last frame is kept');
      assert.ok(traceback.length < 10_000, `${traceback.length} characters`);
      await h.recovered();
    });

    test('R8 threads that outlive the code do not hold the run open', CASE, async () => {
      const code = 'import threading, time\nthreading.Thread(target=lambda: time.sleep(1000)).start()\nthreading.Thread(target=lambda: [None for _ in iter(int, 1)]).start()\nprint("main done")';
      const r = await run(code, { timeout: 30 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['main done']);
      await h.recovered();
    });

    test('R9 background processes that outlive the code die with the sandbox', CASE, async () => {
      const code = [
        'import os, subprocess, time',
        'subprocess.Popen(["sleep", "1000"])',
        'if os.fork() == 0:',
        '    os.setsid()',
        '    if os.fork() == 0:',
        '        while True:',
        '            print("orphan", flush=True)',
        '            time.sleep(0.01)',
        '    os._exit(0)',
        'time.sleep(0.2)',
        'print("parent done")',
      ].join('\n');
      const r = await run(code, { timeout: 30 });
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.ok(r.stdout.includes('parent done'), JSON.stringify(r.stdout));
      // The engine settles to the warm pool: the container holding the daemonised process is gone.
      await h.recovered();
    });

    test('R10 a sleep past the timeout is cut at the timeout', CASE, async () => {
      const r = await run('import time\nprint("sleeping", flush=True)\ntime.sleep(600)', { timeout: 2 });
      assert.equal(r.status, 'timeout');
      assert.equal(r.summary, 'Timed out after 2 s');
      assert.deepEqual(r.stdout, ['sleeping']);
      await h.recovered();
    });

    test('R11 os._exit(5) ends the sandbox and the run says so, with the exit code and the output written just before', CASE, async () => {
      const r = await run('import os\nprint("bye")\nos.write(2, b"last words")\nos._exit(5)');
      assert.equal(r.status, 'error');
      assert.equal(r.error?.type, 'SandboxExited');
      assert.match(r.error!.message, /^the sandbox exited with code 5 before the code finished/);
      assert.deepEqual(r.stdout, ['bye']);
      assert.deepEqual(r.stderr, ['last words']);
      await h.recovered();
    });

    test('R12 SIGKILL to itself ends the sandbox, reported as killed by SIGKILL', CASE, async () => {
      const r = await run('import os, signal\nos.kill(os.getpid(), signal.SIGKILL)');
      assert.equal(r.error?.type, 'SandboxExited', JSON.stringify(r));
      assert.match(r.error!.message, /with code 137 \(killed by SIGKILL: the memory limit or a kill\)/);
      await h.recovered();
    });

    test('R13 a segfault (ctypes) ends the sandbox, reported as SIGSEGV', CASE, async () => {
      const r = await run('import ctypes\nctypes.string_at(0)');
      assert.equal(r.error?.type, 'SandboxExited', JSON.stringify(r));
      assert.match(r.error!.message, /with code 139 \(killed by SIGSEGV\)/);
      await h.recovered();
    });

    test('R14 SIGSTOP to itself freezes the code; the timeout still ends it', CASE, async () => {
      const r = await run('import os, signal, time\nprint("stopping", flush=True)\ntime.sleep(0.3)\nos.kill(os.getpid(), signal.SIGSTOP)', { timeout: 3 });
      assert.equal(r.status, 'timeout', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['stopping']);
      await h.recovered();
    });

    test('R15 SIGINT to itself is a KeyboardInterrupt, an ordinary error', CASE, async () => {
      const r = await run('import os, signal, time\nos.kill(os.getpid(), signal.SIGINT)\ntime.sleep(5)');
      assert.equal(r.status, 'error');
      assert.equal(r.error?.type, 'KeyboardInterrupt');
      assert.equal(r.exitCode, 1);
      await h.recovered();
    });

    test('R16 filling the tmpfs stops at its size with ENOSPC', CASE, async () => {
      const r = await run('f = open("/tmp/fill", "wb")\nwhile True:\n    f.write(b"x" * 1048576)');
      assert.equal(r.status, 'error');
      assert.equal(r.error?.type, 'OSError');
      assert.match(r.error!.message, /\[Errno 28\] No space left on device/);
      await h.recovered();
    });

    test('R17 using up every file descriptor still lets the run finish and answer', CASE, async () => {
      const code = 'import os\nheld = []\ntry:\n    while True:\n        held.append(os.open("/dev/null", os.O_RDONLY))\nexcept OSError as e:\n    print("errno", e.errno, len(held) > 900)';
      const r = await run(code);
      assert.equal(r.status, 'success', JSON.stringify(r));
      assert.deepEqual(r.stdout, ['errno 24 True']);
      await h.recovered();
    });

    test('R18 a terabyte allocation is a MemoryError, not a crash', CASE, async () => {
      const r = await run('b = bytearray(2**40)');
      assert.equal(r.status, 'error');
      assert.equal(r.error?.type, 'MemoryError');
      await h.recovered();
    });

    test('R19 reading stdin finds nothing (EOFError), it never reaches the protocol', CASE, async () => {
      const r = await run('import sys\nprint(repr(sys.stdin.read()))\ninput()');
      assert.equal(r.status, 'error');
      assert.deepEqual(r.stdout, ["''"]);
      assert.equal(r.error?.type, 'EOFError');
      await h.recovered();
    });

    test('R20 closing every fd, the protocol channel too, ends the sandbox with a clear error', CASE, async () => {
      const r = await run('import os\nos.closerange(0, 65536)\nprint("not seen")', { timeout: 30 });
      // The agent loses its channel, ends its process when the code is done, and the run says so.
      assert.equal(r.status, 'error', JSON.stringify(r));
      assert.equal(r.error?.type, 'SandboxExited');
      assert.match(r.error!.message, /^the sandbox exited with code 0 before the code finished \(.*closed the agent's own file descriptors\)/);
      await h.recovered();
    });
  });
}
