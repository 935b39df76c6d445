/**
 * A webhook receiver on 127.0.0.1 that answers 200 to everything and keeps each delivery's headers
 * and raw body (to verify its signature). The vault sends to it only when run with
 * `--webhook-allow-cidr 127.0.0.1/32`: loopback is a private address.
 *
 * @example
 *   const rx = webhookReceiver(); await rx.listen();
 *   await sk('webhook', 'add', rx.url, '--events', 'all');
 *   verifyWebhook({ secrets: [secret], headers: rx.got[0].headers, body: rx.got[0].body });
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery { headers: Record<string, string | string[] | undefined>; body: string }

export function webhookReceiver(): { got: ReceivedDelivery[]; readonly url: string; listen(): Promise<void>; close(): Promise<void> } {
  const got: ReceivedDelivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  return {
    got,
    get url() { return `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`; },
    listen: () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
