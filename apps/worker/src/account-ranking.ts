import { createHash } from 'node:crypto';
import { SLOT_COUNT, slotOf } from '@mailpush/store';

/** Scores of one worker for every slot, computed once per worker id (4,096 hashes). */
const scoreCache = new Map<string, Uint32Array>();
const SCORE_CACHE_LIMIT = 1024;

function scoresOf(workerId: string): Uint32Array {
  let scores = scoreCache.get(workerId);
  if (!scores) {
    scores = new Uint32Array(SLOT_COUNT);
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      scores[slot] = createHash('sha256').update(`${workerId}\n${slot}`).digest().readUInt32BE(0);
    }
    if (scoreCache.size >= SCORE_CACHE_LIMIT) scoreCache.clear();
    scoreCache.set(workerId, scores);
  }
  return scores;
}

/**
 * Rendezvous (highest-random-weight) hashing of slots over workers: every worker computes the same
 * owner for a slot from the same member list, and when a worker joins or leaves only the slots it
 * wins or held move — about 1/N of them — instead of a reshuffle.
 */
export function rankedSlotOwner(slot: number, workers: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const worker of workers) {
    const s = scoresOf(worker)[slot] ?? 0;
    if (s > bestScore || (s === bestScore && best !== undefined && worker < best)) {
      best = worker;
      bestScore = s;
    }
  }
  return best;
}

/** The slots `workerId` wins among `workers`. */
export function slotsRankedTo(workerId: string, workers: readonly string[]): Set<number> {
  const mine = new Set<number>();
  if (!workers.includes(workerId)) return mine;
  const all = workers.map(scoresOf);
  const own = scoresOf(workerId);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const s = own[slot] ?? 0;
    let wins = true;
    for (let i = 0; i < workers.length && wins; i++) {
      const other = all[i]?.[slot] ?? 0;
      const w = workers[i] ?? '';
      if (other > s || (other === s && w < workerId)) wins = false;
    }
    if (wins) mine.add(slot);
  }
  return mine;
}

/** The worker an account ranks to: the owner of its slot. */
export function rankedOwner(accountId: string, workers: readonly string[]): string | undefined {
  return rankedSlotOwner(slotOf(accountId), workers);
}
