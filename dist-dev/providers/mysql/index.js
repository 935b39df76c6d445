/** The MySQL / MariaDB provider: the folder's only public face. */
export { mysqlProvider } from './mysql-provider.js';
//# sourceMappingURL=index.js.map