/**
 * schema.ts — the zod schema of fromscratch.yaml, the source of truth for validation and for the
 * published JSON Schema (schema/fromscratch.schema.json, regenerated with toSpecJsonSchema). PURE.
 *
 * Keys mirror the `build` flags in kebab-case (`--stop-signal` → `stop-signal`); every object is strict
 * so that a misspelt key is an error, never silently ignored.
 */

import { z } from 'zod';
import { INFER_NAMES } from '../orchestrate/infer-names.ts';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const command = z
  .union([z.string(), z.array(z.string())])
  .describe(
    'exec form as a list, or a string split into words like a POSIX shell would (quotes honoured, no expansion)',
  );
const stringList = (what: string) =>
  z.union([z.string(), z.array(z.string())]).describe(`${what} (a list, or one string)`);
const mode = z
  .union([z.number().int().min(0).max(0o7777), z.string().regex(/^0?[0-7]{3,4}$/)])
  .describe('permission bits: a number (0o644 = 420) or an octal string such as "0644"');

/** BinaryItemSchema is `- binary: PATH`: a program and its full closure. */
export const BinaryItemSchema = z.strictObject({
  binary: z
    .string()
    .min(1)
    .describe('a program (ELF or #! script); its libraries, loader and interpreters are added'),
  to: z
    .string()
    .startsWith('/')
    .optional()
    .describe(
      'absolute path of the program in the image; a trailing / keeps its name (default: its own absolute path, or /NAME for a relative one)',
    ),
});

/** AddItemSchema is `- add: SRC` (+ `to:`): a host file or directory as is. */
export const AddItemSchema = z.strictObject({
  add: z.string().min(1).describe('host file or directory, relative to the spec file'),
  to: z
    .string()
    .startsWith('/')
    .optional()
    .describe('absolute path in the image (default: the same path as the source)'),
  closure: z.boolean().optional().describe('add the closure of programs inside (default true)'),
  exclude: z.array(z.string()).optional().describe('patterns left out (.dockerignore syntax)'),
});

/** TraceItemSchema is `- trace: CMD`: run CMD under strace and add every file it used. */
export const TraceItemSchema = z.strictObject({
  trace: z.string().min(1).describe('command run on the host under strace, split like a shell word list'),
  'allow-failure': z.boolean().optional().describe('keep the files even if the command exits non-zero'),
  timeout: z.number().positive().optional().describe('seconds before the command is killed'),
});

/** PackageItemSchema is `- package: NAME[=VERSION]`: a Debian package and its dependencies. */
export const PackageItemSchema = z.strictObject({
  package: z
    .string()
    .regex(/^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$/)
    .describe('Debian package name, optionally =VERSION'),
  version: z.string().optional().describe('exact Debian version'),
});

/** FileItemSchema is `- file: PATH` + `content:`: a literal file written into the image. */
export const FileItemSchema = z.strictObject({
  file: z.string().startsWith('/').describe('absolute path in the image'),
  content: z.string().describe('the file content'),
  mode: mode.optional(),
});

/** CONTENT_KINDS names the key that says which kind a `contents` entry is. */
export const CONTENT_KINDS = {
  binary: BinaryItemSchema,
  add: AddItemSchema,
  trace: TraceItemSchema,
  package: PackageItemSchema,
  file: FileItemSchema,
} as const;

/** ContentItemSchema is one `contents` entry. */
export const ContentItemSchema = z.union([
  BinaryItemSchema,
  AddItemSchema,
  TraceItemSchema,
  PackageItemSchema,
  FileItemSchema,
]);

