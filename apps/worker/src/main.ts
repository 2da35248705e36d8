import 'reflect-metadata';
import { runRole, serveOps } from '../../../libs/runtime';
import { bootstrapWorker } from './bootstrap';

runRole('worker', async () => {
  const app = await bootstrapWorker();
  const stopOps = await serveOps(app, 'worker');
  return async () => {
    await stopOps();
    await app.close();
  };
});
