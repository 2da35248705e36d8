import 'reflect-metadata';
import { runRole } from '../../../libs/runtime';
import { bootstrapWorker } from './bootstrap';

runRole('worker', async () => {
  const app = await bootstrapWorker();
  return () => app.close();
});
