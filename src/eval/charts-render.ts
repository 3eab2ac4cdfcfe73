/**
 * Vega-Lite spec -> standalone SVG string, offline: vega-lite compiles to a Vega spec and vega's
 * headless View renders it with renderer 'none' (no canvas, no DOM). The loader refuses every
 * load, so a spec can only use inline data and nothing is fetched.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const offlineLoader = {
  ...vega.loader(),
  load: () => Promise.reject(new Error('report charts use inline data only; loading is disabled')),
  sanitize: () => Promise.reject(new Error('report charts use inline data only; loading is disabled')),
  http: () => Promise.reject(new Error('report charts use inline data only; network is disabled')),
  file: () => Promise.reject(new Error('report charts use inline data only; files are disabled')),
} as unknown as vega.Loader;

/** Shared look: system fonts only (nothing to download), quiet grid, readable sizes. */
const CONFIG = {
  font: 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif',
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee', domainColor: '#888', tickColor: '#888' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 13, anchor: 'start' as const, fontWeight: 600 },
};

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', loader: offlineLoader, logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
