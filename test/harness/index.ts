export { eventually, type EventuallyOptions } from './eventually';
export { freePort, freePorts, isPortOpen, waitForPortClosed } from './free-port';
export { startRedis, type RedisHandle } from './redis-server';
export { startDovecot, type DeliverInput, type DovecotHandle, type DovecotOptions, type DovecotUser } from './dovecot';
export { buildMessage, encodeHeaderText, type MailMessage, type MailMessageInput } from './mail-message';
export {
  findExecutable,
  isAlive,
  makeTemporaryDir,
  onProcessExit,
  spawnGuarded,
  type GuardedProcess,
  type TemporaryDir,
} from './guarded-process';
export { testCa, issueServerCert, type TestCa, type ServerCert } from './test-ca';
export {
  startFaultProxy,
  type FaultProxy,
  type ProxiedConnection,
  type ConnectionScript,
  type ScriptContext,
} from './fault-proxy';
export { imapScript, type HostileKind, type ImapScriptOptions } from './imap-script';
export { startOAuthServer, type OAuthServer, type OAuthServerOptions, type AuthorizeDecision } from './oauth-server';
export {
  startSentinelSet,
  startCluster,
  type SentinelSetHandle,
  type ClusterHandle,
  type RedisNodeHandle,
} from './redis-topologies';
