export {
  loadConfig,
  ConfigError,
  type AppConfig,
  type ApnsConfig,
  type RedisTarget,
  type RedisNode,
  type FcmConfig,
  type ImapPolicyConfig,
  type LimitsConfig,
  type RateLimitConfig,
  type ImapWatchConfig,
  type PushConfig,
  type WebPushConfig,
} from './app-config';
export { ConfigModule, APP_CONFIG } from './config.module';
export { SECRET_ENV_KEYS } from './config.schema';
