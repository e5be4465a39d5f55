// A small line chart as SVG text (pure; no bench* exports). The scale bench draws up time and
// memory against the guest count with it; no plotting package is needed for two lines.

export interface Series {
  name: string;
  points: [number, number][];
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** A round step for about `count` ticks over 0..max. */
export function tickStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/** One chart, `width` × `height` pixels, axes from 0, a legend, each series a polyline with dots. */
export function lineChart(c: Chart, width = 480, height = 320): string {
  const m = { left: 56, right: 16, top: 32, bottom: 44 };
  const pts = c.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xStep = tickStep(Math.max(1, ...pts.map(([x]) => x)));
  const yStep = tickStep(Math.max(1e-9, ...pts.map(([, y]) => y)));
  const xMax = Math.ceil(Math.max(1, ...pts.map(([x]) => x)) / xStep) * xStep;
  const yMax = Math.ceil(Math.max(1e-9, ...pts.map(([, y]) => y)) / yStep) * yStep;
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const X = (x: number) => (m.left + (x / xMax) * w).toFixed(1);
  const Y = (y: number) => (m.top + h - (y / yMax) * h).toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${esc(c.title)}</text>`,
    `<line x1="${m.left}" y1="${m.top + h}" x2="${m.left + w}" y2="${m.top + h}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + h}" stroke="black"/>`,
  ];
  for (let x = 0; x <= xMax + 1e-9; x += xStep)
    out.push(`<text x="${X(x)}" y="${m.top + h + 14}" text-anchor="middle">${+x.toPrecision(6)}</text>`);
  for (let y = 0; y <= yMax + 1e-9; y += yStep)
    out.push(
      `<line x1="${m.left}" y1="${Y(y)}" x2="${m.left + w}" y2="${Y(y)}" stroke="#ddd"/>`,
      `<text x="${m.left - 4}" y="${Y(y)}" text-anchor="end" dominant-baseline="middle">${+y.toPrecision(6)}</text>`,
    );
  out.push(
    `<text x="${m.left + w / 2}" y="${height - 8}" text-anchor="middle">${esc(c.xLabel)}</text>`,
    `<text transform="translate(14 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`,
  );
  c.series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length];
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    out.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${ok.map(([x, y]) => `${X(x)},${Y(y)}`).join(" ")}"/>`,
      ...ok.map(([x, y]) => `<circle cx="${X(x)}" cy="${Y(y)}" r="3" fill="${colour}"/>`),
      `<text x="${m.left + 8}" y="${m.top + 12 + 14 * k}" fill="${colour}">${esc(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Charts side by side in one SVG. */
export function sideBySide(charts: string[], width = 480, height = 320): string {
  const inner = charts.map(
    (svg, k) => `<g transform="translate(${k * width} 0)">${svg.replace(/^<svg[^>]*>|<\/svg>\s*$/g, "")}</g>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width * charts.length}" height="${height}">\n${inner.join("\n")}\n</svg>\n`;
}
