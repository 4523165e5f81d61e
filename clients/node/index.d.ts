// Type declarations for the sessiond Node package (plain JavaScript, no build step).

import type { Store, SessionData } from 'express-session';
import type { RequestHandler, Request, Response, NextFunction } from 'express';

/** A failure reason of an `ok 0 reason R` reply. */
export type Reason = 'unknown' | 'expired' | 'nonce' | 'replayed' | 'detached' | 'revoked' | 'signature' | 'claims';

export const Reasons: Readonly<{
  UNKNOWN: 'unknown'; EXPIRED: 'expired'; NONCE: 'nonce'; REPLAYED: 'replayed';
  DETACHED: 'detached'; REVOKED: 'revoked'; SIGNATURE: 'signature'; CLAIMS: 'claims';
}>;

/** A connected node-redis (4, 5, 6) or ioredis (5, 6) client, or a Sessiond. */
export type Client = { sendCommand(...args: any[]): any } | { call(...args: any[]): any } | Sessiond;

/** Data: strings are stored as they are, any other value as JSON. */
export type Data = string | Buffer | object | number | boolean;

export interface Failure { ok: false; reason: Reason }

export interface NewSession {
  token: string; handle: string; nonce: number;
  /** deadline, Unix ms (0: none) */
  expires: number;
  /** idle and absolute timeouts, ms (0: none) */
  idle: number; absolute: number;
}

export interface Issued { token: string; nonce: number; expires: number }

export interface SessionInfo {
  handle: string; owner: string; nonce: number;
  /** Unix ms */
  created: number; lastSeen: number; expires: number;
  /** ms */
  idle: number; absolute: number;
  detachable: boolean; detached: boolean;
  /** number of tokens the session holds */
  tokens: number;
  meta: Record<string, string>;
}

export interface Validated { ok: true; token: string; nonce: number; expires: number }
export interface JWTPair { ok: true; jwt: string; refresh: string; expires: number }
export interface Verified { ok: true; claims: Record<string, unknown> }

export interface TokenInfo {
  owner: string | null; session: string | null;
  transferable: boolean; sellable: boolean;
  /** the amount exactly as given to TOK.SELLABLE */
  price: string | null;
  /** Unix ms, 0 none */
  expires: number;
  unassigned: boolean;
  /** ms, 0 none */
  timeout: number; disownTimeout: number;
}

export interface NewSessionOptions {
  owner?: string; data?: Data; idle?: number; absolute?: number; prefix?: string;
  detachable?: boolean; token?: string; meta?: Record<string, string | number>;
}

export class Sessiond {
  constructor(client: Client);
  /** Sends a command (argv) and resolves with the client's raw reply. */
  send(argv: Array<string | number | Buffer>): Promise<unknown>;

  newSession(opts?: NewSessionOptions): Promise<NewSession | null>;
  get(token: string, opts?: { touch?: boolean }): Promise<string | null>;
  info(token: string): Promise<SessionInfo | null>;
  infoByHandle(handle: string): Promise<SessionInfo | null>;
  set(token: string, data: Data, opts?: { idle?: number; absolute?: number }): Promise<boolean>;
  touch(token: string, opts?: { idle?: number }): Promise<number | null>;
  active(token: string, opts?: { owner?: string }): Promise<boolean>;
  validate(token: string, nonce: number, opts?: { rotate?: boolean }): Promise<Validated | Failure>;
  regenerate(token: string): Promise<Issued | null>;
  destroy(token: string): Promise<boolean>;
  destroyHandle(handle: string): Promise<boolean>;
  ttl(token: string): Promise<number | null>;
  expire(token: string, kind: 'idle' | 'absolute', seconds: number): Promise<boolean>;
  allowDetach(token: string): Promise<boolean>;
  detach(token: string): Promise<boolean>;
  attach(handle: string, owner: string): Promise<Issued | null>;
  detached(opts?: { owner?: string }): Promise<string[]>;
  list(owner: string): Promise<SessionInfo[]>;
  revokeOwner(owner: string, opts?: { except?: string }): Promise<number>;
  revokeHandle(handle: string): Promise<boolean>;
  count(opts?: { owner?: string }): Promise<number>;

  jwt(token: string, opts?: { claims?: object | string; ttl?: number; audience?: string }): Promise<JWTPair | Failure>;
  refresh(refreshToken: string): Promise<JWTPair | Failure>;
  verify(jwt: string, opts?: { audience?: string }): Promise<Verified | Failure>;
  jwks(): Promise<{ keys: Array<Record<string, string>> }>;
  rotateKey(): Promise<string>;

