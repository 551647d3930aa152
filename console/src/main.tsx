import { render, type ComponentChild } from 'preact';
import { createApi, loadConfig, type ConsoleConfig } from './api.ts';
import { accessToken, beginSignIn, completeSignIn, returnedFromSignOut, signInAgain } from './auth/session.ts';
import { App, authLoopEvent, Standalone } from './app.tsx';
import { messages, pickLocale } from './i18n/index.ts';
import { parseRoute } from './lib/routes.ts';
import { applyLocale, I18nProvider, localeKey } from './ui/i18n.tsx';
import { base } from './ui/router.tsx';
import './styles.css';

const root = document.getElementById('app')!;

const rememberedLocale = (): string | null => {
  try {
    return localStorage.getItem(localeKey);
  } catch {
    return null;
  }
};
const locale = pickLocale(rememberedLocale(), navigator.languages ?? [navigator.language]);
applyLocale(locale);
const t = messages[locale];

const show = (node: ComponentChild) => render(<I18nProvider initial={locale}>{node}</I18nProvider>, root);

/** The URL without `login_hint`: the hint is for one sign-in, not for the address bar or a bookmark. */
const withoutHint = (url: URL): string => {
  const u = new URL(url);
  u.searchParams.delete('login_hint');
  return u.pathname + u.search + u.hash;
};

let signingIn = false;
const unauthorized = (config: ConsoleConfig) => () => {
  if (signingIn) return;
  signingIn = true;
  void signInAgain(config).then((r) => {
    if (r === 'loop') window.dispatchEvent(new Event(authLoopEvent));
  });
};

const start = async () => {
  let config: ConsoleConfig;
  try {
    config = await loadConfig(base);
  } catch (err) {
    console.error(err);
    show(<Standalone message={t.app.configMissing} action={{ label: t.app.retry, run: () => location.reload() }} />);
    return;
  }

  const url = new URL(location.href);
  if (parseRoute(url.pathname, base).name === 'callback') {
    show(<Standalone message={t.app.signingIn} />);
    try {
      const back = await completeSignIn(config, url);
      history.replaceState(null, '', back);
    } catch (err) {
      show(
        <Standalone
          message={t.app.signInFailed(err instanceof Error ? err.message : String(err))}
          action={{ label: t.app.signIn, run: () => void beginSignIn(config, { returnTo: base }) }}
        />,
      );
      return;
    }
  }

  if (!accessToken() && returnedFromSignOut(url)) {
    url.searchParams.delete('state');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    show(<Standalone message={t.app.signedOut} action={{ label: t.app.signIn, run: () => void beginSignIn(config, { returnTo: base }) }} />);
    return;
  }

  const hint = url.searchParams.get('login_hint') ?? undefined;
  if (!accessToken()) {
    show(<Standalone message={t.app.signingIn} />);
    // The ticket is single-use; keep it out of the history all the same.
    if (hint) history.replaceState(null, '', withoutHint(url));
    try {
      await beginSignIn(config, { returnTo: withoutHint(url), ...(hint && { loginHint: hint }) });
    } catch (err) {
      show(
        <Standalone
          message={t.app.signInFailed(err instanceof Error ? err.message : String(err))}
          action={{ label: t.app.retry, run: () => location.reload() }}
        />,
      );
    }
    return;
  }
  if (hint) history.replaceState(null, '', withoutHint(url));

  const api = createApi({ apiUrl: config.apiUrl, token: accessToken, unauthorized: unauthorized(config) });
  show(<App config={config} api={api} />);
};

void start();
