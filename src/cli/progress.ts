/**
 * progress.ts — renders the library's progress events on stderr, as BuildKit's `--progress` does:
 * `tty` redraws live bars in place (throttled, erased at the end, on an error and on exit), `plain`
 * writes one timestamped line when a step starts and one when it ends (never one per chunk), `quiet`
 * writes nothing. `auto` is `tty` on a terminal, else `plain`. stdout is never touched.
 */
import type { Command } from 'commander';
import { FromscratchError, formatBytes, type ProgressEvent, type ProgressSink } from '../index.ts';
import type { CliIo } from './io.ts';

/** PROGRESS_MODES are the values of --progress and FROMSCRATCH_PROGRESS. */
export const PROGRESS_MODES = ['auto', 'tty', 'plain', 'quiet'] as const;
/** ProgressMode is one of PROGRESS_MODES. */
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** ProgressRenderer turns events into stderr output; `log` writes a line without breaking the bars. */
export interface ProgressRenderer {
  readonly mode: 'tty' | 'plain' | 'quiet';
  readonly sink: ProgressSink;
  log(line: string): void;
  /** erases the bars; with `ok`, writes the final total line. Idempotent. */
  close(ok: boolean): void;
}

/**
 * resolveProgressMode picks the mode: --progress, else -q, else FROMSCRATCH_PROGRESS, else auto; auto is
 * tty when stderr is a terminal. Throws USAGE naming a bad value.
 */
export function resolveProgressMode(
  flag: string | undefined,
  quiet: boolean,
  env: NodeJS.ProcessEnv,
  isTty: boolean,
): 'tty' | 'plain' | 'quiet' {
  const check = (v: string, where: string): ProgressMode => {
    if ((PROGRESS_MODES as readonly string[]).includes(v)) return v as ProgressMode;
    throw new FromscratchError('USAGE', `${where} ${JSON.stringify(v)} is not a progress mode`, {
      hint: `use one of: ${PROGRESS_MODES.join(', ')}`,
    });
  };
  const envValue = env.FROMSCRATCH_PROGRESS || undefined;
  const mode =
    flag !== undefined
      ? check(flag, '--progress')
      : quiet
        ? 'quiet'
        : envValue !== undefined
          ? check(envValue, 'FROMSCRATCH_PROGRESS')
          : 'auto';
  return mode === 'auto' ? (isTty ? 'tty' : 'plain') : mode;
}

/** open renderers per CLI run: main closes them (erasing live bars) before it prints an error */
const openRenderers = new WeakMap<object, Set<ProgressRenderer>>();

/** closeProgress closes every renderer still open on `io` (after an error: bars erased, no total line). */
export function closeProgress(io: CliIo): void {
  for (const r of openRenderers.get(io) ?? []) r.close(false);
  openRenderers.delete(io);
}

/**
 * progressLogger returns a Logger writing through the renderer (so lines do not break live bars): info
 * lines unless quiet, warnings always.
 */
export function progressLogger(progress: ProgressRenderer): { info(m: string): void; warn(m: string): void } {
  return {
    info(m) {
      if (progress.mode !== 'quiet') progress.log(m);
    },
    warn(m) {
      progress.log(`warning: ${m}`);
    },
  };
}

/**
 * withProgressOptions adds `-q` and `--progress` to a command as its own options: global options stop
 * being read after the command once the program parses positionally (as `run IMAGE ARGS…` needs).
 */
export function withProgressOptions(cmd: Command): Command {
  return cmd
    .option('-q, --quiet', 'no progress on stderr')
    .option(
      '--progress <auto|tty|plain|quiet>',
      'progress on stderr (default auto; also FROMSCRATCH_PROGRESS)',
    );
}

/** progressFor makes the renderer for a command from its options and the global ones (--progress, -q). */
export function progressFor(io: CliIo, cmd: Command): ProgressRenderer {
  const o = cmd.optsWithGlobals() as { progress?: string; quiet?: boolean };
  const r = progressRenderer(io, resolveProgressMode(o.progress, Boolean(o.quiet), io.env, io.isTty));
  const open = openRenderers.get(io) ?? new Set();
  open.add(r);
  openRenderers.set(io, open);
  return r;
}

interface Task {
  readonly label: string;
  total: number | undefined;
  done: number;
  readonly started: number;
  readonly bytes: boolean;
}

/** how often the bars are redrawn at most (ms): fast enough to look live, slow enough to cost nothing */
const REDRAW_MS = 100;
/** at most this many bars; the rest are counted on one line */
const MAX_BARS = 6;

