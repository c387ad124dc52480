/**
 * html.ts — `fromscratch report`: one self-contained HTML page about an image. PURE.
 *
 * No network: the CSS and the script are inline, nothing is fetched. The page has a squarified treemap
 * of the files by package and by origin (absolutely positioned divs, labelled, a hover title on each),
 * the layers, the config, and every file with why it is there (collapsible, searchable). Every text
 * from the image is escaped: file names may hold `<`, quotes or bytes that are not UTF-8 (shown as
 * U+FFFD by the reader); control characters are replaced too.
 */
import { formatBytes, type ImageSpace, type SpaceFile, totalBytes, UNKNOWN } from './space.ts';
import { type Rect, squarify } from './treemap.ts';

/** ReportInput is what the page shows. */
export interface ReportInput {
  readonly space: ImageSpace;
  readonly manifestDigest: string;
  /** the image config document */
  readonly config: unknown;
  /** why each file is there, as `fromscratch why` prints it (absent for images without a build record) */
  readonly why?: ReadonlyMap<string, string>;
  /** the version of fromscratch that wrote the page */
  readonly toolVersion: string;
}

/** escapeHtml makes text safe in element content and in quoted attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** TREEMAP_W and TREEMAP_H are the treemap's size in CSS pixels. */
const TREEMAP_W = 1000;
const TREEMAP_H = 520;
/** LABEL_H is the height of a group's label strip. */
const LABEL_H = 16;
/** MAX_CELLS_PER_GROUP bounds the file cells drawn in one group (the rest are one "N more" cell). */
const MAX_CELLS_PER_GROUP = 150;

function px(n: number): string {
  return `${Math.round(n * 100) / 100}px`;
}

function box(r: Rect): string {
  return `left:${px(r.x)};top:${px(r.y)};width:${px(r.w)};height:${px(r.h)}`;
}

/** colour gives each group its own hue, the same for the same position in the order. */
function colour(i: number, light: number): string {
  return `hsl(${(i * 137) % 360} 55% ${light}%)`;
}

