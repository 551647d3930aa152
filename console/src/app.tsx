import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, ConsoleConfig } from './api.ts';
import { signOut } from './auth/session.ts';
import { AppShell } from './components/app-shell.tsx';
import { CampaignList } from './components/campaign-list.tsx';
import { CreateCampaignForm } from './components/campaign-form.tsx';
import { CampaignPage } from './components/campaign-page.tsx';
import { useI18n } from './ui/i18n.tsx';
import { useRoute } from './ui/router.tsx';

export const authLoopEvent = 'c2m:auth-loop';

/** Signed out, or something stopped the console before it could run: a message and one way on. */
export const Standalone = (p: { message: string; action?: { label: string; run: () => void } }) => (
  <AppShell>
    <div class="page">
      <p class="notice" role="status" data-testid="standalone-message">
        {p.message}
      </p>
      {p.action && (
        <button type="button" class="button button-primary" onClick={p.action.run} data-testid="standalone-action">
          {p.action.label}
        </button>
      )}
    </div>
  </AppShell>
);

export const App = (p: { config: ConsoleConfig; api: Api }) => {
  const { t } = useI18n();
  const route = useRoute();
  const [signedOut, setSignedOut] = useState(false);
  const [authLoop, setAuthLoop] = useState(false);
  const first = useRef(true);
  const routeKey = route.name === 'campaign' ? `campaign:${route.campaignId}` : route.name;

  useEffect(() => {
    const onLoop = () => setAuthLoop(true);
    window.addEventListener(authLoopEvent, onLoop);
    return () => window.removeEventListener(authLoopEvent, onLoop);
  }, []);

  // After a navigation, a screen reader lands on the new page's heading and the view starts at its top.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    requestAnimationFrame(() => (document.getElementById('page-title') ?? document.getElementById('main'))?.focus());
  }, [routeKey]);

  if (signedOut) return <Standalone message={t.app.signedOut} action={{ label: t.app.signIn, run: () => location.reload() }} />;

  const onSignOut = () => {
    void signOut(p.config).then((r) => {
      if (r === 'signed-out') setSignedOut(true);
    });
  };

  return (
    <AppShell onSignOut={onSignOut} current={route.name === 'list' ? 'list' : route.name === 'new' ? 'new' : undefined}>
      {authLoop && (
        <p class="notice notice-error" role="alert">
          {t.app.signInLoop}
        </p>
      )}
      {route.name === 'list' && <CampaignList api={p.api} />}
      {route.name === 'new' && <CreateCampaignForm api={p.api} />}
      {route.name === 'campaign' && <CampaignPage key={route.campaignId} api={p.api} campaignId={route.campaignId} />}
      {(route.name === 'not-found' || route.name === 'callback') && (
        <div class="page">
          <h1 id="page-title" tabIndex={-1}>
            {t.app.notFound}
          </h1>
        </div>
      )}
    </AppShell>
  );
};
