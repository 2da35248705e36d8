import 'reflect-metadata';
import { runRole } from '../../../libs/runtime';
import { bootstrapApi } from './bootstrap';

runRole('api', async () => {
  const { app, url } = await bootstrapApi();
  process.stdout.write(`mailpush api listening on ${url} (web form: ${url}/)\n`);
  return () => app.close();
});