/** treemapHtml draws the files grouped by `key`: a cell per group, a cell per file inside it. */
function treemapHtml(id: string, files: readonly SpaceFile[], key: (f: SpaceFile) => string): string {
  const groups = new Map<string, SpaceFile[]>();
  for (const f of files) {
    const k = key(f);
    const g = groups.get(k);
    if (g) g.push(f);
    else groups.set(k, [f]);
  }
  const total = files.reduce((n, f) => n + f.size, 0);
  const items = [...groups.entries()]
    .map(([name, fs]) => ({ size: fs.reduce((n, f) => n + f.size, 0), value: { name, fs } }))
    .sort((a, b) => b.size - a.size || (a.value.name < b.value.name ? -1 : 1));
  const cells: string[] = [];
  squarify(items, { x: 0, y: 0, w: TREEMAP_W, h: TREEMAP_H }).forEach(({ rect, value }, gi) => {
    const size = value.fs.reduce((n, f) => n + f.size, 0);
    const title = `${value.name}: ${formatBytes(size)}, ${value.fs.length} file${value.fs.length === 1 ? '' : 's'}, ${total > 0 ? ((size * 100) / total).toFixed(1) : '0'}%`;
    cells.push(
      `<div class="group" data-group="${escapeHtml(value.name)}" style="${box(rect)};background:${colour(gi, 45)}" title="${escapeHtml(title)}">`,
    );
    if (rect.h > LABEL_H + 4 && rect.w > 30)
      cells.push(`<div class="label">${escapeHtml(value.name)} ${escapeHtml(formatBytes(size))}</div>`);
    const sorted = [...value.fs].sort((a, b) => b.size - a.size);
    const shown = sorted.slice(0, MAX_CELLS_PER_GROUP);
    const rest = sorted.slice(MAX_CELLS_PER_GROUP);
    const inner: { size: number; value: { name: string; title: string } }[] = shown.map((f) => ({
      size: f.size,
      value: { name: f.path.slice(f.path.lastIndexOf('/') + 1), title: `${f.path}: ${formatBytes(f.size)}` },
    }));
    if (rest.length > 0) {
      const restSize = rest.reduce((n, f) => n + f.size, 0);
      inner.push({
        size: restSize,
        value: { name: `${rest.length} more`, title: `${rest.length} more files: ${formatBytes(restSize)}` },
      });
    }
    const top = rect.h > LABEL_H + 4 ? LABEL_H : 0;
    const area = { x: 2, y: top, w: Math.max(0, rect.w - 4), h: Math.max(0, rect.h - top - 2) };
    for (const c of squarify(inner, area)) {
      const label = c.rect.w > 40 && c.rect.h > 14 ? escapeHtml(c.value.name) : '';
      cells.push(
        `<div class="cell" style="${box(c.rect)};background:${colour(gi, 72)}" title="${escapeHtml(c.value.title)}">${label}</div>`,
      );
    }
    cells.push('</div>');
  });
  return `<div class="treemap" id="${id}" style="width:${TREEMAP_W}px;height:${TREEMAP_H}px">${cells.join('')}</div>`;
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
code,pre{font:12px/1.35 ui-monospace,monospace}
pre{white-space:pre-wrap;overflow-wrap:anywhere}
.meta{color:#555}
.treemap{position:relative;border:1px solid #333;background:#222;overflow:hidden}
.group{position:absolute;box-sizing:border-box;border:1px solid #111;overflow:hidden}
.label{position:absolute;left:3px;top:1px;right:3px;height:14px;font-size:11px;color:#fff;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.cell{position:absolute;box-sizing:border-box;border:1px solid rgba(0,0,0,.35);font-size:10px;padding:1px 2px;overflow:hidden;white-space:nowrap;text-overflow:ellipsis;color:#111}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}
details summary{cursor:pointer}
#search{width:420px;padding:4px 6px;font-size:14px}
`;

const SCRIPT = `
(function(){
  var input=document.getElementById('search');
  var rows=document.querySelectorAll('tr.file');
  var count=document.getElementById('shown');
  input.addEventListener('input',function(){
    var q=input.value.toLowerCase();var n=0;
    for(var i=0;i<rows.length;i++){
      var hit=!q||rows[i].textContent.toLowerCase().indexOf(q)>=0;
      rows[i].style.display=hit?'':'none';if(hit)n++;
    }
    count.textContent=String(n);
  });
})();
`;

/** toReportHtml renders the report page. Same input, same bytes. */
export function toReportHtml(r: ReportInput): string {
  const s = r.space;
  const total = totalBytes(s);
  const layerRows = s.layers
    .map(
      (l, i) =>
        `<tr><td class="n">${i + 1}</td><td><code>${escapeHtml(l.digest)}</code></td><td class="n">${escapeHtml(formatBytes(l.size))}</td><td class="n">${escapeHtml(formatBytes(l.fileBytes))}</td><td class="n">${l.files.length}</td><td>${escapeHtml(l.holds ?? '')}</td></tr>`,
    )
    .join('\n');
  const fileRows = [...s.files]
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => {
      const why = r.why?.get(f.path);
      const whyCell = why ? `<details><summary>why</summary><pre>${escapeHtml(why)}</pre></details>` : '';
      return `<tr class="file"><td><code>${escapeHtml(f.path)}</code></td><td class="n">${escapeHtml(formatBytes(f.size))}</td><td class="n">${f.layer + 1}</td><td>${escapeHtml(f.package ?? '')}</td><td>${escapeHtml(f.origin)}</td><td>${whyCell}</td></tr>`;
    })
    .join('\n');
  const title = `${s.reference} — fromscratch report`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(s.reference)}</h1>
<div class="meta">platform ${escapeHtml(s.platform)} · manifest <code>${escapeHtml(r.manifestDigest)}</code> · ${escapeHtml(formatBytes(total))} in ${s.files.length} files · ${s.layers.length} layer${s.layers.length === 1 ? '' : 's'} · packages and origins from ${s.source === 'record' ? 'the build record' : s.source === 'dpkg' ? "the image's dpkg data" : 'nowhere (unknown)'} · fromscratch ${escapeHtml(r.toolVersion)}</div>
<h2>By package</h2>
${treemapHtml('treemap-package', s.files, (f) => f.package ?? UNKNOWN)}
<h2>By origin</h2>
${treemapHtml('treemap-origin', s.files, (f) => f.origin)}
<h2>Layers</h2>
<table id="layers"><thead><tr><th>#</th><th>digest</th><th>compressed</th><th>files</th><th>count</th><th>holds</th></tr></thead>
<tbody>
${layerRows}
</tbody></table>
<h2>Config</h2>
<details open><summary>config</summary><pre id="config">${escapeHtml(JSON.stringify(r.config, null, 2))}</pre></details>
<h2>Files</h2>
<p><input id="search" type="search" placeholder="filter files by path, package or origin" aria-label="filter files"> <span id="shown">${s.files.length}</span> shown</p>
<table id="files"><thead><tr><th>path</th><th>size</th><th>layer</th><th>package</th><th>origin</th><th>why</th></tr></thead>
<tbody>
${fileRows}
</tbody></table>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
