/**
 * `run`, never twice at once: a call while it runs asks for one more run after it (however many
 * calls came meanwhile) and gets the promise of the runs in progress.
 */
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await run();
        } while (again);
      } finally {
        // Cleared here, not in a .finally() a microtask later: a call in between would set
        // `again` on a loop that has already ended, and its run would be lost.
        running = undefined;
      }
    })();
    return running;
  };
}
