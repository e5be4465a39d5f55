// The scale bench's SVG chart (pure): well-formed, every point drawn inside the axes, labels escaped.
import fc from "fast-check";
import { lineChart, sideBySide, tickStep } from "../../../bench/plot";

const coords = (svg: string) =>
  [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);

describe("bench plot", () => {
  test("tick steps are 1, 2 or 5 times a power of ten and give at most about 10 ticks", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e9, noNaN: true }), (max) => {
        const s = tickStep(max);
        const lead = s / 10 ** Math.floor(Math.log10(s) + 1e-12);
        expect([1, 2, 5, 10].some((d) => Math.abs(lead - d) < 1e-6)).toBe(true);
        expect(max / s).toBeLessThanOrEqual(10 + 1e-9);
      }),
    );
  });

  test("every point lies inside the plot area; one circle per point", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.double({ min: 0, max: 1e4, noNaN: true })), {
          minLength: 1,
          maxLength: 20,
        }),
        (points) => {
          const svg = lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "a", points }] });
          const cs = coords(svg);
          expect(cs).toHaveLength(points.length);
          for (const [x, y] of cs) {
            expect(x).toBeGreaterThanOrEqual(56 - 1e-6);
            expect(x).toBeLessThanOrEqual(480 - 16 + 1e-6);
            expect(y).toBeGreaterThanOrEqual(32 - 1e-6);
            expect(y).toBeLessThanOrEqual(320 - 44 + 1e-6);
          }
        },
      ),
    );
  });

  test("labels are escaped: a series name cannot inject markup", () => {
    const svg = lineChart({
      title: "<b>&",
      xLabel: "N",
      yLabel: "s",
      series: [{ name: '"/><script>', points: [[1, 2]] }],
    });
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("&lt;b&gt;&amp;");
    const both = sideBySide([svg, svg]);
    expect(both.match(/<svg/g)).toHaveLength(1);
    expect(both.match(/<\/svg>/g)).toHaveLength(1);
  });
});
