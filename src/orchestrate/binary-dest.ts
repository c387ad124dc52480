/**
 * binary-dest.ts — where a `--binary` program lands in the image, and the entrypoint a build with one
 * program defaults to (as ko does). PURE.
 *
 * `--binary SRC[:DEST]`:
 * - an absolute SRC without DEST keeps its place (`--binary /usr/bin/curl` → `/usr/bin/curl`): the
 *   root's layout, where its symlinks and `$ORIGIN` paths are right;
 * - a relative SRC without DEST lands at `/NAME` (`--binary ./build/app` → `/app`), as
 *   `COPY ./build/app /` does: a host checkout directory never leaks into the image;
 * - DEST is an absolute image path; one ending in `/` is a directory that gets the file's name
 *   (`--binary ./app:/usr/local/bin/` → `/usr/local/bin/app`).
 * The closure is the program's at DEST (its `$ORIGIN` is DEST's directory, as the kernel will say).
 */
import { FromscratchError } from '../errors.ts';
import { baseName, normalizeImagePath } from '../fs/path.ts';
import type { BuildSpec } from './build-spec.ts';

/** parseBinaryArg splits `SRC[:DEST]` as `--binary` takes it: `{ path: SRC, dest? }` (SRC as given). */
export function parseBinaryArg(arg: string): { path: string; dest?: string } {
  const i = arg.lastIndexOf(':');
  const src = i > 0 ? arg.slice(0, i) : arg;
  const destRaw = i > 0 ? arg.slice(i + 1) : undefined;
  if (src === '')
    throw new FromscratchError('USAGE', `--binary ${JSON.stringify(arg)} names no program`, {
      hint: 'write --binary SRC[:DEST], e.g. --binary ./app:/usr/local/bin/app',
    });
  if (destRaw !== undefined && !destRaw.startsWith('/')) {
    throw new FromscratchError(
      'USAGE',
      `--binary ${JSON.stringify(arg)}: destination ${JSON.stringify(destRaw)} is not absolute`,
      { hint: 'destinations in the image are absolute paths, e.g. --binary ./app:/usr/local/bin/app' },
    );
  }
  const dest = binaryDest(src, destRaw);
  return dest === undefined ? { path: src } : { path: src, dest };
}

/**
 * binaryDest is the image path of a program given as `src` (as the user wrote it) with an optional
 * destination: undefined when the program keeps its own absolute path.
 */
export function binaryDest(src: string, dest: string | undefined): string | undefined {
  const name = baseName(normalizeImagePath(`/${src}`));
  if (dest !== undefined) return normalizeImagePath(dest.endsWith('/') ? `${dest}${name}` : dest);
  return src.startsWith('/') ? undefined : normalizeImagePath(`/${name}`);
}

/**
 * withDefaultEntrypoint gives a build of exactly one `--binary` program, with no entrypoint, no cmd
 * and no base image, that program as its entrypoint (ko does the same). Returns the spec unchanged
 * otherwise, and the entrypoint chosen when it chose one.
 */
export function withDefaultEntrypoint(spec: BuildSpec): { spec: BuildSpec; entrypoint?: string } {
  const programs = spec.contents.filter((c) => c.kind === 'binary');
  if (programs.length !== 1) return { spec };
  if (spec.config?.Entrypoint || spec.config?.Cmd) return { spec };
  if (spec.from !== undefined && spec.from !== 'scratch') return { spec };
  const p = programs[0]!;
  if (p.kind !== 'binary') return { spec };
  const entrypoint = p.dest ?? binaryDest(p.path, undefined) ?? normalizeImagePath(p.path);
  return { spec: { ...spec, config: { ...(spec.config ?? {}), Entrypoint: [entrypoint] } }, entrypoint };
}
