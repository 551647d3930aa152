import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { parseRoute, type Route } from '../lib/routes.ts';

export const base = import.meta.env.BASE_URL;

const changed = 'c2m:navigate';

/** History API navigation inside the console; the servers answer index.html for any path under /console/. */
export const navigate = (path: string, opts: { replace?: boolean } = {}) => {
  if (opts.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event(changed));
};

export const useRoute = (): Route => {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    window.addEventListener('popstate', update);
    window.addEventListener(changed, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(changed, update);
    };
  }, []);
  return parseRoute(path, base);
};

interface AnchorProps {
  readonly href: string;
  readonly children: ComponentChildren;
  readonly class?: string;
  readonly 'data-testid'?: string;
  readonly 'aria-current'?: 'page';
  readonly 'aria-label'?: string;
}

/** A real link (open in a new tab works); a plain click stays in the page. */
export const Link = ({ href, children, ...rest }: AnchorProps) => (
  <a
    {...rest}
    href={href}
    onClick={(e) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(href);
    }}
  >
    {children}
  </a>
);
