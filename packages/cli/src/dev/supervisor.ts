import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

/** One long-running process, started again whenever it ends until the supervisor stops. */
export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Its first start waits for this to settle (restarts do not): `banyan start` holds the relay back until the consumers are up. */
  startAfter?: Promise<unknown>;
}

export interface SupervisorOptions {
  /** Restarts allowed within `windowMs`; one more exit in that window is a crash loop. */
  restartLimit: number;
  windowMs: number;
  /** Delay before the n-th restart within the window: initialMs × 2^(n-1), at most maxMs. */
  backoff: { initialMs: number; maxMs: number };
  /** How long a stop waits after SIGTERM before SIGKILL. */
  stopGraceMs: number;
  /** One line of a child's output (already prefixed `[name] `) or of the supervisor's own. */
  write(stream: 'out' | 'err', line: string): void;
}

/** Why the supervisor ended, and the exit code `banyan start` ends with. */
export interface Outcome {
  code: number;
  reason: string;
}

/**
 * Five restarts within a minute. A process that cannot start (bad configuration, a port in use)
 * fails its sixth attempt after 0.25 + 0.5 + 1 + 2 + 4 s of backoff, so `banyan start` names it
 * within about ten seconds instead of retrying forever; a process killed now and then (a
 * developer's kill -9, a fault drill) is back in a quarter of a second and far from the limit.
 * Exits older than the window are forgotten, which also resets the backoff (docker resets its
 * own after ten seconds of running). 15 s of grace on stop: the processes' own graceful
 * shutdown finishes in-flight requests and messages well within it.
 */
export const DEFAULT_SUPERVISION = { restartLimit: 5, windowMs: 60_000, backoff: { initialMs: 250, maxMs: 30_000 }, stopGraceMs: 15_000 } as const;

interface Running {
  spec: ChildSpec;
  proc?: ChildProcess;
  /** Resolves when the current instance has exited (or could not be spawned). */
  exited: Promise<void>;
  exitTimes: number[];
  /** Whether the current instance is running: only a live child's group is ever signalled. */
  alive: boolean;
  restartTimer?: NodeJS.Timeout;
}

const describeExit = (code: number | null, signal: NodeJS.Signals | null) => (signal ? `was killed by ${signal}` : `exited with code ${code}`);
const seconds = (ms: number) => `${Number((ms / 1000).toFixed(2))} s`;

/**
 * Runs every child in its own process group (so a stop reaches whatever a child started too),
 * prefixes their output, restarts a child that fails (a non-zero exit, a kill by any signal but
 * SIGTERM/SIGINT) with backoff, leaves stopped a child stopped on purpose (a clean exit), and
 * ends everything on `stop()` or when one child crash-loops. `done` resolves once every child
 * has exited. ADR 0407.
 */
export class Supervisor {
  readonly done: Promise<Outcome>;
  private resolveDone!: (o: Outcome) => void;
  private readonly running: Running[];
  private stopping?: Promise<Outcome>;

