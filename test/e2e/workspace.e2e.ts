import type { Browser } from 'playwright-core';
import { keyringOf } from '../../server/families/data-keys';
import { testConfig } from '../support/app';
import { FAMILY_DATA_KEY } from '../support/haven-process';
import { staffPages, workspaceData } from '../support/workspace-data';
import { launchBrowser, Visitor } from './support/browser';
import { acceptInvitationFromOutbox, createPerson, signIn } from './support/people';
import { type Stack, startStack } from './support/stack';

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const PHONE = { width: 390, height: 844 };
const shared: { data?: Awaited<ReturnType<typeof workspaceData>> } = {};
const LAPTOP = { width: 1280, height: 900 };

/** Visits each page at 1280 and then 390 px (screenshot and axe on each); what is wrong, page by page. */
async function tour(visitor: Visitor, pages: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const [size, viewport] of [['1280', LAPTOP], ['390', PHONE]] as const) {
    await visitor.page.setViewportSize(viewport);
    for (const path of pages) {
      try {
        const status = await visitor.visit(path, `${size} ${path}`);
        if (status !== 200) problems.push(`${path}: status ${status}`);
      } catch (error) {
        problems.push(`${size} px ${path}: ${(error as Error).message}`);
        visitor.consoleErrors.length = 0;
      }
      if (size === '390') {
        const width = Number(await visitor.page.evaluate('document.documentElement.scrollWidth'));
        if (width > PHONE.width) problems.push(`${path}: ${width} px wide at 390 px`);
      }
    }
  }
  return problems;
}

/**
 * Every staff page, with something on it (test/support/workspace-data.ts), at 1280 px and at
 * 390 px: axe-clean (no serious or critical violation), no console error, and on the phone no
 * horizontal overflow (the document is no wider than the screen). Screenshots of each under
 * test-results/e2e/staff-pages/. Problems are gathered so one run lists them all.
 */
test('every staff page is accessible at 1280 px and fits a 390 px phone', async () => {
  const proposer = await createPerson(stack, 'staff', 'Min-ji Proposer');
  const approver = await createPerson(stack, 'staff', 'Do-yun Approver');
  const ids = async (email: string) => (await stack.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;
  const data = await workspaceData(stack.db, testConfig(), keyringOf(Buffer.from(FAMILY_DATA_KEY, 'hex')), {
    proposer: { userId: await ids(proposer.email), label: proposer.name },
    approver: { userId: await ids(approver.email), label: approver.name },
  });
  shared.data = data;
  const visitor = await Visitor.open(browser, stack.baseUrl, 'staff-pages');
  const problems: string[] = [];
  try {
    await signIn(visitor, proposer, '/staff', stack);
    const pages = staffPages(data);
    problems.push(...(await tour(visitor, pages)));
  } finally {
    await visitor.close();
  }
  expect(problems).toEqual([]);
}, 600_000);

/**
 * The group workspace (the coordinator of the group whose family has arrived) and the public
 * pages, at 1280 and 390 px: axe-clean and, on the phone, no horizontal overflow.
 */
test('every group workspace page and public page is accessible and fits a 390 px phone', async () => {
  const data = shared.data!;
  const group = await stack.db.selectFrom('sponsor_groups').select(['slug', 'coordinator_email']).where('id', '=', data.arrivedGroup.id).executeTakeFirstOrThrow();
  const visitor = await Visitor.open(browser, stack.baseUrl, 'group-and-public-pages');
  const problems: string[] = [];
  try {
    const person = await acceptInvitationFromOutbox(stack, visitor, group.coordinator_email, 'Coordinator of the arrived family', { setUpApp: true });
    await signIn(visitor, person, '/group');
    const pages = ['/group', '/group/page', '/group/members', '/group/plan', '/group/in-kind', '/group/family', '/group/schedule', '/', '/groups', `/groups/${group.slug}`, '/give', '/groups/apply', '/donor', '/contact', '/privacy'];
    problems.push(...(await tour(visitor, pages)));
  } finally {
    await visitor.close();
  }
  expect(problems).toEqual([]);
}, 600_000);
