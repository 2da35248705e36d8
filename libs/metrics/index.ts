export { metrics, metricsRegistry } from './metrics';
export { startOpsServer } from './ops-server';
