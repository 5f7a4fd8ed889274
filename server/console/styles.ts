/**
 * The console's one stylesheet: light and dark (`prefers-color-scheme`), narrow and wide screens.
 * Served under a content-hashed path so browsers cache it for good.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** The stylesheet. Classes only: the Content-Security-Policy forbids inline styles. */
export const CONSOLE_CSS = `
:root{--bg:#f6f7f9;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--border:#d5d9e0;--accent:#1f6feb;
--ok:#1a7f37;--block:#cf222e;--fail:#9a6700;--pending:#8250df;--trigger:#dbeafe;--trigger-line:#1f6feb;
--logic:#fef3c7;--logic-line:#b7791f;--action:#dcfce7;--action-line:#1a7f37;--code:#eef1f4;
--add:#dafbe1;--del:#ffebe9;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#161b22;
--border:#30363d;--accent:#4493f8;--ok:#3fb950;--block:#f85149;--fail:#d29922;--pending:#ab7df8;
--trigger:#0c2d6b;--trigger-line:#4493f8;--logic:#3d2e00;--logic-line:#d29922;--action:#0f3d1e;
--action-line:#3fb950;--code:#1c2129;--add:#12361f;--del:#4a1519}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
header.top{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;padding:.6rem 1rem;
background:var(--card);border-bottom:1px solid var(--border)}
header.top .brand{font-weight:700;text-decoration:none;color:var(--fg);margin-right:.5rem}
header.top nav{display:flex;flex-wrap:wrap;gap:.75rem;flex:1}
header.top nav a{text-decoration:none}
header.top nav a.current{font-weight:700;text-decoration:underline}
main{max-width:1200px;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
section.card,.card{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:1rem;margin:0 0 1rem}
.card>:first-child{margin-top:0}
.muted{color:var(--muted)}.small{font-size:.85rem}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--border);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
tr.deciding td{background:var(--del)}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--code);padding:.75rem;border-radius:6px;overflow:auto;max-height:32rem;margin:0}
.badge{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.8rem;font-weight:600;
border:1px solid currentColor;white-space:nowrap}
.badge.success,.badge.allow,.badge.enabled{color:var(--ok)}
.badge.blocked,.badge.block,.badge.failure{color:var(--block)}
.badge.pending-approval{color:var(--pending)}.badge.disabled,.badge.none{color:var(--muted)}
.badge.dry{color:var(--fail)}
form.inline{display:inline}
button,.button{font:inherit;padding:.35rem .8rem;border-radius:6px;border:1px solid var(--border);
background:var(--card);color:var(--fg);cursor:pointer}
a.button{display:inline-block;text-decoration:none;font-size:.9rem}
h1 a.button,h2 a.button{font-weight:400;font-size:.85rem;margin-left:.5rem}
.row.keep{flex-wrap:nowrap}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{color:var(--block);border-color:var(--block)}
input,select,textarea{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--border);
border-radius:6px;padding:.35rem .5rem;max-width:100%}
textarea{width:100%;min-height:10rem;font:13px/1.4 ui-monospace,monospace}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
.stack>*+*{margin-top:.6rem}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.error{color:var(--block);font-weight:600}
.notice{border-left:4px solid var(--accent);padding:.5rem .75rem;background:var(--card)}
.notice.block{border-color:var(--block)}.notice.allow{border-color:var(--ok)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
.signin{max-width:24rem;margin:10vh auto}
.signin input{width:100%}
.graph{overflow:auto;background:var(--bg);border:1px solid var(--border);border-radius:6px;
max-height:80vh;-webkit-overflow-scrolling:touch}
.graph-figure{margin:0}.graph svg{display:block;max-width:100%;height:auto}
.zoom-anchor{display:block;height:0;scroll-margin-top:1rem}
.zoom-links{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:baseline;font-size:.85rem;margin:0 0 .4rem}
.zoom-links a{text-decoration:none;padding:0 .4rem;border:1px solid var(--border);border-radius:999px}
.zoom-links a.fit,#graph-actual:target~.zoom-links a.actual,#graph-large:target~.zoom-links a.large{
background:var(--accent);border-color:var(--accent);color:#fff}
#graph-actual:target~.zoom-links a.fit,#graph-large:target~.zoom-links a.fit{background:none;color:var(--accent);
border-color:var(--border)}
#graph-actual:target~.graph svg{max-width:none}
#graph-large:target~.graph svg{max-width:none;zoom:1.6}
.graph text{font:12px system-ui,sans-serif;fill:var(--fg)}
.graph .sub{font-size:10px;fill:var(--muted)}
.graph .node-trigger .shape{fill:var(--trigger);stroke:var(--trigger-line)}
.graph .node-logic .shape{fill:var(--logic);stroke:var(--logic-line)}
.graph .node-action .shape{fill:var(--action);stroke:var(--action-line)}
.graph .shape{stroke-width:1.5}
.graph .blocking .shape{stroke:var(--block);stroke-width:2.5;stroke-dasharray:6 3}
.graph .blocking-mark{fill:var(--block);font-weight:700}
.graph .faded{opacity:.45}
.graph .visited .shape{stroke:var(--accent);stroke-width:3.5;stroke-dasharray:none}
.graph .deciding .shape{stroke:var(--block);stroke-width:5;stroke-dasharray:none}
.graph .deciding-mark{fill:var(--block);font-weight:700}
.graph .edge path{fill:none;stroke:var(--muted);stroke-width:1.5}
.graph .edge.taken path{stroke:var(--accent);stroke-width:3.5}
.graph .edge text{font-size:11px;fill:var(--muted)}
.graph .edge.taken text{fill:var(--accent);font-weight:700}
.legend{display:flex;flex-wrap:wrap;gap:.75rem;font-size:.8rem;color:var(--muted);margin:.5rem 0 0}
.diff{background:var(--code);border-radius:6px;overflow:auto;max-height:32rem}
.diff div{white-space:pre;font:13px/1.45 ui-monospace,monospace;padding:0 .5rem}
.diff .add{background:var(--add)}.diff .del{background:var(--del)}
.diff .add::before{content:"+ "}.diff .del::before{content:"- "}.diff .same::before{content:"  "}
.diff.changes div{white-space:pre-wrap;overflow-wrap:anywhere}.diff .mod::before{content:"~ "}
.diff .head{font-weight:600;padding-top:.2rem}
.nowrap{white-space:nowrap}
.source{background:var(--code);border-radius:6px;overflow:auto;max-height:32rem;
font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.source .line{display:grid;grid-template-columns:3.5rem minmax(0,1fr)}
.source .no{color:var(--muted);text-align:right;padding-right:.75rem;user-select:none}
.source .text{white-space:pre-wrap;overflow-wrap:anywhere}
.source .line.bad{background:var(--del)}.source .line:target{outline:2px solid var(--block)}
.source .why{grid-column:2;color:var(--block);font-weight:600;white-space:normal}
ul.problems{margin:0;padding-left:1.2rem}ul.problems li+li{margin-top:.2rem}
.warning{color:var(--fail)}
textarea.editor{min-height:24rem}
details>summary{cursor:pointer}
.json{font:13px/1.45 ui-monospace,monospace;overflow-wrap:anywhere}
.json details,.json .kv{margin-left:1rem}
.json .key{color:var(--accent)}
.pager{display:flex;gap:1rem;margin:.75rem 0}
@media (max-width:640px){main{padding:.5rem}th,td{padding:.3rem}.hide-narrow{display:none}
header.top{padding:.5rem}h1{font-size:1.2rem}section.card,.card{padding:.75rem}
header.top nav{order:3;flex:1 1 100%;gap:.4rem 1rem}header.top form.inline{margin-left:auto}}
@media (max-width:600px){table.cards thead{display:none}
table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
table.cards tr{border:1px solid var(--border);border-radius:6px;margin:0 0 .6rem;padding:.35rem .5rem}
table.cards tr.deciding{border-color:var(--block)}
table.cards td{border:0;padding:.15rem 0 .15rem 6.5rem;position:relative;min-height:1.6rem;overflow-wrap:anywhere}
table.cards td::before{content:attr(data-label);position:absolute;left:0;top:.2rem;width:6rem;
font-size:.75rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
table.cards td.hide-narrow,table.cards td:empty{display:none}}
`;

/** The console's icon: a gate (two posts and a bar) in the accent colour, as SVG. */
export const FAVICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#1f6feb"/>' +
  '<path d="M8 7v19M24 7v19M8 12h16M8 19h16" stroke="#fff" stroke-width="3.2" ' +
  'stroke-linecap="round" fill="none"/></svg>';

/** The icon as a `data:` URL for `<link rel="icon">` (the CSP allows `data:` images). */
export const FAVICON_DATA_URL = `data:image/svg+xml,${encodeURIComponent(FAVICON_SVG)}`;

/** A short content hash of the stylesheet, part of its URL so a new version is fetched at once. */
export const CONSOLE_CSS_HASH = createHash("sha256").update(CONSOLE_CSS).digest("hex").slice(
  0,
  12,
);

/** Where the stylesheet is served. */
export const CONSOLE_CSS_PATH = `/static/console-${CONSOLE_CSS_HASH}.css`;
