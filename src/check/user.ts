/**
 * user.ts — does the image's `User` exist where the runtime looks it up? PURE.
 *
 * runc (libcontainer/user GetExecUser), as Docker and Podman use it: `User` is `USER[:GROUP]`; a numeric
 * part is taken as is, even with no entry in the files; a name must be in the image's /etc/passwd
 * (/etc/group for the group), else the container fails before exec with "unable to find user NAME: no
 * matching entries in passwd file". An empty `User` is root.
 */

/** UserProblem is one part of `User` the runtime would not find. */
export interface UserProblem {
  readonly part: 'user' | 'group';
  readonly name: string;
  /** the file it must be in */
  readonly file: '/etc/passwd' | '/etc/group';
  /** true when the file itself is missing from the image */
  readonly fileMissing: boolean;
}

/** namesIn lists the first field of each entry of a passwd or group file. */
export function namesIn(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const name = t.split(':', 1)[0];
    if (name) names.add(name);
  }
  return names;
}

/**
 * checkUser tells which named parts of `user` (`name`, `name:group`, `uid:group` …) are missing from the
 * image's passwd and group files (their text, undefined when the file is absent). Numeric parts always pass.
 */
export function checkUser(
  user: string | undefined,
  passwd: string | undefined,
  group: string | undefined,
): UserProblem[] {
  if (!user) return [];
  const [u = '', g] = user.split(':', 2);
  const out: UserProblem[] = [];
  const numeric = (s: string) => /^\d+$/.test(s);
  if (u !== '' && !numeric(u) && !(passwd !== undefined && namesIn(passwd).has(u)))
    out.push({ part: 'user', name: u, file: '/etc/passwd', fileMissing: passwd === undefined });
  if (g !== undefined && g !== '' && !numeric(g) && !(group !== undefined && namesIn(group).has(g)))
    out.push({ part: 'group', name: g, file: '/etc/group', fileMissing: group === undefined });
  return out;
}
