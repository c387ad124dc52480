/**
 * image-view.ts — run a traced command on the host as if it were inside an image: in a private mount
 * namespace, the image's root filesystem is laid over the host's / with overlayfs, so that paths that
 * exist only in the image (an app added at /app/main.py, the image's WORKDIR, an entrypoint script) are
 * where the command looks for them, and everything else comes from the host, whose files --verify --fix
 * then adds. IO, Linux only, needs root (CAP_SYS_ADMIN for unshare and mount).
 *
 * The layout inside the namespace (nothing of it is visible outside, and it all goes away with the
 * namespace's last process; the host's files are never written: writes land in a tmpfs upper layer):
 *
 *   STATE            tmpfs
 *   STATE/image      a copy of the image's root (overlayfs refuses a lower layer inside another one, /)
 *   STATE/root       overlay lowerdir=STATE/image:/ upperdir=STATE/upper workdir=STATE/work
 *   STATE/root/M     every host mount M below / (/proc, /dev, /sys, /tmp …) bound recursively
 *   STATE/root/KEEP  the caller's directory (strace's log), bound so that it can be read afterwards
 *
 * then `chroot STATE/root`, `cd WORKDIR` (created when the image lacks it, as runc does) and exec.
 * Checked with util-linux 2.38 (unshare, mount) and Linux 5.10+ overlayfs.
 */
import { readFileSync } from 'node:fs';

/** ImageViewOptions says what to lay over the host and where the command starts. */
export interface ImageViewOptions {
  /** a directory holding the image's root filesystem (unpacked) */
  readonly imageRoot: string;
  /** an empty directory for the namespace's tmpfs */
  readonly stateDir: string;
  /** a host directory the command must be able to write to at the same path (strace's log) */
  readonly keepDir: string;
  /** the working directory inside the view (the image's WORKDIR, or /) */
  readonly cwd: string;
}

// positional parameters: $1 image root, $2 state dir, $3 keep dir, $4 working directory, then the host
// mount points to bind, `--`, and the command
const SETUP = `set -e
img=$1; m=$2; keep=$3; wd=$4; shift 4
mount -t tmpfs -o mode=0700 fromscratch-view "$m"
mkdir "$m/upper" "$m/work" "$m/root" "$m/image"
cp -a "$img/." "$m/image/"
mount -t overlay -o "lowerdir=$m/image:/,upperdir=$m/upper,workdir=$m/work" fromscratch-view "$m/root"
while [ "$1" != -- ]; do
  if [ -e "$m/root$1" ]; then mount --rbind "$1" "$m/root$1"; fi
  shift
done
shift
mkdir -p "$m/root$keep"
mount --bind "$keep" "$m/root$keep"
# an image with a real /bin directory hides the host's /bin -> usr/bin link: find a shell either way
sh=/bin/sh; [ -x "$m/root/bin/sh" ] || sh=/usr/bin/sh
exec chroot "$m/root" "$sh" -c 'mkdir -p "$0" && cd "$0" && exec "$@"' "$wd" "$@"
`;

/**
 * imageViewArgv returns the argv prefix that runs the command appended to it (strace and its arguments)
 * inside the view. The caller checks that it runs as root; a failed setup exits non-zero with mount's or
 * cp's message on stderr, before the command starts.
 */
export function imageViewArgv(o: ImageViewOptions): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '/bin/sh',
    '-c',
    SETUP,
    'fromscratch-view',
    o.imageRoot,
    o.stateDir,
    o.keepDir,
    o.cwd,
    ...hostMountPoints([o.stateDir, o.keepDir, o.imageRoot]),
    '--',
  ];
}

/**
 * hostMountPoints lists the outermost mount points below / (from /proc/self/mountinfo), leaving out those
 * inside `exclude`: binding each recursively brings the ones inside it.
 */
export function hostMountPoints(exclude: readonly string[] = []): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return ['/proc', '/dev', '/sys']; // no mountinfo: the usual kernel file systems
  }
  return parseMountPoints(text, exclude);
}

/** parseMountPoints reads the mount points of a mountinfo text (proc(5)) and keeps the outermost below /. */
export function parseMountPoints(mountinfo: string, exclude: readonly string[] = []): string[] {
  const under = (p: string, d: string): boolean => p === d || p.startsWith(d === '/' ? '/' : `${d}/`);
  const points = mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && p !== '' && p !== '/')
    // mountinfo escapes space, tab, newline and backslash as octal
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => !exclude.some((d) => under(p, d)));
  const sorted = [...new Set(points)].sort();
  const out: string[] = [];
  for (const p of sorted) if (!out.some((q) => under(p, q))) out.push(p);
  return out;
}
