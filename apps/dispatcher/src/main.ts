import 'reflect-metadata';
import { runRole, serveOps } from '@mailpush/runtime';
import { bootstrapDispatcher } from './bootstrap';

runRole('dispatcher', async () => {
  const app = await bootstrapDispatcher();
  const stopOps = await serveOps(app, 'dispatcher');
  return async () => {
    await stopOps();
    await app.close();
  };
});
