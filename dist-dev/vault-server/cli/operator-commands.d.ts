import type { Command } from 'commander';
/**
 * `sikkerkey operator …`: the roster, invitations and keys (docs/operators.md).
 *
 * @example
 *   sikkerkey operator invite ana --role admin --expires 24h --json
 *   sikkerkey operator accept --url 'https://vault.example.com/ui/accept#token=skinv_…' --key-file ~/.sikkerkey/ana.key
 *   sikkerkey operator rotate-key --key-file ~/.sikkerkey/ana-2026.key
 */
export declare function operatorCommands(program: Command): void;
/** `--url` may be the invitation link (`https://vault/ui/accept#token=…`): its origin and token. */
export declare function parseInvitationUrl(link: string, token: string | undefined): {
    url: string;
    token: string;
};
