export { LoginLimiter, LINK_SESSION_MAX_REFUSALS, type LoginRequester } from './login-limiter';
