import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AwsApiError } from './errors.ts';

/**
 * The two KMS calls c2m makes (functions/adapters/secret-box.ts), Encrypt and
 * Decrypt under one symmetric key, as KMS answers them: the encryption context
 * is authenticated with the ciphertext (AES-256-GCM, the context as additional
 * data), so a ciphertext opens only with the context it was sealed with, and a
 * wrong one is InvalidCiphertextException. The key is kept in the data
 * directory (mode 0600) so secrets survive a restart; without one it lives in
 * memory. What is not emulated is IAM: locally every function could decrypt.
 */
export interface LocalKms {
  /** The key's ARN, as WEBHOOK_SECRETS_KEY names it. */
  readonly keyArn: string;
  readonly handle: (operation: string, input: Record<string, unknown>) => Promise<unknown>;
}

const version = 1;

const loadKey = (file: string | null): Buffer => {
  if (file && existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  const key = randomBytes(32);
  if (file) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, key.toString('hex'), { mode: 0o600 });
  }
  return key;
};

/** The context as KMS treats it: a map, whatever order its pairs came in. */
const additionalData = (context: unknown): Buffer => {
  if (context === undefined) return Buffer.alloc(0);
  if (!context || typeof context !== 'object' || Array.isArray(context)) throw new AwsApiError('ValidationException', 'EncryptionContext must be a map');
  const pairs = Object.entries(context as Record<string, unknown>).map(([k, v]) => [k, String(v)] as const);
  return Buffer.from(JSON.stringify(pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), 'utf8');
};

const blob = (input: Record<string, unknown>, name: string): Buffer => {
  const v = input[name];
  if (typeof v !== 'string' || v.length === 0) throw new AwsApiError('ValidationException', `${name} is required`);
  return Buffer.from(v, 'base64');
};

export const createLocalKms = (opts: { region: string; accountId: string; keyFile: string | null }): LocalKms => {
  const keyId = 'local-webhook-secrets';
  const keyArn = `arn:aws:kms:${opts.region}:${opts.accountId}:key/${keyId}`;
  const key = loadKey(opts.keyFile);
  const known = (id: unknown) => id === undefined || id === keyArn || id === keyId;

  const handle = async (operation: string, input: Record<string, unknown>): Promise<unknown> => {
    switch (operation) {
      case 'Encrypt': {
        if (!known(input.KeyId) || input.KeyId === undefined) throw new AwsApiError('NotFoundException', `Key '${String(input.KeyId)}' does not exist`);
        const plaintext = blob(input, 'Plaintext');
        if (plaintext.length > 4096) throw new AwsApiError('ValidationException', 'Plaintext is longer than 4096 bytes');
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        cipher.setAAD(additionalData(input.EncryptionContext));
        const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
        const out = Buffer.concat([Buffer.from([version]), iv, cipher.getAuthTag(), sealed]);
        return { CiphertextBlob: out.toString('base64'), KeyId: keyArn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'Decrypt': {
        if (!known(input.KeyId)) throw new AwsApiError('IncorrectKeyException', 'The key ID in the request does not identify the key that encrypted the ciphertext');
        const data = blob(input, 'CiphertextBlob');
        if (data.length < 29 || data[0] !== version) throw new AwsApiError('InvalidCiphertextException', 'The ciphertext is invalid');
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(1, 13));
          decipher.setAAD(additionalData(input.EncryptionContext));
          decipher.setAuthTag(data.subarray(13, 29));
          const plaintext = Buffer.concat([decipher.update(data.subarray(29)), decipher.final()]);
          return { Plaintext: plaintext.toString('base64'), KeyId: keyArn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
        } catch {
          // A wrong context and a tampered blob are the same answer, as in KMS.
          throw new AwsApiError('InvalidCiphertextException', 'The ciphertext is invalid');
        }
      }
      default:
        throw new AwsApiError('UnknownOperationException', `${operation} is not supported by the local KMS.`);
    }
  };
  return { keyArn, handle };
};
