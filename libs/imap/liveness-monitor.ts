import { systemClock, type Clock } from './clock';

/**
 * Never trusts a quiet socket. Watches the count of bytes received from the server; after
 * `probeAfterMs` without a single byte it sends a probe (NOOP), and if the probe is not answered
 * within `probeTimeoutMs` it declares the connection dead. TCP keepalive alone cannot see a peer
 * or middlebox that still acknowledges packets but no longer forwards them, nor a server process
 * that hangs; and while a probe's bytes are unacknowledged, keepalive does not run at all (the
 * kernel retransmits for up to ~15 min instead).
 */
export interface LivenessSettings {
  probeAfterMs: number;
  probeTimeoutMs: number;
}

export interface LivenessTarget {
  /** Bytes received from the server so far on this connection (monotonic). */
  received(): number;
  /** Sends the probe; resolves when the server answered it. */
  probe(): Promise<void>;
  /** The connection is dead: no answer to the probe in time, or the probe failed. */
  dead(reason: 'probe_timeout' | 'probe_failed', err?: unknown): void;
}

export type MonitorClock = Clock;

/**
 * Silence is sampled this many times per `probeAfterMs`, so a probe goes out between
 * probeAfterMs and probeAfterMs * (1 + 1/6) after the last byte: 90-105 s with the defaults.
 */
const SAMPLES_PER_WINDOW = 6;
const MIN_SAMPLE_MS = 50;

export class LivenessMonitor {
  private lastReceived = -1;
  private lastActivityAt = 0;
  private timer: unknown;
  private probing = false;
  private stopped = true;

  constructor(
    private readonly settings: LivenessSettings,
    private readonly target: LivenessTarget,
    private readonly clock: MonitorClock = systemClock,
  ) {}

  start(): void {
    this.stopped = false;
    this.lastReceived = this.target.received();
    this.lastActivityAt = this.clock.now();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private get sampleMs(): number {
    return Math.max(MIN_SAMPLE_MS, Math.floor(this.settings.probeAfterMs / SAMPLES_PER_WINDOW));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => this.sample(), this.sampleMs);
  }

  private sample(): void {
    this.timer = undefined;
    if (this.stopped || this.probing) return;
    const now = this.clock.now();
    const received = this.target.received();
    if (received !== this.lastReceived) {
      this.lastReceived = received;
      this.lastActivityAt = now;
    }
    if (now - this.lastActivityAt >= this.settings.probeAfterMs) {
      this.runProbe();
      return;
    }
    this.schedule();
  }

  private runProbe(): void {
    this.probing = true;
    let settled = false;
    const deadline = this.clock.setTimeout(() => {
      if (settled || this.stopped) return;
      settled = true;
      this.stopped = true;
      this.target.dead('probe_timeout');
    }, this.settings.probeTimeoutMs);
    this.target.probe().then(
      () => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(deadline);
        this.probing = false;
        this.lastReceived = this.target.received();
        this.lastActivityAt = this.clock.now();
        this.schedule();
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(deadline);
        if (this.stopped) return;
        this.stopped = true;
        this.target.dead('probe_failed', err);
      },
    );
  }
}
