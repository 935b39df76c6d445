/**
 * Country lookups for ISO-3166 country allowlists, from a MaxMind-format database (GeoLite2 /
 * GeoIP2 Country or City, or any .mmdb whose records carry `country.iso_code`) given to
 * `sikkerkey-vault serve --geoip-db FILE`. The file is read once at start; restart the vault to
 * load a newer one.
 *
 * Private, loopback, link-local and unlisted addresses have no country: a machine with a country
 * allowlist is refused from them (docs/machine-lifecycle.md).
 *
 * @example
 *   const geoip = await openGeoIp('/var/lib/GeoLite2-Country.mmdb');
 *   geoip.countryOf('192.0.2.7'); // 'NO' | undefined
 */
import { readFile } from 'node:fs/promises';
import type { CountryResponse, Reader } from 'maxmind';
import { SikkerKeyError } from '../../../protocol/errors.js';

export interface GeoIpLookup {
  /** The ISO-3166 alpha-2 code of the address's country, or undefined when the database has none. */
  countryOf(ip: string): string | undefined;
}

/** Throws SK_ERR_CONFIG when the file cannot be read or is not a MaxMind database. */
export async function openGeoIp(path: string): Promise<GeoIpLookup> {
  let reader: Reader<CountryResponse>;
  try {
    // Loaded here, so a vault without --geoip-db never loads the package.
    const { Reader: MaxMindReader } = await import('maxmind');
    reader = new MaxMindReader<CountryResponse>(await readFile(path));
  } catch (cause) {
    throw new SikkerKeyError('SK_ERR_CONFIG', `--geoip-db ${path}: not a readable MaxMind database (${(cause as Error).message})`, { cause });
  }
  return {
    countryOf(ip) {
      // A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d; look the IPv4 address up.
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
      try {
        const code = reader.get(mapped ? (mapped[1] as string) : ip)?.country?.iso_code;
        return typeof code === 'string' ? code.toUpperCase() : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

/**
 * Normalises and validates an ISO-3166 alpha-2 country list (`no,se` → `['NO','SE']`).
 * Throws SK_ERR_VALIDATION for codes that are not countries (UK → use GB; EU is not a country).
 */
export function parseCountryList(codes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of codes) {
    const code = raw.trim().toUpperCase();
    const name = /^[A-Z]{2}$/.test(code) ? regionNames.of(code) : undefined;
    if (!name || name === code || name === 'Unknown Region' || code === 'UK' || code === 'EU') {
      throw new SikkerKeyError('SK_ERR_VALIDATION', `${JSON.stringify(raw.slice(0, 16))} is not an ISO-3166 alpha-2 country code (e.g. NO, SE, GB)`);
    }
    out.add(code);
  }
  if (out.size === 0) throw new SikkerKeyError('SK_ERR_VALIDATION', 'a country allowlist needs at least one country');
  return [...out].sort();
}
