/**
 * Preloaded (`node --require`) into every process `banyan start` runs: when the supervisor is
 * gone without stopping it (killed with SIGKILL, which no handler sees), the process stops
 * itself with SIGTERM, that is, with its own graceful shutdown, instead of living on as an
 * orphan holding its port and its queue consumers. Every other way the supervisor ends, it
 * stops its children's process groups itself (supervisor.ts).
 *
 * Only the supervisor's direct children watch it: the variable names the supervisor's pid and
 * is removed here, so anything a child starts in turn is not affected.
 */
const supervisor = Number(process.env.BANYAN_SUPERVISOR_PID);
delete process.env.BANYAN_SUPERVISOR_PID;

const exists = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

if (supervisor > 0 && process.ppid === supervisor) {
  // Once a second: an orphan lingering a second is harmless, and the check is one system call.
  const watch = setInterval(() => {
    if (process.ppid === supervisor) return;
    clearInterval(watch);
    process.kill(process.pid, 'SIGTERM');
  }, 1000);
  watch.unref();
} else if (supervisor > 0 && !exists(supervisor)) {
  // The supervisor died between starting this process and this line: already an orphan.
  setImmediate(() => process.kill(process.pid, 'SIGTERM'));
}

export {};
