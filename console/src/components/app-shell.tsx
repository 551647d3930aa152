import type { ComponentChildren } from 'preact';
import { locales, localeNames, type Locale } from '../i18n/index.ts';
import { useI18n } from '../ui/i18n.tsx';
import { base, Link } from '../ui/router.tsx';

export const LanguageSwitch = () => {
  const { t, locale, setLocale } = useI18n();
  return (
    <div class="lang">
      <label for="language-switch" class="visually-hidden">
        {t.app.language}
      </label>
      <span aria-hidden="true" class="lang-icon">
        文A
      </span>
      <select
        id="language-switch"
        data-testid="language-switch"
        value={locale}
        onChange={(e) => setLocale(e.currentTarget.value as Locale)}
      >
        {locales.map((l) => (
          <option key={l} value={l} lang={l}>
            {localeNames[l]}
          </option>
        ))}
      </select>
    </div>
  );
};

export const AppShell = (p: { children: ComponentChildren; onSignOut?: () => void; current?: 'list' | 'new' }) => {
  const { t } = useI18n();
  return (
    <>
      <a class="skip-link" href="#main">
        {t.app.skipToContent}
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <Link href={base} class="brand" aria-label={t.app.name}>
            <span>c2m</span>
            <span class="brand-rest">{t.app.name.replace(/^c2m\s*/, '')}</span>
          </Link>
          <div class="topbar-tools">
            <LanguageSwitch />
            {p.onSignOut && (
              <button type="button" class="button button-quiet" data-testid="sign-out" onClick={p.onSignOut}>
                {t.app.signOut}
              </button>
            )}
          </div>
        </div>
        {p.onSignOut && (
          <nav aria-label={t.nav.label} class="nav">
            <Link href={base} data-testid="nav-campaigns" aria-current={p.current === 'list' ? 'page' : undefined}>
              {t.nav.campaigns}
            </Link>
            <Link href={`${base}campaigns/new`} data-testid="nav-new-campaign" aria-current={p.current === 'new' ? 'page' : undefined}>
              {t.nav.newCampaign}
            </Link>
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {p.children}
      </main>
    </>
  );
};
