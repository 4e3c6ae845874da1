import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface MinutePoint {
  /** window start, epoch seconds */
  t: number;
  impressions: number;
  clicks: number;
}

/**
 * Impressions and clicks per minute (uPlot: canvas, ~50 KB, redraws thousands of points in a
 * millisecond or two). The points are also listed in a visually hidden table for screen readers.
 */
export function MinuteChart({ points, label }: { points: MinutePoint[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    const width = () => Math.max(280, el.clientWidth);
    plot.current = new uPlot(
      {
        width: width(),
        height: 240,
        scales: { x: { time: true } },
        axes: [{}, { label: 'impressions', size: 60 }, { side: 1, scale: 'clicks', label: 'clicks', grid: { show: false }, size: 50 }],
        series: [
          {},
          { label: 'impressions', stroke: '#2563eb', width: 2, points: { show: true } },
          { label: 'clicks', stroke: '#d97706', width: 2, scale: 'clicks', points: { show: true } },
        ],
      },
      [[], [], []],
      el,
    );
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 240 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => {
    plot.current?.setData([points.map((p) => p.t), points.map((p) => p.impressions), points.map((p) => p.clicks)]);
  }, [points]);
  const last = points[points.length - 1];
  return (
    <figure class="chart" aria-label={label}>
      <div ref={box} class="chart-box" data-points={points.length} aria-hidden="true" />
      <figcaption>
        {points.length} closed minute{points.length === 1 ? '' : 's'}
        {last ? `; latest ${new Date(last.t * 1000).toISOString().slice(11, 16)} UTC: ${last.impressions} impressions, ${last.clicks} clicks` : ''}
      </figcaption>
    </figure>
  );
}
