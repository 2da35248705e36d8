/** The probe paths every role answers (deploy/k8s points its probes here; a spec checks it does). */
export const OPS_PATHS = { health: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;

export const LIVE_BODY = { status: 'ok' } as const;
export const READY_BODY = { status: 'ready' } as const;
export const NOT_READY_BODY = { status: 'not_ready' } as const;

/** What readiness asks of the Redis client. */
export interface Pingable {
  ping(): Promise<string>;
}

/** A probe that waits longer than Kubernetes' default 1 s timeout answers nothing useful. */
const READINESS_TIMEOUT_MS = 1000;

/**
 * Health of a role, the one implementation behind `/healthz` and `/readyz` on every ops port and on
 * the api's public port. Liveness never depends on Redis, or a Redis blip would restart every pod;
 * readiness needs Redis to answer PING within a second and, where given, the role's own condition
 * (a worker: its initial takeover done, so that a rolling update waits for it).
 */
export class HealthCheck {
  constructor(
    private readonly redis: Pingable,
    private readonly roleReady: () => boolean = () => true,
    private readonly timeoutMs = READINESS_TIMEOUT_MS,
  ) {}

  live(): typeof LIVE_BODY {
    return LIVE_BODY;
  }

  /** A probe answers; a role's check that throws means "not ready", never a hung request. */
  private roleSaysReady(): boolean {
    try {
      return this.roleReady();
    } catch {
      return false;
    }
  }

  async ready(): Promise<boolean> {
    if (!this.roleSaysReady()) return false;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.timeoutMs);
      timer.unref();
    });
    const answered = this.redis.ping().then(
      (reply) => reply === 'PONG',
      () => false,
    );
    try {
      return await Promise.race([answered, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
