/**
 * Child process of the scale simulation: hosts several simulated workers (the real SlotOwnership
 * with the watching stand-in) and answers the driver over IPC.
 */
import { configureLogging } from '@mailpush/logging';
import { startMember, type FleetMember } from '../support/slot-fleet';
import type { HostReply, HostRequest } from './scale-simulation';

configureLogging({ level: 'error' });

const redisUrl = process.argv[2] ?? '';
const leaseTtlMs = Number(process.argv[3]);
const reconcileMs = Number(process.argv[4]);
const members = new Map<string, FleetMember>();
let cpuMark = process.cpuUsage();
let cpuAt = performance.now();

function reply(r: HostReply): void {
  process.send?.(r);
}

async function handle(req: HostRequest): Promise<HostReply> {
  switch (req.op) {
    case 'start':
      await Promise.all(
        req.ids.map(async (id) => members.set(id, await startMember(redisUrl, id, { leaseTtlMs, reconcileMs }))),
      );
      return { seq: req.seq, ok: true };
    case 'stop': {
      const m = members.get(req.id);
      members.delete(req.id);
      await m?.stop();
      return { seq: req.seq, ok: true };
    }
    case 'crash': {
      const m = members.get(req.id);
      members.delete(req.id);
      await m?.crash();
      return { seq: req.seq, ok: true };
    }
    case 'snapshot': {
      const watched: Record<string, number[]> = {};
      let accounts = 0;
      for (const [id, m] of members) {
        const slots = new Set<number>();
        for (const lease of m.host.watching.values()) slots.add(lease.slot);
        watched[id] = [...slots];
        accounts += m.host.watching.size;
      }
      return { seq: req.seq, ok: true, watched, accounts };
    }
    case 'cpu-mark':
      cpuMark = process.cpuUsage();
      cpuAt = performance.now();
      return { seq: req.seq, ok: true };
    case 'cpu-read': {
      const used = process.cpuUsage(cpuMark);
      const wallMs = performance.now() - cpuAt;
      return { seq: req.seq, ok: true, cpuMs: (used.user + used.system) / 1000, wallMs, members: members.size };
    }
    case 'exit':
      await Promise.all([...members.values()].map((m) => m.stop()));
      setImmediate(() => process.exit(0));
      return { seq: req.seq, ok: true };
  }
}

process.on('message', (req: HostRequest) => {
  handle(req).then(reply, (err: unknown) => reply({ seq: req.seq, ok: false, error: String(err) }));
});
process.on('disconnect', () => process.exit(0));
