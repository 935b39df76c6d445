/**
 * A test tool: a TCP proxy on 127.0.0.1 that forwards to a target and records every byte in both
 * directions — to prove what an eavesdropper on a link would see — and that can be cut (open
 * connections reset, new ones refused) and restored, to take a service away from a client.
 *
 * @example
 *   const proxy = await startRecordingProxy({ target: { host: '127.0.0.1', port: vaultPort } });
 *   // … point a client at 127.0.0.1:proxy.port …
 *   assert.equal(proxy.recorded().includes(Buffer.from(password)), false);
 *   await proxy.close();
 */
import { createServer, connect as tcpConnect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordingProxy {
  port: number;
  /** Every byte seen so far, both directions, in arrival order. */
  recorded(): Buffer;
  /** Bytes from clients towards the target. */
  fromClients(): Buffer;
  /** Bytes from the target towards clients. */
  fromTarget(): Buffer;
  /** Connections accepted (and forwarded) so far. */
  connections(): number;
  /** Where new connections go from now on. */
  setTarget(target: { host?: string; port: number }): void;
  /** Holds back what the target sends (clients wait for an answer) until cut() or restore(). */
  stall(): void;
  /** Resets every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startRecordingProxy(opts: { target?: { host?: string; port: number }; record?: boolean } = {}): Promise<RecordingProxy> {
  let target = opts.target;
  const record = opts.record ?? true;
  const all: Buffer[] = [];
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const open = new Set<Socket>();
  let accepted = 0;
  let isCut = false;
  let stalled = false;

  const server = createServer((client) => {
    if (isCut || target === undefined) {
      client.resetAndDestroy();
      return;
    }
    accepted += 1;
    const upstream = tcpConnect({ host: target.host ?? '127.0.0.1', port: target.port });
    open.add(client);
    open.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('data', (d: Buffer) => {
      if (record) { all.push(d); up.push(d); }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (stalled) return;
      if (record) { all.push(d); down.push(d); }
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    recorded: () => Buffer.concat(all),
    fromClients: () => Buffer.concat(up),
    fromTarget: () => Buffer.concat(down),
    connections: () => accepted,
    setTarget: (t) => { target = t; },
    stall: () => { stalled = true; },
    cut: () => {
      isCut = true;
      stalled = false;
      for (const s of open) s.resetAndDestroy();
      open.clear();
    },
    restore: () => { isCut = false; stalled = false; },
    close: async () => {
      for (const s of open) s.destroy();
      open.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
