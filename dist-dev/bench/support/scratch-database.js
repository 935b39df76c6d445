/**
 * A fresh PostgreSQL database for one bench run, created through the server PG_URL names
 * (`sk_bench_<random>`) and dropped afterwards (on SIGINT / SIGTERM too).
 *
 * @example
 *   const db = await createScratchDatabase(process.env.PG_URL!);
 *   // … a vault with --database-url db.url …
 *   await db.drop();
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onInterrupt } from './child-processes.js';
export async function createScratchDatabase(serverUrl) {
    const name = `sk_bench_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
        await admin.query(`CREATE DATABASE ${name}`);
    }
    finally {
        await admin.end();
    }
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const drop = async () => {
        const c = new pg.Client({ connectionString: serverUrl });
        await c.connect();
        try {
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        }
        finally {
            await c.end();
        }
    };
    const forget = onInterrupt(drop);
    return { name, url: url.toString(), drop: async () => { forget(); await drop(); } };
}
//# sourceMappingURL=scratch-database.js.map