/**
 * tags.ts — list a repository's tags with bounded pagination (RELIABILITY E12): `Link` headers are
 * followed only on the registry's own origin, a page or URL seen twice stops the walk with an error
 * (a loop), and pages, tags and page bodies are capped.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags
 */
import { FromscratchError } from '../errors.ts';
import type { RegistryClient } from './client.ts';
import { readBodyLimited } from './http.ts';

/** FetchTagsOptions bounds fetchTags. Every field is optional. */
export interface FetchTagsOptions {
  /** tags asked per page (`n`; default 1000) */
  readonly pageSize?: number;
  /** most pages followed (default 100) */
  readonly maxPages?: number;
  /** most tags returned before failing (default 100 000) */
  readonly maxTags?: number;
  /** cap on one page's body in bytes (default 4 MiB) */
  readonly pageLimit?: number;
}

/** nextLink reads `Link: </v2/…?last=x&n=y>; rel="next"`. */
export function parseNextLink(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /rel="?next"?/i.test(m[2]!)) return m[1];
  }
  return undefined;
}

/**
 * fetchTags lists the tags of `repository`, following `Link` pagination within the bounds of `opts`.
 * Throws IMAGE_NOT_FOUND for an unknown repository, TOO_LARGE past a bound, REGISTRY_ERROR for a
 * pagination loop, a cross-origin Link or a malformed page.
 */
export async function fetchTags(
  client: RegistryClient,
  repository: string,
  opts: FetchTagsOptions = {},
): Promise<string[]> {
  const pageSize = opts.pageSize ?? 1000;
  const maxPages = opts.maxPages ?? 100;
  const maxTags = opts.maxTags ?? 100_000;
  const pageLimit = opts.pageLimit ?? 4 * 1024 * 1024;
  const doing = `listing tags of ${client.registry}/${repository}`;
  const tags: string[] = [];
  const seenUrls = new Set<string>();
  let url: string | undefined = `/v2/${repository}/tags/list?n=${pageSize}`;
  for (let page = 1; url !== undefined; page++) {
    if (page > maxPages)
      throw new FromscratchError('TOO_LARGE', `${doing}: more than ${maxPages} pages`, {
        hint: 'the registry keeps paginating; raise maxPages if the repository really has that many tags',
      });
    const abs = new URL(url, client.baseUrl);
    if (abs.origin !== client.baseUrl.origin) {
      throw new FromscratchError(
        'REGISTRY_ERROR',
        `${doing}: the registry's Link points to another origin (${abs.origin})`,
        { hint: 'refusing to follow pagination off the registry' },
      );
    }
    const key = abs.pathname + abs.search;
    if (seenUrls.has(key))
      throw new FromscratchError(
        'REGISTRY_ERROR',
        `${doing}: the pagination loops back to ${key.slice(0, 200)}`,
        { hint: 'the registry pagination is broken' },
      );
    seenUrls.add(key);
    const res = await client.request({
      method: 'GET',
      url: key,
      scopes: [`repository:${repository}:pull`],
      doing,
    });
    if (res.status === 404) {
      const err = await client.fail(res, { method: 'GET', doing }).catch((e: unknown) => e);
      throw new FromscratchError('IMAGE_NOT_FOUND', `${doing}: the repository does not exist`, {
        hint: 'check the repository name',
        cause: err,
      });
    }
    if (res.status !== 200) await client.fail(res, { method: 'GET', doing });
    const next = parseNextLink(res.header('link'));
    const body = await readBodyLimited(res, pageLimit, `tag list page ${page}`);
    let doc: { tags?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw new FromscratchError('REGISTRY_ERROR', `${doing}: page ${page} is not JSON`, {
        hint: 'the registry answered something else than a tag list',
      });
    }
    const pageTags = doc.tags ?? [];
    if (!Array.isArray(pageTags) || pageTags.some((t) => typeof t !== 'string')) {
      throw new FromscratchError('REGISTRY_ERROR', `${doing}: page ${page} has no tag array`, {
        hint: 'the registry answered something else than a tag list',
      });
    }
    tags.push(...(pageTags as string[]));
    if (tags.length > maxTags)
      throw new FromscratchError('TOO_LARGE', `${doing}: more than ${maxTags} tags`, {
        hint: 'raise maxTags if the repository really has that many tags',
      });
    url = next;
  }
  return tags;
}
