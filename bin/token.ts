/**
 * `npm run token -- --role anchor --id anchor-7` prints one access token and nothing else.
 *
 * It asks the local issuer of the runtime `npm start` runs from the same data
 * directory (its dev client is kept in <data-dir>/oidc), so `npm start` must be
 * running. Anchors, operators, buyers and live rooms are named freely; a factory
 * must have been registered by an operator (POST /v1/operator/factories): this
 * never registers one. `--role platform --id <id>` is the live platform's payment
 * service: the token its own client credentials get, from a client of that id the
 * local issuer makes the first time. The token is an ES256 JWT valid for one hour.
 *
 * For a deployed stack there is nothing to run here: factories and the platform use
 * their own client credentials at the pool's token endpoint, anchors sign in.
 */
import { parseArgs } from 'node:util';
import { Principal, roles } from '../functions/shared/principal.ts';
import { devToken, devTokenSourceIn, DevTokenError } from '../lib/local/dev-tokens.ts';

const usage = `usage: npm run token -- --role <${roles.join('|')}> --id <id> [--data-dir .local]`;

const fail = (message: string): never => {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
};

const main = async () => {
  let values: { role?: string; id?: string; 'data-dir': string };
  try {
    ({ values } = parseArgs({
      options: {
        role: { type: 'string' },
        id: { type: 'string' },
        // C2M_DATA_DIR: the same default for a runtime started elsewhere (the README's story test uses it).
        'data-dir': { type: 'string', default: process.env.C2M_DATA_DIR ?? '.local' },
      },
    }));
  } catch (err) {
    return fail((err as Error).message);
  }
  const principal = Principal.safeParse({ role: values.role, id: values.id });
  if (!principal.success) return fail(principal.error.issues.map((i) => `--${i.path.join('.') || 'role'}: ${i.message}`).join('\n'));
  const source = devTokenSourceIn(values['data-dir']);
  if (!source) return fail(`No local issuer in ${values['data-dir']}: run \`npm start\` (it keeps its issuer's dev client in ${values['data-dir']}/oidc).`);
  try {
    const { accessToken } = await devToken(source, principal.data.role, principal.data.id);
    process.stdout.write(`${accessToken}\n`);
  } catch (err) {
    if (err instanceof DevTokenError) return fail(`The local issuer refused: ${err.message}`);
    return fail(`The local issuer at ${source.tokenEndpoint} does not answer: is \`npm start\` running from here? (${(err as Error).message})`);
  }
};

await main();
