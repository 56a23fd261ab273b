#!/usr/bin/env node
// The emails `npm start`'s mail catcher received (MAIL, its JSON list), oldest first, one a line.
// With Mailpit instead (docker compose), open http://127.0.0.1:8025.
const mail = process.env.MAIL ?? 'http://127.0.0.1:8025';
(async () => {
  const { items } = await (await fetch(mail)).json();
  const filter = process.argv[2];
  const shown = items.reverse().filter((m) => !filter || m.subject.includes(filter) || m.text.includes(filter));
  for (const m of shown) console.log(`to ${m.to.join(', ')}: ${m.subject}`);
  console.log(`${shown.length} email${shown.length === 1 ? '' : 's'}`);
})();
