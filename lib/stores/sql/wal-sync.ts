// WalSync: SqliteStore's disk syncs, off the event loop. SQLite runs with `synchronous = NORMAL` (a
// commit writes its WAL frames without syncing them); before anything that commit decided is answered,
// the WAL file is fdatasync'ed on libuv's thread pool. One sync covers every commit made before it
// started, so commits waiting while one is in flight share the next.

import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import path from 'node:path';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class WalSync {
  readonly #fd: number;
  #inFlight: Promise<void> | undefined;
  #next: Waiter[] = [];
  #failed: Error | undefined;

  /**
   * Opens the WAL file SQLite has created beside the database (`<filename>-wal`), and syncs its
   * directory once so the file's own entry survives a power loss (SQLite's FULL mode does the same on
   * its first sync). Throws if the WAL file does not exist.
   */
  constructor(filename: string) {
    this.#fd = openSync(`${filename}-wal`, 'r+');
    const dir = openSync(path.dirname(path.resolve(filename)), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }

  /**
   * Resolves once a data sync of the WAL file that began after this call has completed: everything
   * committed before the call (by this process or another one sharing the file) is then on disk. After
   * one failed sync every call rejects: what the OS dropped cannot be known, so the store fails closed.
   */
  durable(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise<void>((resolve, reject) => {
      this.#next.push({ resolve, reject });
      if (!this.#inFlight) this.#start();
    });
  }

  #start(): void {
    const waiting = this.#next;
    this.#next = [];
    this.#inFlight = new Promise<void>((done) => {
      fdatasync(this.#fd, (error) => {
        this.#inFlight = undefined;
        done();
        if (error) {
          this.#failed = new Error(
            `SqliteStore: syncing the WAL file failed (${error.code ?? error.message}); the store refuses all work until restarted`,
          );
          for (const waiter of [...waiting, ...this.#next]) waiter.reject(this.#failed);
          this.#next = [];
          return;
        }
        for (const waiter of waiting) waiter.resolve();
        if (this.#next.length > 0) this.#start();
      });
    });
  }

  /** Waits for the syncs asked for so far, then closes the file. */
  async close(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
    closeSync(this.#fd);
  }
}
