#!/usr/bin/env bash
# EC2 user-data: installs and enrolls the SikkerKey agent at first boot with the same bootstrap
# as any systemd host (packaging/systemd/bootstrap.sh). Paste it as the instance's user data (or
# a launch template's) after filling in the settings below; cloud-init runs it once, as root.
#
# What it needs:
#   AGENT_BUNDLE_URL    a tar.gz with sikkerkey-agent, bootstrap.sh and sikkerkey-agent.service
#                       at its top level (make it with: npm run build:agent &&
#                       tar -czf sikkerkey-agent-linux-x64.tar.gz -C dist/bin sikkerkey-agent
#                         -C ../../packaging/systemd bootstrap.sh sikkerkey-agent.service)
#                       served from somewhere this instance can reach (S3, an artifact store)
#   AGENT_BUNDLE_SHA256 its SHA-256, so a tampered download is refused
#   VAULT_URL           the vault
#   TOKEN_SSM_PARAMETER an SSM SecureString parameter holding the enrollment token (the instance
#                       role needs ssm:GetParameter on it, and kms:Decrypt for its key); the
#                       token then never appears in the user data, which anyone with
#                       ec2:DescribeInstanceAttribute can read
# Labels: the machine's labels are the token's — create it with `sikkerkey enroll-token create …
# --label L` (and a name template such as 'ec2-{hostname}'); the agent has no labels setting.
set -euo pipefail

# (each may also come from the environment, e.g. a launch template wrapper)
: "${AGENT_BUNDLE_URL:=https://artifacts.example.com/sikkerkey/sikkerkey-agent-linux-x64.tar.gz}"
: "${AGENT_BUNDLE_SHA256:=0000000000000000000000000000000000000000000000000000000000000000}"
: "${VAULT_URL:=https://vault.example.com:8200}"
: "${TOKEN_SSM_PARAMETER:=/sikkerkey/enrollment-token}"

# cloud-init keeps this output in /var/log/cloud-init-output.log
log() { printf 'sikkerkey user-data: %s\n' "$*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# IMDSv2: a session token first (instances that require IMDSv2 refuse plain GETs)
imds_token=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
imds() { curl -fsS -H "X-aws-ec2-metadata-token: $imds_token" "http://169.254.169.254/latest/meta-data/$1"; }
instance_id=$(imds instance-id)
region=$(imds placement/region)

log "downloading the agent bundle"
curl -fsSL --retry 5 --retry-connrefused -o bundle.tar.gz "$AGENT_BUNDLE_URL"
echo "$AGENT_BUNDLE_SHA256  bundle.tar.gz" | sha256sum -c --quiet - || { log "bundle checksum mismatch: refusing it"; exit 1; }
tar -xzf bundle.tar.gz

log "reading the enrollment token from SSM $TOKEN_SSM_PARAMETER"
(umask 077 && aws ssm get-parameter --region "$region" --name "$TOKEN_SSM_PARAMETER" --with-decryption \
  --query Parameter.Value --output text >token)

# The instance id is the hostname the machine states (advisory; the token's name template uses it).
bash ./bootstrap.sh --vault-url "$VAULT_URL" --token-file "$work/token" --binary ./sikkerkey-agent \
  --hostname "$instance_id"
log "agent enrolled and running"
