#!/usr/bin/env node
// sikkerkey-vault: the vault server's command line (init | serve | dev).
console.log('sikkerkey-vault: init | serve | dev (coming with the vault core)');
