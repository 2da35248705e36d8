import 'reflect-metadata';
import { bootstrapApi } from '../../api/src/bootstrap';
import { bootstrapDispatcher } from '../../dispatcher/src/bootstrap';
import { bootstrapWorker } from '../../worker/src/bootstrap';
import { runRole, serveOps } from '@mailpush/runtime';

/** One machine, one process: api + worker + dispatcher together (`npm start`). */
runRole('all', async () => {
  const dispatcher = await bootstrapDispatcher();
  const worker = await bootstrapWorker();
  const { app, url } = await bootstrapApi();
  // One process, one registry: one ops server for the three roles.
  const stopOps = await serveOps(app, 'all');
  process.stdout.write(
    `\nmailpush is running (api + worker + dispatcher)\n  Web form:  ${url}/\n  API:       ${url}/v1\n  Health:    ${url}/healthz\n  Ctrl-C to stop.\n\n`,
  );
  return async () => {
    await stopOps();
    await app.close();
    await worker.close();
    await dispatcher.close();
  };
});
