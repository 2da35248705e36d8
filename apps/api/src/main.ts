import 'reflect-metadata';
import { runRole, serveOps } from '@mailpush/runtime';
import { bootstrapApi } from './bootstrap';

runRole('api', async () => {
  const { app, url } = await bootstrapApi();
  const stopOps = await serveOps(app, 'api');
  process.stdout.write(`mailpush api listening on ${url} (web form: ${url}/)\n`);
  return async () => {
    await stopOps();
    await app.close();
  };
});
