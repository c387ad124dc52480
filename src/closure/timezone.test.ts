// timezone.test.ts — timezoneRequest follows glibc's tzset: the file TZ names (`:NAME`, NAME, an absolute
// path, under TZDIR), and whether a missing file is harmless (a POSIX rule, or a UTC name).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timezoneRequest } from './timezone.ts';

test('timezoneRequest: the file glibc reads first, and when its absence is harmless', () => {
  const cases: [string[], { file: string; rule: boolean } | undefined][] = [
    [[], undefined],
    [['TZ='], undefined],
    [['TZ=Europe/Paris'], { file: '/usr/share/zoneinfo/Europe/Paris', rule: false }],
    [['TZ=:Europe/Paris'], { file: '/usr/share/zoneinfo/Europe/Paris', rule: false }],
    [
      ['TZ=America/Argentina/Buenos_Aires'],
      { file: '/usr/share/zoneinfo/America/Argentina/Buenos_Aires', rule: false },
    ],
    [['TZ=/etc/zones/mine'], { file: '/etc/zones/mine', rule: false }],
    [['TZDIR=/opt/zi/', 'TZ=Asia/Tokyo'], { file: '/opt/zi/Asia/Tokyo', rule: false }],
    // POSIX rules: a missing file is fine, glibc parses the rule
    [
      ['TZ=CET-1CEST,M3.5.0,M10.5.0/3'],
      { file: '/usr/share/zoneinfo/CET-1CEST,M3.5.0,M10.5.0/3', rule: true },
    ],
    [['TZ=EST5EDT'], { file: '/usr/share/zoneinfo/EST5EDT', rule: true }],
    [['TZ=<+03>-3'], { file: '/usr/share/zoneinfo/<+03>-3', rule: true }],
    [['TZ=JST-9'], { file: '/usr/share/zoneinfo/JST-9', rule: true }],
    // ':' means a file only
    [['TZ=:EST5EDT'], { file: '/usr/share/zoneinfo/EST5EDT', rule: false }],
    // UTC names: UTC either way
    [['TZ=UTC'], { file: '/usr/share/zoneinfo/UTC', rule: true }],
    [['TZ=Etc/UTC'], { file: '/usr/share/zoneinfo/Etc/UTC', rule: true }],
    // no offset: not a rule
    [['TZ=Japan'], { file: '/usr/share/zoneinfo/Japan', rule: false }],
    // `..`: nothing read
    [['TZ=../../etc/shadow'], undefined],
    [['TZ=Europe/../../x'], undefined],
    // the last assignment wins, as in a process environment
    [['TZ=Asia/Tokyo', 'TZ=Europe/Paris'], { file: '/usr/share/zoneinfo/Europe/Paris', rule: false }],
  ];
  for (const [env, want] of cases) {
    const got = timezoneRequest(env);
    assert.deepEqual(got && { file: got.file, rule: got.rule }, want, env.join(' '));
  }
});
