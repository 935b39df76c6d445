/**
 * A small MaxMind-format country database for the country-allowlist tests, written by Perl's
 * MaxMind::DB::Writer (Debian: libmaxmind-db-writer-perl; .ci/run installs it). Records look like
 * GeoLite2-Country's: `{ country: { iso_code: 'NO' } }`. The documentation ranges are kept
 * (the writer drops reserved networks by default).
 *
 * @example
 *   const db = await buildGeoIpDb();            // 192.0.2.0/24 → NO, 198.51.100.0/24 → SE, 203.0.113.0/24 → US
 *   const v = await startTestVault(store, { geoipDb: db.path });
 *   await db.remove();
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
const run = promisify(execFile);
export const TEST_COUNTRIES = Object.freeze({
    '192.0.2.0/24': 'NO',
    '198.51.100.0/24': 'SE',
    '203.0.113.0/24': 'US',
});
const WRITER = String.raw `
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;
my ($out, @pairs) = @ARGV;
my $tree = MaxMind::DB::Writer::Tree->new(
  ip_version => 6,
  record_size => 24,
  database_type => 'SikkerKey-Test-Country',
  languages => ['en'],
  description => { en => 'SikkerKey test country database' },
  remove_reserved_networks => 0,
  alias_ipv6_to_ipv4 => 1,
  map_key_type_callback => sub { { country => 'map', iso_code => 'utf8_string' }->{ $_[0] } },
);
while (@pairs) {
  my $network = shift @pairs;
  my $code = shift @pairs;
  $tree->insert_network($network, { country => { iso_code => $code } });
}
open my $fh, '>:raw', $out or die "cannot write $out: $!";
$tree->write_tree($fh);
close $fh or die "cannot close $out: $!";
`;
/** Builds the database in a temporary directory; fails loudly when Perl or the writer module is missing. */
export async function buildGeoIpDb(networks = TEST_COUNTRIES) {
    const dir = await mkdtemp(join(tmpdir(), 'sk-geoip-'));
    const script = join(dir, 'write-mmdb.pl');
    const path = join(dir, 'test-country.mmdb');
    await writeFile(script, WRITER);
    try {
        await run('perl', [script, path, ...Object.entries(networks).flat()], { timeout: 30_000 });
    }
    catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`could not build the test GeoIP database (install libmaxmind-db-writer-perl): ${err.message}`, { cause: err });
    }
    return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}
//# sourceMappingURL=geoip-db.js.map