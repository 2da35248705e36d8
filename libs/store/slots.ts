import { crc32 } from 'node:zlib';

/**
 * Accounts hash into a fixed number of slots; workers own slots, never single accounts, so the
 * coordination a worker does (leases, renewals, notifications) grows with slots and workers, not
 * with accounts. The number is part of the data layout (keys carry the slot): never change it on a
 * running deployment.
 */
export const SLOT_COUNT = 4096;

export function slotOf(accountId: string): number {
  return crc32(accountId) % SLOT_COUNT;
}

/**
 * Redis Cluster hash tag of a slot: every key of one slot (its lease, fence, account set, version,
 * and its accounts' records and cursors) lands on one cluster hash slot, so one script can touch
 * them together.
 */
export function slotTag(slot: number): string {
  return `{s${slot}}`;
}
