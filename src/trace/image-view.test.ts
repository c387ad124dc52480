/**
 * image-view.test.ts — which host mounts the image view binds: the outermost below /, escapes decoded,
 * the view's own directories left out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMountPoints } from './image-view.ts';

test('parseMountPoints keeps the outermost mounts below /, decodes escapes, leaves out excluded trees', () => {
  const info = [
    '22 1 8:1 / / rw,relatime - ext4 /dev/vda rw',
    '23 22 0:5 / /proc rw - proc proc rw',
    '24 22 0:6 / /dev rw - devtmpfs udev rw',
    '25 24 0:7 / /dev/pts rw - devpts devpts rw',
    '26 22 0:8 / /sys rw - sysfs sysfs rw',
    '27 26 0:9 / /sys/fs/cgroup rw - tmpfs tmpfs rw',
    '28 22 0:10 / /mnt/my\\040data rw - ext4 /dev/vdb rw',
    '29 22 0:11 / /dev-extra rw - tmpfs tmpfs rw',
    '30 22 0:12 / /tmp/fromscratch-trace-x/view rw - tmpfs fromscratch-view rw',
    '31 24 0:7 / /dev/pts rw - devpts devpts rw',
    '',
  ].join('\n');
  assert.deepEqual(parseMountPoints(info, ['/tmp/fromscratch-trace-x']), [
    '/dev',
    '/dev-extra',
    '/mnt/my data',
    '/proc',
    '/sys',
  ]);
});
