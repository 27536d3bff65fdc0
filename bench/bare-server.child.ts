// The baseline of the gateway benchmark: a bare Koa handler that returns a fixed XML body of the same
// size, over plain HTTP and, once given the gateway's certificate, over HTTPS.
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Koa from 'koa';
import { processStats, serveParent } from './lib/child.ts';

const bytes = Number(process.argv[2] ?? 1000);

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(String((server.address() as { port: number }).port))));
}

await serveParent<{ url: string }>(async () => {
  const open = '<response status="success"><result><system>';
  const close = '</system></result></response>';
  const body = open + 'x'.repeat(Math.max(0, bytes - open.length - close.length)) + close;
  const app = new Koa();
  app.use((ctx) => {
    ctx.set('Content-Type', 'application/xml; charset=UTF-8');
    ctx.body = body;
  });
  const servers: Server[] = [createServer(app.callback())];
  const port = await listen(servers[0]!);
  return {
    info: { url: `http://127.0.0.1:${port}` },
    handlers: {
      stats: () => processStats(),
      /** Serve the same app over HTTPS with this certificate; answers the origin. */
      async https(tls: { cert: string; key: string }) {
        const server = createHttpsServer({ cert: tls.cert, key: tls.key }, app.callback()) as unknown as Server;
        servers.push(server);
        return `https://127.0.0.1:${await listen(server)}`;
      },
    },
    async onStop() {
      for (const s of servers) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
});
