/**
 * Signed-in Supertest agents, for any module's tests.
 *
 *   const staff = await signInAs(t, 'staff');                 // a new staff user, signed in
 *   const sponsor = await signInAs(t, 'sponsor', { name: 'Ana' });
 *   await staff.agent.get('/staff').expect(200);
 *   await staff.postForm('/staff/invitations', { email: 'x@example.org', role: 'sponsor' }).expect(303);
 *   const token = await staff.csrfToken();                   // for a hand-built post: field `_csrf`
 *   const visitor = await anonymous(t);                      // no session, but can post forms
 *
 * The user is created through server/accounts (createUser) and the session through
 * createSession, exactly as signing in makes them; the agent carries the session cookie.
 * It does not go through POST /sign-in, so tests never run into its rate limits. The suite runs
 * with STAFF_PASSKEYS=optional, so staff need no second step; `secondFactor` makes a session that
 * has passed one (test/accounts/second-factor.test.ts and the browser tests cover the step itself).
 * (test/accounts/sign-in.test.ts covers the form itself.) `user` is the SessionUser that
 * res.locals.user will hold for this agent.
 */
import request from 'supertest';
import { createSession, loadSessionUser, SESSION_COOKIE } from '../../server/accounts/sessions';
import { createUser } from '../../server/accounts/users';
import type { SecondFactor, UserRole } from '../../server/db/schema';
import type { SessionUser } from '../../server/http/policy';
import type { TestApp } from './app';

type Agent = ReturnType<typeof request.agent>;

export type TestVisitor = {
  agent: Agent;
  /** The CSRF token for this agent's cookies (read from the page's <meta name="csrf-token">). */
  csrfToken(): Promise<string>;
  /** POST a urlencoded form with the CSRF token added. */
  postForm(path: string, fields?: Record<string, string | number | boolean | string[]>): Promise<request.Response>;
};

export type SignedIn = TestVisitor & { user: SessionUser; password: string; sessionToken: string };

export const TEST_PASSWORD = 'correct horse battery staple';

let counter = 0;

function visitor(agent: Agent): TestVisitor {
  const csrfToken = async () => {
    const res = await agent.get('/sign-in');
    const match = /<meta name="csrf-token" content="([^"]+)">/.exec(res.text);
    if (!match) throw new Error(`no csrf-token meta on /sign-in (status ${res.status})`);
    return match[1]!;
  };
  return {
    agent,
    csrfToken,
    async postForm(path, fields = {}) {
      const token = await csrfToken();
      return agent.post(path).type('form').send({ ...fields, _csrf: token });
    },
  };
}

/** An agent without a session. */
export async function anonymous(t: TestApp): Promise<TestVisitor> {
  return visitor(request.agent(t.app));
}

/** Puts a session cookie in an agent's jar, as the sign-in response would. */
export function useSession(agent: Agent, token: string): void {
  (agent as unknown as { jar: { setCookie(cookie: string, domain: string, path: string): void } }).jar.setCookie(`${SESSION_COOKIE}=${token}; Path=/; HttpOnly`, '127.0.0.1', '/');
}

export async function signInAs(
  t: TestApp,
  role: UserRole,
  opts: { email?: string; name?: string; password?: string; secondFactor?: SecondFactor } = {},
): Promise<SignedIn> {
  counter += 1;
  const email = opts.email ?? `${role}${counter}.${process.pid}@example.org`;
  const password = opts.password ?? TEST_PASSWORD;
  const userId = await createUser(t.db, { email, name: opts.name ?? `Test ${role} ${counter}`, role, password });
  const sessionToken = await createSession(t.db, userId, { secondFactor: opts.secondFactor });
  const user = await loadSessionUser(t.db, sessionToken);
  if (!user) throw new Error('the new session did not load');
  const agent = request.agent(t.app);
  useSession(agent, sessionToken);
  return { ...visitor(agent), user, password, sessionToken };
}
