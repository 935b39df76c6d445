// MySQL 8 (`dual`: RETAIN CURRENT PASSWORD / DISCARD OLD PASSWORD) through the same conformance
// suite as MariaDB, whenever MYSQL8_URL points at a MySQL ≥ 8.0.14 server. The CI machines have
// none (Debian ships MariaDB), so there this file reports one skipped test — never a pass.
import { test } from 'node:test';
const url = process.env['MYSQL8_URL'];
if (url) {
    process.env['MYSQL_URL'] = url;
    // The MariaDB suite detects MySQL ≥ 8.0.14 and adds the dual strategy's cases.
    await import('./mysql-conformance.test.js');
}
else {
    test('MySQL 8 dual-password conformance', { skip: 'MYSQL8_URL is not set (no MySQL 8 server on this machine)' }, () => undefined);
}
//# sourceMappingURL=mysql8-conformance.test.js.map