import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { WebhookSecretUse } from '#topology';
import type { SealedSecret } from '#domain/webhooks.ts';
import { webhookSecretsKey } from '#shared/config.ts';

/**
 * Webhook secrets at rest: each is encrypted with KMS under the
 * webhook-secrets key, with an encryption context naming its webhook and its
 * use. The context is bound into the ciphertext (a sealed secret copied onto
 * another webhook, or from `reveal` to `sign`, does not open), and IAM grants
 * kms:Decrypt per use (lib/aws/grants.ts): only the deliverer opens `sign`,
 * only the factory API opens `reveal`. Locally the AWS emulator plays KMS
 * with its own key (lib/local/emulator/kms-api.ts); the same calls run.
 *
 * Stored as `kms1:<base64 ciphertext blob>`, so a later scheme can be told apart.
 * A secret stored before sealing (`whsec_…`, in the clear) still opens as
 * itself; rotating it stores the new one sealed.
 */
const client = new KMSClient({});
const prefix = 'kms1:';

const contextOf = (webhookId: string, use: WebhookSecretUse) => ({ 'c2m:webhookId': webhookId, 'c2m:use': use });

export const sealSecret = async (plaintext: string, webhookId: string, use: WebhookSecretUse): Promise<SealedSecret> => {
  const out = await client.send(
    new EncryptCommand({
      KeyId: webhookSecretsKey(),
      Plaintext: Buffer.from(plaintext, 'utf8'),
      EncryptionContext: contextOf(webhookId, use),
    }),
  );
  if (!out.CiphertextBlob) throw new Error('KMS returned no ciphertext');
  return `${prefix}${Buffer.from(out.CiphertextBlob).toString('base64')}` as SealedSecret;
};

/**
 * Opened secrets, by their sealed form: a rotation changes the sealed form, so
 * an entry never outlives the secret. Bounded, and per process: a warm
 * deliverer does not call KMS for every POST to the same webhook.
 */
const opened = new Map<string, string>();
const maxOpened = 500;

export const openSecret = async (sealed: SealedSecret, webhookId: string, use: WebhookSecretUse): Promise<string> => {
  // Webhooks created before secrets were sealed keep their plain secret until it is rotated (docs/webhooks.md).
  if (sealed.startsWith('whsec_')) return sealed;
  const cacheKey = `${use}|${webhookId}|${sealed}`;
  const hit = opened.get(cacheKey);
  if (hit !== undefined) return hit;
  if (!sealed.startsWith(prefix)) throw new Error(`webhook ${webhookId}: the stored secret is not sealed (${sealed.slice(0, 5)}…)`);
  const out = await client.send(
    new DecryptCommand({
      KeyId: webhookSecretsKey(),
      CiphertextBlob: Buffer.from(sealed.slice(prefix.length), 'base64'),
      EncryptionContext: contextOf(webhookId, use),
    }),
  );
  if (!out.Plaintext) throw new Error('KMS returned no plaintext');
  const plaintext = Buffer.from(out.Plaintext).toString('utf8');
  if (opened.size >= maxOpened) opened.delete(opened.keys().next().value as string);
  opened.set(cacheKey, plaintext);
  return plaintext;
};
