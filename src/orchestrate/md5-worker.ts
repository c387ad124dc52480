/**
 * md5-worker.ts — MD5 of host files on a second thread. Crediting host files to their Debian packages
 * checks each file's MD5 against dpkg's md5sums (host-packages.ts); on a cold cache that is every byte of
 * a 100 MB program, and node's hash runs on the thread that calls it. One worker thread hashes while
 * the main thread reads the dpkg database, so the two overlap on a machine with two cores.
 *
 * The worker is started on the first request and ends when the process no longer waits for it (it
 * does not keep the process alive). Results are the same as createHash('md5') over the file's bytes.
 */
import { Worker } from 'node:worker_threads';

/** the worker's code: CommonJS (an eval worker), self-contained, so the bundle needs no second entry */
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { closeSync, openSync, readSync } = require('node:fs');
const buf = Buffer.allocUnsafe(1024 * 1024);
parentPort.on('message', ({ id, path }) => {
  let fd;
  try {
    fd = openSync(path, 'r');
    const h = createHash('md5');
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
    parentPort.postMessage({ id, md5: h.digest('hex') });
  } catch (e) {
    parentPort.postMessage({ id, error: { code: e && e.code, message: String(e && e.message) } });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

interface Reply {
  id: number;
  md5?: string;
  error?: { code?: string; message: string };
}

let worker: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve(md5: string): void; reject(e: Error): void }>();

function start(): Worker {
  const w = new Worker(SOURCE, { eval: true });
  w.unref();
  w.on('message', (r: Reply) => {
    const p = waiting.get(r.id);
    if (!p) return;
    waiting.delete(r.id);
    if (waiting.size === 0) {
      w.unref();
      if (releaseWhenIdle) releaseMd5Worker();
    }
    if (r.md5 !== undefined) p.resolve(r.md5);
    else p.reject(Object.assign(new Error(r.error?.message ?? 'md5 failed'), { code: r.error?.code }));
  });
  const fail = (e: Error) => {
    // a worker let go of (releaseMd5Worker) ends without failing anything
    if (released.has(w)) return;
    worker = undefined;
    for (const p of waiting.values()) p.reject(e);
    waiting.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the md5 worker exited (${code})`)));
  return w;
}

const released = new WeakSet<Worker>();
let releaseWhenIdle = false;

/**
 * releaseMd5Worker ends the worker once no result is awaited (now, or when the last one arrives): a
 * build calls it once its files are credited, so that the worker's isolate (~10 MB) is not kept
 * through the compression of the layers. A later request starts a new one.
 */
export function releaseMd5Worker(): void {
  const w = worker;
  if (w === undefined) return;
  if (waiting.size > 0) {
    releaseWhenIdle = true;
    return;
  }
  releaseWhenIdle = false;
  released.add(w);
  worker = undefined;
  void w.terminate();
}

/** md5OnWorker is the hex MD5 of a file's bytes, computed on the worker thread. Rejects as a read would (code ENOENT…). */
export function md5OnWorker(path: string): Promise<string> {
  releaseWhenIdle = false;
  worker ??= start();
  const w = worker;
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    // keep the process alive while a result is awaited
    w.ref();
    w.postMessage({ id, path });
  });
}
