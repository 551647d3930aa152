/**
 * `npm run token -- --role factory --id f-1` prints one token and nothing else.
 * The secret is the local runtime's (.local/token-secret), or --secret / C2M_TOKEN_SECRET
 * (for a deployed stack: the value of its token secret in Secrets Manager).
 */
import { parseArgs } from 'node:util';
import { localTokenSecret } from '../lib/local/runtime.ts';
import { Principal, roles, signToken } from '../functions/shared/tokens.ts';

const usage = `usage: npm run token -- --role <${roles.join('|')}> --id <id> [--secret <secret>] [--data-dir .local] [--ttl-days 30]`;

const main = () => {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      id: { type: 'string' },
      secret: { type: 'string' },
      'data-dir': { type: 'string', default: '.local' },
      'ttl-days': { type: 'string', default: '30' },
    },
  });
  const principal = Principal.safeParse({ role: values.role, id: values.id });
  if (!principal.success) {
    process.stderr.write(`${principal.error.issues.map((i) => `--${i.path.join('.') || 'role'}: ${i.message}`).join('\n')}\n${usage}\n`);
    process.exit(2);
  }
  const secret = values.secret ?? process.env.C2M_TOKEN_SECRET ?? localTokenSecret(values['data-dir']);
  if (!secret) {
    process.stderr.write(`No token secret: run \`npm start\` once (it creates ${values['data-dir']}/token-secret) or pass --secret.\n${usage}\n`);
    process.exit(2);
  }
  const days = Number(values['ttl-days']);
  if (!Number.isFinite(days) || days <= 0) {
    process.stderr.write(`--ttl-days must be a positive number\n${usage}\n`);
    process.exit(2);
  }
  process.stdout.write(`${signToken(secret, principal.data, Math.round(days * 86_400))}\n`);
};

main();
