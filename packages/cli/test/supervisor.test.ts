import { spawn } from 'node:child_process';
import path from 'node:path';
import { eventually, truthy, processAlive } from '@banyan/testing';
import { Supervisor, type ChildSpec, type SupervisorOptions } from '../src/dev/supervisor';

/**
 * `banyan start`'s supervisor with real child processes (small node scripts), killed and
 * crashing for real. Every test stops what it started; every wait is bounded.
 */
const node = (name: string, script: string): ChildSpec => ({ name, command: process.execPath, args: ['-e', script], env: { PATH: process.env.PATH } });
const FOREVER = `console.log('up ' + process.pid); setInterval(() => {}, 1000);`;

function supervisorOf(specs: ChildSpec[], overrides: Partial<SupervisorOptions> = {}) {
  const lines: string[] = [];
  const supervisor = new Supervisor(specs, {
    restartLimit: 3,
    windowMs: 10_000,
    backoff: { initialMs: 100, maxMs: 1_000 },
    stopGraceMs: 3_000,
    write: (_stream, line) => lines.push(line),
    ...overrides,
  });
  return { supervisor, lines };
}


describe("banyan start's supervisor", () => {
  test('When a child is killed with SIGKILL, then it is restarted after a backoff that is logged with the signal, and its output keeps its prefix', async () => {
    const { supervisor, lines } = supervisorOf([node('worker', FOREVER)]);
    supervisor.start();
    try {
      const first = await eventually(() => lines.some((l) => l.startsWith('[worker] up ')) && supervisor.pid('worker'), { what: 'the worker is up', until: truthy, timeoutMs: 10_000 });

      process.kill(first, 'SIGKILL');

      const second = await eventually(
        () => {
          const pid = supervisor.pid('worker');
          return pid !== first && lines.includes(`[worker] up ${pid}`) && pid;
        },
        { what: 'a new worker is up', until: truthy, timeoutMs: 10_000 },
      );
      expect(second).not.toBe(first);
      expect(processAlive(first)).toBe(false);
      expect(lines).toContain(`[banyan] worker (pid ${first}) was killed by SIGKILL; restarting it in 0.1 s (restart 1 of 3 allowed within 10 s)`);
      expect(lines).toContain(`[banyan] worker started (pid ${second})`);
    } finally {
      await supervisor.stop({ code: 0, reason: 'test over' });
    }
  });

  test('When a child keeps exiting, then backoff doubles, and past the limit the supervisor stops every process and ends non-zero naming it', async () => {
    const { supervisor, lines } = supervisorOf([node('steady', FOREVER), node('crasher', `console.error('bad config'); process.exit(3);`)]);
    supervisor.start();
    const steady = await eventually(() => supervisor.pid('steady'), { what: 'the steady child is up', until: truthy, timeoutMs: 10_000 });

    const outcome = await supervisor.done;

    expect(outcome).toEqual({ code: 1, reason: 'crasher is crash-looping: it ended 4 times within 10 s (the last time it exited with code 3)' });
    const restarts = lines.filter((l) => l.startsWith('[banyan] crasher') && l.includes('restarting it in')).map((l) => /in ([\d.]+ s)/.exec(l)![1]);
    expect(restarts).toEqual(['0.1 s', '0.2 s', '0.4 s']);
    expect(lines.filter((l) => l === '[crasher] bad config')).toHaveLength(4);
    // The healthy one was stopped with it, not left behind.
    expect(processAlive(steady)).toBe(false);
    expect(lines).toContain(`[banyan] steady (pid ${steady}) was killed by SIGTERM`);
  });

  test('When a child is stopped on purpose (kill <pid>: SIGTERM and its graceful exit 0), then it stays stopped and the others keep running', async () => {
    const graceful = `process.on('SIGTERM', () => { console.log('shutting down'); process.exit(0); }); ${FOREVER}`;
    const { supervisor, lines } = supervisorOf([node('steady', FOREVER), node('service', graceful)]);
    supervisor.start();
    try {
      const service = await eventually(() => lines.includes(`[service] up ${supervisor.pid('service')}`) && supervisor.pid('service'), { what: 'the service is up', until: truthy, timeoutMs: 10_000 });

      process.kill(service, 'SIGTERM');

      await eventually(() => lines.some((l) => l.startsWith(`[banyan] service (pid ${service}) exited with code 0`)), { what: 'the stop is logged', until: truthy, timeoutMs: 10_000 });
      expect(lines).toContain(`[banyan] service (pid ${service}) exited with code 0: stopped on purpose, so not restarted (the others keep running; restart npm start to bring it back)`);
      // Given time to come back (the first backoff is 0.1 s here), it does not.
      await new Promise((r) => setTimeout(r, 500));
      expect(supervisor.pid('service')).toBeUndefined();
      expect(lines.filter((l) => l.startsWith('[banyan] service started'))).toHaveLength(1);
      expect(supervisor.pid('steady')).toBeDefined();
    } finally {
      await supervisor.stop({ code: 0, reason: 'test over' });
    }
  });

  test("When the supervisor stops, then each child's whole process group ends: what a child started, and a child that ignores SIGTERM once the grace period is over", async () => {
    const parent = `
      const { spawn } = require('node:child_process');
      const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log('grandchild ' + grandchild.pid);
      setInterval(() => {}, 1000);`;
    const stubborn = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000);`;
    const { supervisor, lines } = supervisorOf([node('parent', parent), node('stubborn', stubborn)], { stopGraceMs: 1_000 });
    supervisor.start();
    const grandchild = Number(await eventually(() => lines.find((l) => l.startsWith('[parent] grandchild '))?.split(' ')[2], { what: 'the grandchild started', until: truthy, timeoutMs: 10_000 }));
    await eventually(() => lines.includes('[stubborn] up'), { what: 'the stubborn child is up', until: truthy, timeoutMs: 10_000 });
    const stubbornPid = supervisor.pid('stubborn')!;

    const outcome = await supervisor.stop({ code: 0, reason: 'Ctrl-C' });

    expect(outcome).toEqual({ code: 0, reason: 'Ctrl-C' });
    await eventually(() => !processAlive(grandchild), { what: 'the grandchild is gone', until: truthy, timeoutMs: 5_000 });
    expect(processAlive(stubbornPid)).toBe(false);
    expect(lines).toContain('[stubborn] ignoring SIGTERM');
    expect(lines).toContain('[banyan] still running after 1 s: stubborn; killing them');
    expect(lines).toContain(`[banyan] stubborn (pid ${stubbornPid}) was killed by SIGKILL`);
  });

  test('When the supervisor itself is killed with SIGKILL, then its children notice within seconds and stop themselves (the orphan guard)', async () => {
    // The compiled guard, as `banyan start` preloads it (npm test builds first).
    const guard = path.resolve(__dirname, '../dist/dev/orphan-guard.js');
    // A stand-in for `banyan start`: it starts one guarded child (which shares its stdout) and is
    // killed once the child is running its code, that is, with the guard loaded.
    const fakeSupervisor = spawn(
      process.execPath,
      [
        '-e',
        `const { spawn } = require('node:child_process');
         const child = spawn(process.execPath, ['--require', ${JSON.stringify(guard)}, '-e', 'console.log("running " + process.pid); setInterval(() => {}, 1000)'],
           { stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: { ...process.env, BANYAN_SUPERVISOR_PID: String(process.pid) } });
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    fakeSupervisor.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const child = Number(await eventually(() => /running (\d+)/.exec(out)?.[1], { what: 'the child runs', until: truthy, timeoutMs: 10_000 }));
    expect(processAlive(child)).toBe(true);

    try {
      fakeSupervisor.kill('SIGKILL');

      await eventually(() => !processAlive(child), { what: 'the orphaned child stopped itself', until: truthy, timeoutMs: 5_000 });
    } finally {
      if (processAlive(child)) process.kill(child, 'SIGKILL');
    }
  });
});
