/**
 * A browser of one for walking the issuer's pages over plain fetch: follows no
 * redirect by itself (the test looks at each), keeps cookies by name and drops
 * the ones the server expires.
 */
export const cookieBrowser = () => {
  const jar = new Map<string, string>();
  return async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, ...(cookie && { cookie }) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [k = '', v = ''] = a.trim().split('=');
        return (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) || (k.toLowerCase() === 'max-age' && Number(v) <= 0);
      });
      if (!value || expired) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
};
