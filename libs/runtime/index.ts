export { runRole, type Stop } from './run-role';
