import { useEffect, useRef } from "react";
import "uplot/dist/uPlot.min.css";
import { legendValue, type LinkSeries } from "./series";

interface LinkChartProps {
  title: string;
  series: LinkSeries;
  latencyThresholdMs: number;
}

/**
 * Latency (left axis, line) and packet loss (right axis, dashed) over time. The chart is an
 * image to assistive technology; the caption says the same in words.
 */
export function LinkChart({ title, series, latencyThresholdMs }: LinkChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = holder.current;
    // jsdom has no canvas (nor matchMedia, which uPlot reads on import); the caption carries the
    // content there, as it does for screen readers.
    if (!el || typeof window.matchMedia !== "function") return undefined;
    let plot: { setSize: (s: { width: number; height: number }) => void; destroy: () => void } | undefined;
    let cancelled = false;
    const width = () => Math.max(240, el.clientWidth);
    const resize = () => plot?.setSize({ width: width(), height: 200 });
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled) return;
      plot = new UPlot(
        {
          width: width(),
          height: 200,
          legend: { show: true },
          scales: { x: { time: true }, ms: { auto: true, range: (_u, min, max) => [0, Math.max(max, latencyThresholdMs * 1.2, min)] }, pct: { range: [0, 100] } },
          axes: [
            { stroke: "#4a5568" },
            { scale: "ms", label: "ms", stroke: "#4a5568" },
            { scale: "pct", side: 1, label: "loss %", stroke: "#4a5568", grid: { show: false } },
          ],
          series: [
            {},
            { label: "Latency (ms)", scale: "ms", stroke: "#0b4f9c", width: 2, spanGaps: false, value: (_u, v) => legendValue(v, 0, " ms") },
            { label: "Loss (%)", scale: "pct", stroke: "#b42318", width: 1.5, dash: [6, 4], spanGaps: false, value: (_u, v) => legendValue(v, 1, " %") },
          ],
        },
        series.data,
        el,
      );
      window.addEventListener("resize", resize);
    });
    return () => {
      cancelled = true;
      window.removeEventListener("resize", resize);
      plot?.destroy();
    };
  }, [series, latencyThresholdMs]);
  return (
    <figure className="chart">
      <div ref={holder} role="img" aria-label={`${title}: ${series.summary}`} />
      <figcaption className="chart__caption">{series.summary}</figcaption>
    </figure>
  );
}
