export { runRole, type Stop } from './run-role';
export { DEFAULT_OPS_PORTS, serveOps, type OpsRole } from './ops';
