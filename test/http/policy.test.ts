import express, { Router } from 'express';
import request from 'supertest';
import { createSession, loadSessionUser } from '../../server/accounts/sessions';
import { makeApprovedGroup, signInMember } from '../groups/factories';
import { allow, POLICY, type SessionUser } from '../../server/http/policy';
import { createTestApp, type TestApp } from '../support/app';
import { checkAccess, concretePath, listRoutes, MAY_USE, type Outcome, unprotectedRoutes, type Visitor } from '../support/route-policy';
import { anonymous, signInAs, useSession } from '../support/session';

// Every route × every role: slow on the embedded database and on a loaded machine, and it grows with the app.
jest.setTimeout(300_000);

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.destroy());

describe('every route of the app', () => {
  test('declares who may use it (its first handler is an allow.* policy)', () => {
    const routes = listRoutes(t.app);
    // Sanity: the walk reaches routes inside mounted routers.
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['get /healthz', 'get /', 'post /sign-in', 'get /staff/audit', 'get /group']));
    expect(unprotectedRoutes(routes)).toEqual([]);
  });

  test('lets in exactly the roles its rule allows: anonymous, staff, an administrator, a sponsor without a group, and a group\'s member, treasurer and coordinator', async () => {
    const staff = await signInAs(t, 'staff');
    const administrator = await signInAs(t, 'staff', { administrator: true });
    const sponsor = await signInAs(t, 'sponsor');
    const group = await makeApprovedGroup(t.db);
    const coordinator = await signInMember(t, group.id, 'coordinator');
    const member = await signInMember(t, group.id, 'member');
    const treasurer = await signInMember(t, group.id, 'member');
    await t.db.updateTable('group_members').set({ role: 'treasurer' }).where('user_id', '=', treasurer.user.id).execute();
    const people = { staff, administrator, sponsor, member, treasurer, coordinator };
    const userIds = new Map<string, number>(Object.entries(people).map(([name, p]) => [name, p.user.id]));
    const visitors: Visitor[] = [{ name: 'anonymous', user: null }];
    for (const [name, p] of Object.entries(people)) visitors.push({ name, user: (await loadSessionUser(t.db, p.sessionToken))! });
    expect(visitors.find((v) => v.name === 'treasurer')!.user).toMatchObject({ groupRole: 'treasurer' });
    expect(visitors.find((v) => v.name === 'administrator')!.user).toMatchObject({ administrator: true });
    const send = async (visitor: Visitor, method: string, path: string): Promise<Outcome> => {
      // A fresh browser and session per request, so a route like POST /sign-out cannot spoil the next one.
      const v = await anonymous(t);
      if (visitor.user) useSession(v.agent, await createSession(t.db, userIds.get(visitor.name)!));
      let res: request.Response;
      if (method === 'get' || method === 'head') {
        res = await v.agent[method](path).redirects(0);
      } else {
        // The token first: the agent attaches its cookies when a request is created.
        const token = await v.csrfToken();
        res = await (v.agent as unknown as Record<string, (p: string) => request.Test>)[method]!(path).type('form').send({ _csrf: token }).redirects(0);
      }
      return { status: res.status, location: res.headers.location };
    };
    const problems = await checkAccess(listRoutes(t.app), visitors, send);
    expect(problems).toEqual([]);
  });

  test("a group's money and its family's status belong to the roles that should hold them (the walk above proves each rule)", () => {
    const rules = Object.fromEntries(listRoutes(t.app).map((r) => [`${r.method} ${r.path}`, r.rule]));
    expect(rules).toMatchObject({
      // Money: the treasurer (or the coordinator).
      'post /group/schedule/disbursements': 'groupTreasurer',
      'post /group/schedule/skips': 'groupTreasurer',
      'post /group/schedule/earnings': 'groupTreasurer',
      'post /group/in-kind/:id/status': 'groupTreasurer',
      // The family's status, extensions, the public page, the plan and the members: the coordinator.
      'post /group/schedule/self-sufficient': 'groupCoordinator',
      'post /group/schedule/resume': 'groupCoordinator',
      'post /group/schedule/extensions': 'groupCoordinator',
      'post /group/page': 'groupCoordinator',
      'post /group/plan': 'groupCoordinator',
      'post /group/members': 'groupCoordinator',
      'post /group/members/:id/role': 'groupCoordinator',
      'post /group/members/:id/remove': 'groupCoordinator',
      // Every member sees the workspace and may record an in-kind offer.
      'get /group/schedule': 'groupMember',
      'post /group/in-kind': 'groupMember',
    });
  });

  test('no route answers a 500 to nonsense input from a role it lets in', async () => {
    const staff = await signInAs(t, 'staff');
    const sponsor = await signInAs(t, 'sponsor');
    // Repeated keys become arrays; long, negative, markup and non-numeric values in likely field names.
    const nonsense = [
      'email=a&email=b',
      `name=${'x'.repeat(5000)}`,
      'password=&confirm=x',
      'amount=-1&amountCents=1e400&id=abc&groupId=NaN&role=root&status=%F0%9F%92%A5',
      'token=..%2F..%2Fetc&next=javascript:alert(1)&lang=xx',
      'after=1e308&before=9223372036854775808&actor=0x1F&id=1.5',
      '<script>=1&__proto__[x]=1&constructor=1',
    ];
    const problems: string[] = [];
    for (const route of listRoutes(t.app)) {
      for (const who of [null, staff, sponsor]) {
        if (!MAY_USE[route.rule!](who?.user ?? null)) continue;
        // A fresh session per route, so POST /sign-out cannot leave the rest untested.
        const v = await anonymous(t);
        if (who) useSession(v.agent, await createSession(t.db, who.user.id));
        const path = concretePath(route.path);
        for (const body of nonsense) {
          let res: request.Response;
          if (route.method === 'get' || route.method === 'all') {
            res = await v.agent.get(`${path}?${body}`).redirects(0);
          } else {
            const token = await v.csrfToken();
            res = await (v.agent as unknown as Record<string, (p: string) => request.Test>)[route.method]!(path).type('form').send(`${body}&_csrf=${token}`).redirects(0);
          }
          if (res.status >= 500) problems.push(`${route.method.toUpperCase()} ${route.path} as ${who?.user.role ?? 'anonymous'} with ${body.slice(0, 40)} → ${res.status}`);
          if (route.path === '/sign-out') break;
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the checker itself', () => {
  const staffUser: SessionUser = { id: 1, email: 's@example.org', name: 'S', role: 'staff', administrator: false, groupId: null, groupRole: null };
  const sponsorUser: SessionUser = { id: 2, email: 'p@example.org', name: 'P', role: 'sponsor', administrator: false, groupId: null, groupRole: null };
  const visitors: Visitor[] = [
    { name: 'anonymous', user: null },
    { name: 'staff', user: staffUser },
    { name: 'sponsor', user: sponsorUser },
  ];

  /** A tiny app: the visitor's user comes from a header instead of a session. */
  function tinyApp(router: Router, onError?: express.ErrorRequestHandler) {
    const app = express();
    app.use((req, res, next) => {
      const who = req.get('x-visitor');
      res.locals.user = who === 'staff' ? staffUser : who === 'sponsor' ? sponsorUser : undefined;
      next();
    });
    app.use(router);
    app.use(onError ?? (((error, _req, res, _next) => res.status(res.statusCode === 401 ? 401 : 403).send(String(error))) as express.ErrorRequestHandler));
    return app;
  }
  const sendTo = (app: express.Express) => async (visitor: Visitor, method: string, path: string): Promise<Outcome> => {
    const res = await (request(app) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set('x-visitor', visitor.name).redirects(0);
    return { status: res.status, location: res.headers.location };
  };

  test('finds a route left without a policy, including inside a nested router', async () => {
    const inner = Router();
    inner.get('/staff/things/:id', allow.staff, (_req, res) => void res.send('ok'));
    inner.post('/staff/things', (_req, res) => void res.send('forgot the policy'));
    const outer = Router();
    outer.get('/', allow.anyone, (_req, res) => void res.send('home'));
    outer.use('/area', inner);
    outer.route('/both').get(allow.signedIn, (_req, res) => void res.send('ok')).delete((_req, res) => void res.send('unprotected'));

    const routes = listRoutes(outer);
    expect(routes).toEqual([
      { method: 'get', path: '/', rule: 'anyone' },
      { method: 'get', path: '/area/staff/things/:id', rule: 'staff' },
      { method: 'post', path: '/area/staff/things', rule: undefined },
      { method: 'get', path: '/both', rule: 'signedIn' },
      { method: 'delete', path: '/both', rule: undefined },
    ]);
    expect(unprotectedRoutes(routes)).toEqual(['POST /area/staff/things', 'DELETE /both']);
    // A policy that is not the first handler does not count.
    const late = Router();
    late.get('/late', (_req, _res, next) => next(), allow.staff, (_req, res) => void res.send('x'));
    expect(unprotectedRoutes(listRoutes(late))).toEqual(['GET /late']);

    const problems = await checkAccess(routes, visitors, sendTo(tinyApp(outer)));
    expect(problems).toContain('POST /area/staff/things: no policy');
    expect(problems).toContain('DELETE /both: no policy');
  });

  test('finds a rule that lets in a role it should not', async () => {
    const leaky = Object.assign((_req: express.Request, _res: express.Response, next: express.NextFunction) => next(), { [POLICY]: 'staff' as const });
    const router = Router();
    router.get('/staff/secret', leaky, (_req, res) => void res.send('secret'));
    router.get('/staff/ok', allow.staff, (_req, res) => void res.send('fine'));
    const problems = await checkAccess(listRoutes(router), visitors, sendTo(tinyApp(router)));
    expect(problems).toEqual([
      'GET /staff/secret as anonymous (allow.staff) → 200: let in, should be refused',
      'GET /staff/secret as sponsor (allow.staff) → 200: let in, should be refused',
    ]);
  });

  test('finds a route that refuses a role its rule allows, and a server error', async () => {
    const router = Router();
    router.get('/mine', allow.signedIn, (_req, res) => void res.status(403).send('no'));
    router.get('/boom', allow.anyone, () => {
      throw Object.assign(new Error('boom'), { status: 500 });
    });
    const app = tinyApp(router, ((_e, _q, res, _n) => res.status(500).send('error')) as express.ErrorRequestHandler);
    const problems = await checkAccess(listRoutes(router), [visitors[1]!], sendTo(app));
    expect(problems).toEqual(['GET /mine as staff (allow.signedIn) → 403: refused, should be allowed', 'GET /boom as staff (allow.anyone) → 500: server error']);
  });
});