  newToken(opts?: { prefix?: string }): Promise<string>;
  addToken(token: string, value: Data, opts?: { session?: string; owner?: string; transferable?: boolean; ttl?: number }): Promise<boolean>;
  getToken(token: string): Promise<string | null>;
  tokenInfo(token: string): Promise<TokenInfo | null>;
  tokenOwner(token: string): Promise<string | null>;
  tokenSession(token: string): Promise<string | null>;
  acquireToken(token: string, sessionToken: string): Promise<boolean>;
  transferToken(token: string, fromOwner: string, toOwner: string): Promise<boolean>;
  destroyToken(token: string): Promise<boolean>;
  tokenTTL(token: string): Promise<number | null>;
  expireToken(token: string, seconds: number): Promise<boolean>;
  disownTimeout(token: string, seconds: number): Promise<boolean>;
  sellToken(token: string, amount?: string | number): Promise<boolean>;
  unsellToken(token: string): Promise<boolean>;
  listTokens(which: { session: string } | { owner: string } | { transferable: string } | { sellable: true } | { unassigned: true }): Promise<string[]>;
}

export interface SessiondStoreOptions {
  client: Client;
  /** idle timeout in seconds when the cookie has no maxAge */
  ttl?: number;
  /** absolute timeout in seconds from creation */
  absolute?: number;
  /** session field holding the owner id, or a function returning it */
  owner?: string | ((session: SessionData) => string | number | undefined | null);
  disableTouch?: boolean;
  /** keep sids in a sorted set so that all(), ids() and clear() work (sids in clear text) */
  index?: boolean;
  indexKey?: string;
  serializer?: { stringify(v: unknown): string; parse(s: string): any };
}

export class SessiondStore extends Store {
  constructor(options: SessiondStoreOptions);
  readonly sessiond: Sessiond;
  get(sid: string, cb?: (err: any, session?: SessionData | null) => void): void;
  set(sid: string, session: SessionData, cb?: (err?: any) => void): void;
  destroy(sid: string, cb?: (err?: any) => void): void;
  touch(sid: string, session: SessionData, cb?: (err?: any) => void): void;
  length(cb: (err: any, length?: number) => void): void;
  ids(cb: (err: any, ids?: string[]) => void): void;
  all(cb: (err: any, sessions?: Array<SessionData & { id: string }>) => void): void;
  clear(cb?: (err?: any) => void): void;
  revokeOwner(owner: string | number, opts?: { except?: string }): Promise<number>;
  listOwner(owner: string | number): Promise<SessionInfo[]>;
}

export type FailureAction = 'anonymous' | 'reject' | ((req: Request, res: Response, next: NextFunction, reason: Reason) => void);

export const DEFAULT_ON_FAILURE: Readonly<Record<'unknown' | 'expired' | 'revoked' | 'detached' | 'nonce' | 'replayed', FailureAction>>;

export interface RotatingSessionOptions {
  client: Client;
  /** cookie name, default 'sessiond' */
  name?: string;
  cookie?: { path?: string; domain?: string; secure?: boolean; sameSite?: 'Lax' | 'Strict' | 'None'; httpOnly?: boolean };
  /** false: validate with NOROTATE */
  rotate?: boolean;
  onFailure?: Partial<Record<Reason, FailureAction>>;
}

export interface RotatingSession {
  /** null for a visitor */
  token: string | null; nonce: number | null; expires: number | null;
  handle: string | null; owner: string | null;
  start(opts?: NewSessionOptions): Promise<RotatingSession>;
  end(): Promise<void>;
  data(): Promise<any>;
  save(data: Data): Promise<boolean>;
  info(): Promise<SessionInfo | null>;
}

export function rotatingSession(options: RotatingSessionOptions): RequestHandler;

export interface MigrateOptions {
  client: Client;
  /** connect-redis' key prefix, default 'sess:' */
  prefix?: string;
  owner?: SessiondStoreOptions['owner'];
  absolute?: number;
  /** delete each plain key once its native session exists */
  deleteOld?: boolean;
  batch?: number;
}

/** Copies connect-redis sessions into native sessions with the same sid (the cookies stay valid). */
export function migrateFromConnectRedis(options: MigrateOptions): Promise<{ migrated: number; existing: number; skipped: string[] }>;

declare global {
  namespace Express {
    interface Request {
      /** set by rotatingSession(); token null for a visitor */
      sessiond: RotatingSession;
      /** the reason a presented rotating-session cookie failed */
      sessiondFailure?: Reason;
    }
  }
}
