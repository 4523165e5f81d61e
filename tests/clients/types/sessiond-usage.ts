// Compiled (never run) by suites/types.test.js with tsc --strict: the sessiond package's index.d.ts
// must type an ordinary Express app, its express-session store and the client's replies.
import express from 'express';
import session from 'express-session';
import { Sessiond, SessiondStore, rotatingSession, migrateFromConnectRedis, Reasons } from 'sessiond';

declare const redis: { sendCommand(args: string[]): Promise<unknown> };
const sd = new Sessiond(redis);
async function f() {
  const s = await sd.newSession({ owner: 'u', data: { a: 1 }, meta: { ua: 'x' } });
  if (!s) return;
  const v = await sd.validate(s.token, s.nonce);
  if (v.ok) { const n: number = v.nonce; console.log(n); } else { const r: string = v.reason; console.log(r === Reasons.NONCE); }
  const info = await sd.info(s.token);
  console.log(info?.meta.ua, info?.lastSeen);
  const res = await migrateFromConnectRedis({ client: redis, owner: 'userId' });
  console.log(res.migrated);
}
const app = express();
const store = new SessiondStore({ client: redis, owner: 'userId', absolute: 3600 });
app.use(session({ store, secret: 'x', resave: false, saveUninitialized: false }));
app.use(rotatingSession({ client: redis, onFailure: { nonce: 'anonymous' } }));
app.get('/', async (req, res) => {
  if (!req.sessiond.token) { res.json({ why: req.sessiondFailure }); return; }
  await req.sessiond.save({ x: 1 });
  res.json(await store.listOwner('u'));
});
f();
