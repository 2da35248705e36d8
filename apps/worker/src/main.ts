import 'reflect-metadata';
import { runRole, serveOps } from '@mailpush/runtime';
import { AccountSupervisor } from './account-supervisor';
import { bootstrapWorker } from './bootstrap';

runRole('worker', async () => {
  const app = await bootstrapWorker();
  const supervisor = app.get(AccountSupervisor);
  const stopOps = await serveOps(app, 'worker', () => supervisor.ready());
  return async () => {
    await stopOps();
    await app.close();
  };
});
