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

/** Identity is who the container's process runs as: runc's uid, gid and supplementary groups. */
export interface Identity {
  /** `nonroot`, or the uid when the image has no name for it */
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly groups: ReadonlySet<number>;
}

/**
 * runtimeIdentity is the identity runc gives the process for `user` (GetExecUser): a name, or a uid
 * with the entry of that uid when the passwd file has one, the group part or the entry's gid (0
 * without one), and the groups of the group file naming the user. Undefined when a named part is
 * missing (checkUser reports that).
 */
export function runtimeIdentity(
  user: string | undefined,
  passwd: string | undefined,
  group: string | undefined,
): Identity | undefined {
  const [u = '', g] = (user || 'root').split(':', 2);
  const numeric = (s: string) => /^\d+$/.test(s);
  const entries = (text: string | undefined) =>
    (text ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split(':'));
  const pw = entries(passwd).find((e) => (numeric(u) ? e[2] === u : e[0] === u));
  if (!numeric(u) && pw === undefined) return undefined;
  const uid = numeric(u) ? Number(u) : Number(pw![2]);
  const name = pw?.[0] ?? u;
  const groups = entries(group);
  let gid = pw !== undefined && numeric(pw[3] ?? '') ? Number(pw[3]) : 0;
  if (g !== undefined && g !== '') {
    const ge = numeric(g) ? undefined : groups.find((e) => e[0] === g);
    if (!numeric(g) && ge === undefined) return undefined;
    gid = numeric(g) ? Number(g) : Number(ge![2]);
  }
  const extra = new Set<number>([gid]);
  for (const e of groups)
    if ((e[3] ?? '').split(',').includes(name) && numeric(e[2] ?? '')) extra.add(Number(e[2]));
  return { name, uid, gid, groups: extra };
}

/**
 * permits says whether `id` may read (4) or execute/search (1) a file of `st`'s mode and owner, as the
 * kernel decides (generic_permission): root may read anything and execute what has any execute bit;
 * else the owner's bits, the group's (the gid or a supplementary group) or the others'.
 */
export function permits(
  id: Identity,
  st: { readonly mode: number; readonly uid: number; readonly gid: number },
  want: 4 | 1,
): boolean {
  if (id.uid === 0) return want === 4 || (st.mode & 0o111) !== 0;
  const bits = st.uid === id.uid ? st.mode >> 6 : id.groups.has(st.gid) ? st.mode >> 3 : st.mode;
  return (bits & want) !== 0;
}
