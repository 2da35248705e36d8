import 'reflect-metadata';
import { runRole } from '../../../libs/runtime';
import { bootstrapDispatcher } from './bootstrap';

runRole('dispatcher', async () => {
  const app = await bootstrapDispatcher();
  return () => app.close();
});
