export { metrics, metricsRegistry } from './metrics';
export { clusterExport, clusterMetrics, clusterRegistry, renderMetrics } from './cluster-metrics';
export { BoundedLabel } from './bounded-label';
