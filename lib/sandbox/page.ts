// The sandbox's HTML pages share one layout: a Khalti-purple card with a "sandbox" badge.

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
  body { font-family: system-ui, sans-serif; background: #f4f1fa; margin: 0; display: flex; justify-content: center; }
  main { background: #fff; margin: 2rem 1rem; padding: 1.5rem 2rem; border-radius: 12px; max-width: 380px; width: 100%; box-shadow: 0 4px 24px #5c2d9122; }
  h1 { color: #5c2d91; font-size: 1.25rem; margin: .5rem 0 .25rem; }
  .sandbox { background: #fff3cd; color: #7a5b00; font-size: .8rem; padding: .35rem .6rem; border-radius: 6px; display: inline-block; }
  label { display: block; margin-top: 1rem; font-size: .9rem; }
  input { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; border: 1px solid #ccc; border-radius: 6px; margin-top: .25rem; }
  button { margin-top: 1.25rem; width: 100%; padding: .7rem; font-size: 1rem; background: #5c2d91; color: #fff; border: 0; border-radius: 6px; cursor: pointer; }
  button.link { background: none; color: #5c2d91; text-decoration: underline; }
  .error { color: #b00020; margin-top: .75rem; min-height: 1.2em; }
  .hint { color: #666; font-size: .8rem; margin-top: 1rem; }
  [hidden] { display: none; }`;

/** A whole sandbox page: `body` goes inside the card, after the sandbox badge; `script` after it. */
export function sandboxPage(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}
</style>
</head>
<body>
<main>
  <span class="sandbox">Sandbox — no real money moves</span>
${body}
</main>
${script}
</body>
</html>
`;
}
