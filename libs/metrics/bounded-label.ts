/**
 * Label values that come from outside (push-service reason codes) are bounded per label family:
 * the first `limit` distinct values pass, later ones become `other`, so a service inventing
 * reasons cannot grow the series count without limit.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(private readonly limit = 40) {}

  value(raw: string): string {
    const v = /^[A-Za-z0-9_.-]{1,64}$/.test(raw) ? raw : 'other';
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.limit) return 'other';
    this.seen.add(v);
    return v;
  }
}
