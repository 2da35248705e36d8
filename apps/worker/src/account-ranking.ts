import { createHash } from 'node:crypto';

function score(workerId: string, accountId: string): bigint {
  return createHash('sha256').update(`${workerId}\n${accountId}`).digest().readBigUInt64BE(0);
}

/**
 * Rendezvous (highest-random-weight) hashing: every worker computes the same owner for an
 * account from the same member list, and when a worker joins or leaves only the accounts it wins
 * or held move — about 1/N of them — instead of a reshuffle.
 */
export function rankedOwner(accountId: string, workers: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const worker of workers) {
    const s = score(worker, accountId);
    if (s > bestScore || (s === bestScore && best !== undefined && worker < best)) {
      best = worker;
      bestScore = s;
    }
  }
  return best;
}