/** progressRenderer renders on io.stderr in `mode`; `now` is injectable for tests. */
export function progressRenderer(
  io: Pick<CliIo, 'stderr'>,
  mode: 'tty' | 'plain' | 'quiet',
  now: () => number = Date.now,
): ProgressRenderer {
  const t0 = now();
  const out = io.stderr;
  const tasks = new Map<string, Task>();
  let bytesTotal = 0;
  let steps = 0;
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const stamp = () => `[${((now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  // a pseudo-terminal without a size (script, CI) reports 0 columns: assume the classic 80
  const columns = () => Math.max(40, (out as NodeJS.WriteStream).columns || 80);

  // `label: done, 2.2 MB in 0.2 s (9.8 MB/s); 997 kB gzip` — a one-word detail (exists, mounted,
  // failed) is the outcome itself: `label: exists in 0.0 s`
  const ended = (t: Task, detail: string | undefined): string => {
    const secs = (now() - t.started) / 1000;
    const word = detail !== undefined && !detail.includes(' ');
    const sized = t.bytes && t.done > 0;
    const rate = sized && secs >= 0.05 ? ` (${formatBytes(Math.round(t.done / secs))}/s)` : '';
    return `${t.label}: ${word ? detail : 'done'}${sized ? `, ${formatBytes(t.done)}` : ''} in ${secs.toFixed(1)} s${rate}${detail !== undefined && !word ? `; ${detail}` : ''}`;
  };

  // ---- tty: a live area under the permanent lines -------------------------------------------------
  const erase = () => {
    if (drawn > 0) out.write(`\r\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  const bar = (t: Task, width: number): string => {
    const size =
      t.total !== undefined
        ? `${formatBytes(Math.min(t.done, t.total))}/${formatBytes(t.total)}`
        : t.bytes && t.done > 0
          ? formatBytes(t.done)
          : '';
    const secs = (now() - t.started) / 1000;
    // no rate before there is time to measure one
    const rate = t.bytes && t.done > 0 && secs >= 0.05 ? `${formatBytes(Math.round(t.done / secs))}/s` : '';
    const tail = [size, rate].filter(Boolean).join(' ');
    const meterWidth = 20;
    let meter: string;
    if (t.total !== undefined && t.total > 0) {
      const f = Math.min(1, t.done / t.total);
      const n = Math.round(f * meterWidth);
      meter = `[${'='.repeat(n)}${n < meterWidth ? '>' : ''}${' '.repeat(Math.max(0, meterWidth - n - 1))}] ${String(Math.floor(f * 100)).padStart(3)}%`;
    } else {
      const spin = '|/-\\'[Math.floor((now() - t.started) / REDRAW_MS) % 4];
      meter = `[${' '.repeat(meterWidth)}] ${spin}   `;
    }
    const room = Math.max(12, width - meter.length - tail.length - 4);
    const label = t.label.length > room ? `${t.label.slice(0, room - 1)}…` : t.label.padEnd(room);
    return ` ${label} ${meter} ${tail}`.slice(0, width - 1);
  };
  const draw = () => {
    timer = undefined;
    if (closed) return;
    erase();
    const width = columns();
    const lines = [...tasks.values()].slice(0, MAX_BARS).map((t) => bar(t, width));
    if (tasks.size > MAX_BARS) lines.push(` … and ${tasks.size - MAX_BARS} more`);
    if (lines.length > 0) {
      const secs = (now() - t0) / 1000;
      lines.push(
        ` total ${formatBytes(bytesTotal)}${secs > 0.05 ? `, ${formatBytes(Math.round(bytesTotal / secs))}/s` : ''}, ${secs.toFixed(1)} s`.slice(
          0,
          width - 1,
        ),
      );
      out.write(`${lines.join('\n')}\n`);
      drawn = lines.length;
    }
  };
  const drawNow = () => {
    if (timer !== undefined) clearTimeout(timer);
    draw();
  };
  const schedule = () => {
    if (timer === undefined && !closed) {
      timer = setTimeout(draw, REDRAW_MS);
      timer.unref();
    }
  };
  const permanent = (line: string) => {
    erase();
    out.write(`${line}\n`);
    if (tasks.size > 0) draw();
  };
  // an exit (Ctrl-C ends the process through process.exit) leaves the terminal clean: bars erased, cursor shown
  const onExit = () => {
    if (!closed && mode === 'tty') {
      erase();
      out.write('\x1b[?25h');
    }
  };

  const sink: ProgressSink = (e: ProgressEvent) => {
    if (closed || mode === 'quiet') return;
    switch (e.kind) {
      case 'start': {
        const bytes = e.unit !== 'files';
        tasks.set(e.id, { label: e.label, total: e.total, done: 0, started: now(), bytes });
        steps++;
        if (mode === 'plain')
          out.write(
            `${stamp()} ${e.label}${e.total !== undefined && bytes ? ` (${formatBytes(e.total)})` : ''}\n`,
          );
        else drawNow(); // a step starts rarely (not per chunk): its bar appears at once
        return;
      }
      case 'advance': {
        const t = tasks.get(e.id);
        if (!t) return;
        const learnt = e.total !== undefined && t.total === undefined;
        t.done += e.amount;
        if (e.total !== undefined) t.total = e.total;
        if (t.bytes) bytesTotal += e.amount;
        // chunks are throttled; a total just learnt turns a spinner into a bar at once
        if (mode === 'tty') learnt ? drawNow() : schedule();
        return;
      }
      case 'done': {
        const t = tasks.get(e.id);
        if (!t) return;
        tasks.delete(e.id);
        const line = `${stamp()} ${ended(t, e.detail)}`;
        if (mode === 'plain') out.write(`${line}\n`);
        else permanent(line);
        return;
      }
      case 'note': {
        const line = `${stamp()} ${e.message}`;
        if (mode === 'plain') out.write(`${line}\n`);
        else permanent(line);
        return;
      }
    }
  };

  if (mode === 'tty') {
    out.write('\x1b[?25l');
    process.on('exit', onExit);
  }
  return {
    mode,
    sink,
    log(line) {
      if (mode === 'tty' && !closed) permanent(line);
      else out.write(`${line}\n`);
    },
    close(ok) {
      if (closed) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (mode === 'tty') {
        erase();
        process.removeListener('exit', onExit);
      }
      closed = true;
      if (ok && mode !== 'quiet' && steps > 0) {
        const secs = (now() - t0) / 1000;
        const rate =
          bytesTotal > 0 && secs >= 0.05 ? ` (${formatBytes(Math.round(bytesTotal / secs))}/s)` : '';
        out.write(
          `${stamp()} finished ${steps} step${steps === 1 ? '' : 's'}${bytesTotal > 0 ? `, ${formatBytes(bytesTotal)}${rate}` : ''} in ${secs.toFixed(1)} s\n`,
        );
      }
      if (mode === 'tty') out.write('\x1b[?25h');
    },
  };
}
