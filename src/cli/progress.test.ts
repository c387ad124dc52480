/**
 * progress.test.ts — the renderer on its own, with a fake clock: plain writes one line per step start
 * and end (never per chunk) and a total; quiet writes nothing; tty redraws in place and leaves only
 * permanent lines; the mode comes from --progress, then -q, then FROMSCRATCH_PROGRESS, then the terminal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryIo } from './memory-io.ts';
import { progressRenderer, resolveProgressMode } from './progress.ts';

function clock() {
  let t = 1_000_000;
  return { now: () => t, tick: (ms: number) => (t += ms) };
}

test('plain: a line at each start and end with size, rate and duration; chunks print nothing; a total at the end', () => {
  const io = memoryIo();
  const c = clock();
  const r = progressRenderer(io, 'plain', c.now);
  r.sink({ kind: 'start', id: 'a', label: 'pulling abc', total: 2_000_000 });
  for (let i = 0; i < 100; i++) r.sink({ kind: 'advance', id: 'a', amount: 20_000 });
  c.tick(2000);
  r.sink({ kind: 'note', message: 'pulling abc: retrying in 2 s: 503' });
  r.sink({ kind: 'done', id: 'a' });
  r.sink({ kind: 'start', id: 'b', label: 'pushing def', total: 10 });
  r.sink({ kind: 'done', id: 'b', detail: 'exists' });
  r.close(true);
  assert.deepEqual(io.err().split('\n'), [
    '[  0.0s] pulling abc (2.0 MB)',
    '[  2.0s] pulling abc: retrying in 2 s: 503',
    '[  2.0s] pulling abc: done, 2.0 MB in 2.0 s (1.0 MB/s)',
    '[  2.0s] pushing def (10 B)',
    '[  2.0s] pushing def: exists in 0.0 s',
    '[  2.0s] finished 2 steps, 2.0 MB (1.0 MB/s) in 2.0 s',
    '',
  ]);
  assert.equal(io.out(), '', 'nothing on stdout');
});

test('quiet writes nothing, not even the total', () => {
  const io = memoryIo();
  const r = progressRenderer(io, 'quiet');
  r.sink({ kind: 'start', id: 'a', label: 'x', total: 1 });
  r.sink({ kind: 'done', id: 'a' });
  r.close(true);
  assert.equal(io.err(), '');
});

test('tty: bars are redrawn in place, finished steps stay as lines, close erases the bars', () => {
  const io = memoryIo({ isTty: true });
  const c = clock();
  const r = progressRenderer(io, 'tty', c.now);
  r.sink({ kind: 'start', id: 'a', label: 'writing layer (app)' });
  r.sink({ kind: 'advance', id: 'a', amount: 500, total: 1000 });
  c.tick(1000);
  r.log('a log line');
  r.sink({ kind: 'done', id: 'a', detail: '300 B gzip' });
  r.close(true);
  const out = io.err();
  assert.ok(out.startsWith('\x1b[?25l') && out.endsWith('\x1b[?25h'), JSON.stringify(out));
  assert.match(out, / writing layer \(app\)\s+\[=+>? *\]\s+50% 500 B\/1\.0 kB$/m);
  assert.match(out, /\r\x1b\[2A\x1b\[J/, 'the two-line live area (bar, total) is erased in place');
  const after = out.slice(out.lastIndexOf('\x1b[J') + 3).replace('\x1b[?25h', '');
  assert.equal(
    after,
    '[  1.0s] writing layer (app): done, 500 B in 1.0 s (500 B/s); 300 B gzip\n[  1.0s] finished 1 step, 500 B (500 B/s) in 1.0 s\n',
  );
});

test('the mode: --progress, then -q, then FROMSCRATCH_PROGRESS, then auto by terminal; a bad value is USAGE', () => {
  assert.equal(resolveProgressMode(undefined, false, {}, true), 'tty');
  assert.equal(resolveProgressMode(undefined, false, {}, false), 'plain');
  assert.equal(resolveProgressMode(undefined, true, { FROMSCRATCH_PROGRESS: 'plain' }, true), 'quiet');
  assert.equal(resolveProgressMode(undefined, false, { FROMSCRATCH_PROGRESS: 'plain' }, true), 'plain');
  assert.equal(resolveProgressMode('tty', true, {}, false), 'tty');
  assert.equal(resolveProgressMode('auto', false, { FROMSCRATCH_PROGRESS: 'quiet' }, false), 'plain');
  assert.throws(
    () => resolveProgressMode(undefined, false, { FROMSCRATCH_PROGRESS: 'loud' }, false),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'USAGE');
      assert.match(e.message, /FROMSCRATCH_PROGRESS "loud"/);
      return true;
    },
  );
});