  constructor(
    specs: ChildSpec[],
    private readonly options: SupervisorOptions,
  ) {
    this.running = specs.map((spec) => ({ spec, exited: Promise.resolve(), exitTimes: [], alive: false }));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  start(): void {
    for (const r of this.running) {
      if (!r.spec.startAfter) this.spawn(r);
      else
        void r.spec.startAfter.finally(() => {
          if (!this.stopping) this.spawn(r);
        });
    }
  }

  /** The current process id of a child (its process group id too), while it runs. */
  pid(name: string): number | undefined {
    const r = this.running.find((c) => c.spec.name === name);
    return r?.alive ? r.proc?.pid : undefined;
  }

  /** SIGTERM to every group, SIGKILL to what is left after the grace period; resolves `done`. */
  stop(outcome: Outcome): Promise<Outcome> {
    this.stopping ??= (async () => {
      for (const r of this.running) clearTimeout(r.restartTimer);
      this.signalAll('SIGTERM');
      const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), this.options.stopGraceMs).unref());
      if ((await Promise.race([this.allExited(), grace])) === 'late') {
        const late = this.running.filter((r) => this.pid(r.spec.name)).map((r) => r.spec.name);
        this.say(`still running after ${seconds(this.options.stopGraceMs)}: ${late.join(', ')}; killing them`);
        this.signalAll('SIGKILL');
        await this.allExited();
      }
      this.resolveDone(outcome);
      return outcome;
    })();
    return this.stopping;
  }

  /** SIGKILL every group now, synchronously: for a second Ctrl-C and the supervisor's own exit. */
  kill(): void {
    for (const r of this.running) clearTimeout(r.restartTimer);
    this.stopping ??= Promise.resolve({ code: 1, reason: 'killed' });
    this.signalAll('SIGKILL');
  }

  private allExited(): Promise<void> {
    return Promise.all(this.running.map((r) => r.exited)).then(() => undefined);
  }

  private signalAll(signal: NodeJS.Signals): void {
    for (const r of this.running) {
      if (!r.alive || !r.proc?.pid) continue;
      try {
        // The whole group: the child and anything it started, as compose stops a container.
        process.kill(-r.proc.pid, signal);
      } catch {
        // ESRCH: the group is already gone.
      }
    }
  }

  private say(line: string): void {
    this.options.write('err', `[banyan] ${line}`);
  }

  private spawn(r: Running): void {
    const { spec } = r;
    // detached: a new session and process group, whose id is the child's pid. A terminal's
    // Ctrl-C then reaches the supervisor alone, which stops the children in order.
    const proc = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    r.proc = proc;
    r.alive = proc.pid !== undefined;
    let settle!: () => void;
    r.exited = new Promise((resolve) => (settle = resolve));
    for (const [stream, name] of [
      [proc.stdout, 'out'],
      [proc.stderr, 'err'],
    ] as const) {
      readline.createInterface({ input: stream!, crlfDelay: Infinity }).on('line', (line) => this.options.write(name, `[${spec.name}] ${line}`));
    }
    if (proc.pid) this.say(`${spec.name} started (pid ${proc.pid})`);
    let ended = false;
    const onEnd = (how: string, clean: boolean) => {
      if (ended) return;
      ended = true;
      r.alive = false;
      settle();
      this.ended(r, how, clean);
    };
    proc.once('exit', (code, signal) => onEnd(describeExit(code, signal), code === 0 || signal === 'SIGTERM' || signal === 'SIGINT'));
    // Could not be spawned at all (EAGAIN, a missing node): no 'exit' follows.
    proc.once('error', (err) => onEnd(`could not be started (${err.message})`, false));
  }

  private ended(r: Running, how: string, stoppedOnPurpose: boolean): void {
    const { spec } = r;
    const pid = r.proc?.pid;
    if (this.stopping) {
      this.say(`${spec.name}${pid ? ` (pid ${pid})` : ''} ${how}`);
      return;
    }
    // Anything the child left behind in its group goes with it, as with a container's processes.
    if (pid) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // the group ended with its leader
      }
    }
    // `kill <pid>` (SIGTERM, or SIGINT) and the process's graceful exit: someone stopped this one
    // process on purpose, as `docker compose stop <service>` would, so it stays stopped (ADR 0407).
    if (stoppedOnPurpose) {
      this.say(`${spec.name}${pid ? ` (pid ${pid})` : ''} ${how}: stopped on purpose, so not restarted (the others keep running; restart npm start to bring it back)`);
      return;
    }
    const now = Date.now();
    r.exitTimes = [...r.exitTimes.filter((t) => now - t < this.options.windowMs), now];
    const restarts = r.exitTimes.length;
    const window = seconds(this.options.windowMs);
    if (restarts > this.options.restartLimit) {
      const reason = `${spec.name} is crash-looping: it ended ${restarts} times within ${window} (the last time it ${how})`;
      this.say(`${reason}; stopping everything`);
      void this.stop({ code: 1, reason });
      return;
    }
    const delay = Math.min(this.options.backoff.initialMs * 2 ** (restarts - 1), this.options.backoff.maxMs);
    this.say(`${spec.name}${pid ? ` (pid ${pid})` : ''} ${how}; restarting it in ${seconds(delay)} (restart ${restarts} of ${this.options.restartLimit} allowed within ${window})`);
    r.restartTimer = setTimeout(() => {
      if (!this.stopping) this.spawn(r);
    }, delay);
  }
}
