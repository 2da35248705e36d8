export { runRole, type Stop } from './run-role';
export { DEFAULT_OPS_PORTS, serveOps, type OpsRole } from './ops';
export { HealthCheck, type Pingable, LIVE_BODY, NOT_READY_BODY, OPS_PATHS, READY_BODY } from './health';
export { startOpsServer } from './ops-server';
