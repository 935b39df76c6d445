/** The MySQL / MariaDB provider: the folder's only public face. */
export { mysqlProvider, type MysqlProviderOptions } from './mysql-provider.js';
