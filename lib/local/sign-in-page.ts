/**
 * The local issuer's dev sign-in page (the hosted UI's stand-in): a name, and
 * whether this person is in the operator group. No password: it runs on
 * loopback for one developer. Both languages on one page. It also answers a
 * sign-in link whose ticket was used, has expired or is unknown: the form, with
 * a line saying why.
 */
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const signInPage = (p: { uid: string; client: string; error: boolean; username: string; ticketRefused?: boolean }) => `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>登录 c2m · Sign in to c2m</title>
<style>
  body { font: 16px/1.5 system-ui, "Noto Sans CJK SC", sans-serif; margin: 0; display: grid; place-items: center; min-height: 100vh; background: #f6f6f4; }
  form { box-sizing: border-box; background: #fff; padding: 24px; border-radius: 12px; width: min(360px, calc(100vw - 32px)); box-shadow: 0 1px 4px #0002; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  p.note { color: #666; font-size: 13px; margin: 0 0 16px; }
  label { display: block; margin: 12px 0 4px; }
  input[type=text] { width: 100%; box-sizing: border-box; padding: 10px; font-size: 16px; border: 1px solid #bbb; border-radius: 8px; }
  .error { color: #b00020; }
  input, button { font-family: inherit; }
  button { margin-top: 16px; width: 100%; padding: 12px; font-size: 16px; border: 0; border-radius: 8px; background: #d4380d; color: #fff; }
</style>
</head>
<body>
<form method="post" action="/oidc/interaction/${escape(p.uid)}/login">
  <h1>登录 c2m · Sign in</h1>
  <p class="note">本地开发登录，无需密码 · Local development sign-in, no password (${escape(p.client)})</p>
  ${p.ticketRefused ? '<p class="error" role="alert">此登录链接已使用、已过期或无效（重启 npm start 可获得新链接）· This sign-in link was already used, has expired or is unknown (npm start prints a new one when restarted)</p>' : ''}
  ${p.error ? '<p class="error" role="alert">用户名为 1–64 个字母、数字或 _ . : - · A name is 1–64 letters, digits or _ . : -</p>' : ''}
  <label for="username">用户名 · Name</label>
  <input id="username" name="username" type="text" autocomplete="username" required maxlength="64" value="${escape(p.username)}" autofocus>
  <label><input type="checkbox" name="operator"> 运营人员 · Operator</label>
  <button type="submit">登录 · Sign in</button>
</form>
</body>
</html>`;
