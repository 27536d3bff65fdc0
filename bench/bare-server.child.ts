// The baseline of the gateway benchmark: a bare Koa handler that returns a fixed XML body of the same size.
import { createServer, type Server } from 'node:http';
import Koa from 'koa';
import { processStats, serveParent } from './lib/child.ts';

const bytes = Number(process.argv[2] ?? 1000);

await serveParent<{ url: string }>(async () => {
  const open = '<response status="success"><result><system>';
  const close = '</system></result></response>';
  const body = open + 'x'.repeat(Math.max(0, bytes - open.length - close.length)) + close;
  const app = new Koa();
  app.use((ctx) => {
    ctx.set('Content-Type', 'application/xml; charset=UTF-8');
    ctx.body = body;
  });
  const server: Server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    info: { url: `http://127.0.0.1:${port}` },
    handlers: { stats: () => processStats() },
    async onStop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
});
