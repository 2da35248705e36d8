export { runRole, type Stop } from './run-role';
export { serveOps } from './ops';
