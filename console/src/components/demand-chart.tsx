import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';
import { chartTop, type ChartColumns } from '../lib/chart-data.ts';
import { formatClock, formatCount } from '../lib/format.ts';
import { useI18n } from '../ui/i18n.tsx';

const colours = { ordered: '#c2410c', band: '#1d4ed8', bandFill: 'rgba(29, 78, 216, 0.14)', cap: '#b91c1c', grid: '#e5e7eb', axis: '#374151' };

// The cap's series carries no values: the line is drawn across the whole plot by a hook (a
// series would span only the minutes that have points); the series gives it its legend entry.
const aligned = (c: ChartColumns, withCap: boolean): uPlot.AlignedData =>
  withCap ? [c.x, c.ordered, c.low, c.high, c.x.map(() => null)] : [c.x, c.ordered, c.low, c.high];

const heightFor = (width: number) => (width < 480 ? 200 : 260);

/**
 * Net ordered units over time with the forecast band (low..high) and the cap: uPlot on a canvas,
 * as wide as its container (a ResizeObserver follows rotation and layout), updated in place.
 */
export const DemandChart = (p: { columns: ChartColumns; cap: number | undefined; label: string }) => {
  const { t, locale } = useI18n();
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(p);
  latest.current = p;
  const hasCap = p.cap !== undefined;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    let cancelled = false;
    let teardown = () => {};
    void import('./uplot.ts').then(({ default: UPlot }) => {
      if (cancelled) return;
      teardown = draw(UPlot, el);
    });
    return () => {
      cancelled = true;
      teardown();
    };
  }, [locale, hasCap, t]);

  /** Builds the plot in `el`; returns what takes it down. */
  const draw = (UPlot: typeof uPlot, el: HTMLDivElement) => {
    const width = Math.max(240, el.clientWidth);
    const axisFont = '12px system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", sans-serif';
    const opts: uPlot.Options = {
      width,
      height: heightFor(width),
      padding: [8, 8, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { live: false },
      scales: {
        x: {
          time: true,
          // At least ten minutes wide: a new campaign's one or two points do not fill the chart edge to edge.
          range: (_u, min, max) => (max - min < 600 ? [max - 600, max + 30] : [min, max]),
        },
        y: { range: () => [0, chartTop(latest.current.columns, latest.current.cap)] },
      },
      axes: [
        {
          font: axisFont,
          stroke: colours.axis,
          grid: { stroke: colours.grid, width: 1 },
          space: 64,
          values: (_u, splits) => splits.map((s) => formatClock(s * 1000, locale)),
        },
        {
          font: axisFont,
          stroke: colours.axis,
          size: 48,
          grid: { stroke: colours.grid, width: 1 },
          values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? formatCount(s, locale) : '')),
        },
      ],
      series: [
        {},
        { label: t.demand.seriesOrdered, stroke: colours.ordered, width: 2.5, points: { show: false } },
        { label: t.demand.seriesLow, stroke: colours.band, width: 1, dash: [4, 4], points: { show: false } },
        { label: t.demand.seriesHigh, stroke: colours.band, width: 1, dash: [4, 4], points: { show: false } },
        ...(hasCap ? [{ label: t.demand.seriesCap, stroke: colours.cap, width: 1.5, dash: [8, 4], points: { show: false } }] : []),
      ],
      bands: [{ series: [3, 2], fill: colours.bandFill }],
      hooks: {
        draw: [
          (u) => {
            const cap = latest.current.cap;
            if (cap === undefined) return;
            const ratio = window.devicePixelRatio || 1;
            const y = Math.round(u.valToPos(cap, 'y', true));
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = colours.cap;
            ctx.lineWidth = 1.5 * ratio;
            ctx.setLineDash([8 * ratio, 4 * ratio]);
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    const u = new UPlot(opts, aligned(latest.current.columns, hasCap), el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(240, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height: heightFor(w) });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  };

  useEffect(() => {
    plot.current?.setData(aligned(p.columns, p.cap !== undefined));
  }, [p.columns, p.cap]);

  return (
    <figure class="chart" data-testid="demand-chart" data-points={p.columns.x.length}>
      <div ref={host} role="img" aria-label={p.label} class="chart-canvas" />
      {p.columns.x.length === 0 && <figcaption class="hint">{t.demand.chartEmpty}</figcaption>}
    </figure>
  );
};
