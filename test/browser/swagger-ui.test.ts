import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ProviderFakes, startProviderFakes } from '../fakes/provider-fakes';
import { startTestService, TestService } from '../helpers/service-harness';
import { Browser, chromiumMissing, isLocalUrl, launchChromium, TEST_HOST } from './chromium';

const ROOT = path.resolve(__dirname, '..', '..');
/**
 * Where the screenshot goes: a git-ignored file on every run (to look at after a CI run),
 * and docs/swagger-ui.png (committed, shown in the README) with PN_UPDATE_SCREENSHOTS=1.
 */
const SCREENSHOT = process.env.PN_UPDATE_SCREENSHOTS === '1'
    ? path.join(ROOT, 'docs', 'swagger-ui.png')
    : path.join(ROOT, '.cache', 'browser', 'swagger-ui.png');

const TOKEN = 'swagger-ui-browser-test-0001';
const DRY_RUN_BODY = { deviceTokens: [TOKEN], messageType: 'checkEchoV1', dryRun: true };

/**
 * /?doc in a real browser (headless Chromium, see ./chromium.ts): the page and everything it
 * loads come from the service itself, nothing is logged as an error, and "Try it out" on
 * POST /v1/message/fcm with a dry run gets a 200 that the service then validates with FCM
 * (the fake FCM sees a validate_only send, no real send).
 */
describe('Swagger UI in headless Chromium', function () {
    // Chromium's start alone takes seconds on a busy 2-core machine.
    this.timeout(90_000);
    let fakes: ProviderFakes | undefined;
    let svc: TestService | undefined;
    let browser: Browser | undefined;
    let origin: string;

    before(async function () {
        const skip = chromiumMissing();
        if (skip) {
            console.log(`      (browser tests skipped: ${skip})`);
            this.skip();
        }
        fakes = await startProviderFakes();
        svc = await startTestService({ fcm: fakes.conf.fcm, apns: fakes.conf.apns });
        origin = `http://${TEST_HOST}:${svc.service.port}`;
        browser = await launchChromium();
    });

    after(async () => {
        await browser?.close();
        await svc?.close();
        await fakes?.close();
    });

    it('loads /?doc with every request on this machine and no console error', async () => {
        const b = browser!;
        const res = await b.page.goto(`${origin}/?doc`, { waitUntil: 'networkidle' });
        assert.equal(res?.status(), 200);
        await b.page.locator('#operations-Push_notifications-postFcmMessage').waitFor();
        // Everything Swagger UI fetches after the first render (the validator badge, for one).
        await b.page.waitForLoadState('networkidle');
        assert.equal(await b.page.title(), 'push-notifications API');
        assert.match(await b.page.locator('.info .title').innerText(), /push-notifications/);

        const outside = b.requests.filter((r) => !isLocalUrl(r.slice(r.indexOf(' ') + 1)));
        assert.deepEqual(outside, [], `requests that would leave this machine:\n${outside.join('\n')}`);
        assert.ok(b.requests.some((r) => r === `GET ${origin}/?spec`), `the page never loaded /?spec:\n${b.requests.join('\n')}`);
        assert.deepEqual(b.errors, [], b.errors.join('\n'));
    });

    it('runs "Try it out" on POST /v1/message/fcm with a dry run and gets 200', async () => {
        const b = browser!;
        const [requestsBefore, errorsBefore] = [b.requests.length, b.errors.length];
        if (!b.page.url().startsWith(`${origin}/?doc`)) {
            await b.page.goto(`${origin}/?doc`); // run alone (--grep)
        }
        const op = b.page.locator('#operations-Push_notifications-postFcmMessage');
        await op.locator('.opblock-summary-control').click();
        await op.getByRole('button', { name: 'Try it out' }).click();
        const body = op.locator('textarea.body-param__text');
        await body.fill(JSON.stringify(DRY_RUN_BODY, null, 2));

        const answer = b.page.waitForResponse((r) => r.url() === `${origin}/v1/message/fcm` && r.request().method() === 'POST');
        await op.getByRole('button', { name: 'Execute' }).click();
        const response = await answer;
        assert.equal(response.status(), 200);
        assert.deepEqual(JSON.parse(response.request().postData() ?? ''), DRY_RUN_BODY);
        assert.equal(response.request().headers()['content-type'], 'application/json');

        // What Swagger UI shows: the live response's status, and the curl line it ran.
        const live = op.locator('.live-responses-table .response .response-col_status');
        await live.waitFor();
        assert.equal((await live.innerText()).trim(), '200');
        assert.match(await op.locator('.curl-command').innerText(), /dryRun/);

        // The top of the page down to the live response: the README's picture of "Try it out"
        // (taken before the checks below, so a failed run leaves one to look at).
        // In page coordinates: the click on Execute scrolled the page.
        const bottom = await op.locator('.live-responses-table')
            .evaluate((e) => e.getBoundingClientRect().bottom + (e.ownerDocument.defaultView?.scrollY ?? 0));
        const png = await b.page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(bottom + 16) } });
        mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        writeFileSync(SCREENSHOT, png);
        // A PNG, and not an empty page: the rendered UI is tens of kilobytes.
        assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
        assert.ok(png.length > 20_000, `screenshot is only ${png.length} bytes`);

        // The service took the dry run through to FCM as validate_only, and only that.
        const deadline = Date.now() + 10_000;
        while (!fakes!.fcm.received.some((m) => m.token === TOKEN) && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
        }
        const got = fakes!.fcm.received.filter((m) => m.token === TOKEN);
        assert.equal(got.length, 1, 'the fake FCM should get the dry run once');
        assert.equal(got[0].validateOnly, true, 'a dry run must reach FCM as validate_only');

        const requests = b.requests.slice(requestsBefore);
        const outside = requests.filter((r) => !isLocalUrl(r.slice(r.indexOf(' ') + 1)));
        assert.deepEqual(outside, [], `requests that would leave this machine:\n${outside.join('\n')}`);
        assert.ok(requests.includes(`POST ${origin}/v1/message/fcm`), requests.join('\n'));
        const errors = b.errors.slice(errorsBefore);
        assert.deepEqual(errors, [], errors.join('\n'));
    });
});
