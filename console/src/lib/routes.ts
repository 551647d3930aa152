/** The console's paths under its base (`/console/`): History API routes, pure. */
export type Route =
  | { readonly name: 'list' }
  | { readonly name: 'new' }
  | { readonly name: 'campaign'; readonly campaignId: string }
  | { readonly name: 'callback' }
  | { readonly name: 'not-found' };

export const parseRoute = (pathname: string, base: string): Route => {
  const root = base.endsWith('/') ? base : `${base}/`;
  if (pathname === root.slice(0, -1) || pathname === root) return { name: 'list' };
  if (!pathname.startsWith(root)) return { name: 'not-found' };
  const rest = pathname.slice(root.length).replace(/\/+$/, '');
  if (rest === 'callback') return { name: 'callback' };
  if (rest === 'campaigns/new') return { name: 'new' };
  const m = /^campaigns\/([A-Za-z0-9_-]{1,64})$/.exec(rest);
  if (m?.[1]) return { name: 'campaign', campaignId: m[1] };
  return { name: 'not-found' };
};

export const routePath = (route: Route, base: string): string => {
  const root = base.endsWith('/') ? base : `${base}/`;
  switch (route.name) {
    case 'list':
      return root;
    case 'new':
      return `${root}campaigns/new`;
    case 'campaign':
      return `${root}campaigns/${encodeURIComponent(route.campaignId)}`;
    case 'callback':
      return `${root}callback`;
    case 'not-found':
      return root;
  }
};

/** Where to come back to after signing in: only a path of the console itself, never another site. */
export const safeReturnPath = (candidate: string | null | undefined, base: string): string => {
  const root = base.endsWith('/') ? base : `${base}/`;
  if (!candidate || !candidate.startsWith(root) || candidate.startsWith('//') || candidate.includes('\\')) return root;
  return candidate;
};