/** ImageFieldsSchema is what one image says: the whole spec but `cache` and `images`. */
const ImageFieldsSchema = z.strictObject({
  from: z
    .string()
    .min(1)
    .optional()
    .describe('base image: scratch (default) or a reference (docker://…, oci:dir:tag, host/repo:tag)'),
  platforms: stringList('platforms OS/ARCH[/VARIANT]').optional(),
  contents: z.array(ContentItemSchema).optional().describe('what the image must contain'),
  entrypoint: command.optional(),
  cmd: command.optional(),
  env: z
    .union([z.record(z.string(), scalar), z.array(z.string().regex(/^[^=]+=/))])
    .optional()
    .describe('environment: a map, or a list of K=V'),
  workdir: z.string().startsWith('/').optional(),
  user: z
    .union([z.string(), z.number().int().min(0)])
    .optional()
    .describe('user name or uid[:gid]'),
  labels: z.record(z.string(), scalar).optional(),
  annotations: z.record(z.string(), scalar).optional().describe('manifest annotations'),
  expose: z
    .array(z.union([z.number().int().min(1).max(65535), z.string().regex(/^\d{1,5}(\/(tcp|udp|sctp))?$/)]))
    .optional()
    .describe('ports: 8080 or "53/udp"'),
  volumes: z.array(z.string().startsWith('/')).optional(),
  'stop-signal': z.string().optional(),
  outputs: stringList(
    'output destinations (oci:DIR[:TAG], docker-archive:FILE, docker://HOST/REPO:TAG …)',
  ).optional(),
  tags: stringList('name:tag for outputs that take one').optional(),
  compression: z.enum(['gzip', 'zstd', 'none']).optional(),
  'compression-level': z.number().int().min(1).max(19).optional(),
  layers: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .describe('most layers the build adds, chosen for reuse (default 16; 1 = one layer)'),
  sysroot: z.string().optional().describe('resolve programs and libraries inside this root'),
  'lib-paths': z.array(z.string()).optional().describe('extra library directories inside the root'),
  'apt-sources': z.array(z.string()).optional().describe('apt sources lines for packages'),
  lockfile: z
    .string()
    .optional()
    .describe('fromscratch.lock: reused when it matches the packages, written after resolving'),
  locked: z.boolean().optional().describe('never resolve packages anew: the lockfile must match'),
  strict: z
    .boolean()
    .optional()
    .describe('the static start check fails the build (nothing written) instead of warning'),
  'no-infer': z
    .array(z.enum(['all', ...INFER_NAMES]))
    .optional()
    .describe(
      `inferences left out: ${INFER_NAMES.join(', ')} or all (fromscratch deps shows what each brings)`,
    ),
  defaults: z
    .strictObject({
      users: z.boolean().optional().describe('/etc/passwd and /etc/group (root, nonroot, nobody)'),
      nsswitch: z.boolean().optional().describe('/etc/nsswitch.conf'),
      tmp: z.boolean().optional().describe('/tmp with mode 1777'),
      'ca-certificates': z.boolean().optional().describe('a CA bundle when a TLS library is in the closure'),
    })
    .optional()
    .describe('scratch defaults, each can be turned off'),
});

/** ImageSchema is one entry of `images:`: a name and what differs from the top-level keys. */
export const ImageSchema = ImageFieldsSchema.extend({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,127}$/)
    .describe('the image name, unique in the spec; `{name}` in outputs and tags is replaced by it'),
}).describe(
  'one image of a multi-image build: the top-level keys are its defaults (contents are appended to the top-level ones)',
);

/** SpecSchema is the whole fromscratch.yaml. */
export const SpecSchema = ImageFieldsSchema.extend({
  cache: z
    .strictObject({
      from: stringList('registry caches to import from, docker://HOST/REPO[:TAG]').optional(),
      to: z.string().min(1).optional().describe('registry cache to export to, docker://HOST/REPO[:TAG]'),
    })
    .optional()
    .describe('the build cache in a registry (as --cache-from and --cache-to; the flags and env win)'),
  images: z
    .array(ImageSchema)
    .min(1)
    .max(256)
    .optional()
    .describe('several images built in one run (shared layers built and uploaded once)'),
}).describe('fromscratch build spec (fromscratch.yaml): the same things the build flags say');

/** ImageDocument is one validated `images:` entry. */
export type ImageDocument = z.infer<typeof ImageSchema>;

/** SpecDocument is a validated fromscratch.yaml before conversion to a BuildSpec. */
export type SpecDocument = z.infer<typeof SpecSchema>;

/**
 * toSpecJsonSchema generates the JSON Schema (draft 2020-12) published as schema/fromscratch.schema.json.
 * zod's non-standard `format: "starts_with"` annotations are dropped (the `pattern` beside them says it),
 * so that strict validators such as ajv accept the schema.
 */
export function toSpecJsonSchema(): Record<string, unknown> {
  const js = z.toJSONSchema(SpecSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return dropFormats({ $schema: js.$schema, title: 'fromscratch.yaml', ...js }) as Record<string, unknown>;
}

function dropFormats(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropFormats);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'format' && x === 'starts_with') continue;
    out[k] = dropFormats(x);
  }
  return out;
}
