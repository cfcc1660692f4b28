// The dashboard in a real browser: headless Chromium (Debian's) driven by playwright-core watches a
// client connect, log in and appear on the page.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM, describeChromium, login, register, radiusRumble, startTestServer, TestClient, type TestServer } from "./helpers.ts";

export const SCREENSHOT = join(tmpdir(), "mmo-dashboard.png");

describeChromium("the dashboard in a browser", () => {
  let srv: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    srv = await startTestServer(radiusRumble);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await srv?.stop();
  });

  test("the dashboard shows a client that connects during the test, live", async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(`http://127.0.0.1:${srv.port}/dashboard`);
    await page.waitForSelector("#status.live", { timeout: 10_000 });
    expect(await page.textContent("#clients")).toBe("0");

    const c = await TestClient.connect(srv.url);
    await page.waitForFunction(`document.querySelector("#clients")?.textContent === "1"`, undefined, { timeout: 5000 });
    expect(await register(c, "Dashy", "password", 0xff8800)).toBe("ok");
    expect(await login(c, "Dashy", "password")).toBe("ok");
    c.send({ $case: "playerDirection", value: { direction: 0 } });

    const row = page.locator(`tr[data-player-id="${c.id}"]`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.textContent()).toContain("Dashy");
    expect(await page.textContent("#players")).toBe("1");
    // The map has drawn the player: some pixel of its colour. (A string: it runs in the page, not here.)
    const drawn = await page.evaluate(`(() => {
      const canvas = document.querySelector("canvas");
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) if (data[i] === 0xff && data[i + 1] === 0x88 && data[i + 2] === 0x00) return true;
      return false;
    })()`);
    expect(drawn).toBe(true);
    await page.screenshot({ path: SCREENSHOT });
    console.log(`dashboard screenshot: ${SCREENSHOT}`);

    await c.close();
    await page.waitForFunction(`document.querySelector("#clients")?.textContent === "0"`, undefined, { timeout: 5000 });
    expect(await page.locator("tr[data-player-id]").count()).toBe(0);
  }, 30_000);

  test("an operator kicks and bans a player from the page (with the admin token): the player is put out with the reason, the ban refuses its login, the audit log shows both", async () => {
    const token = "dashboard-operator-0123456789";
    const guarded = await startTestServer(radiusRumble, { adminToken: token });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
      await page.goto(`http://127.0.0.1:${guarded.port}/dashboard?token=${token}`);
      await page.waitForSelector("#status.live", { timeout: 10_000 });
      const c = await TestClient.connect(guarded.url);
      expect(await register(c, "Troublemaker", "password")).toBe("ok");
      expect(await login(c, "Troublemaker", "password")).toBe("ok");
      const userId = (await guarded.services.store.findAccount("Troublemaker"))!.userId;

      await page.fill("#find-name", "troublemaker");
      await page.click("#find button");
      const row = page.locator(`#found tr[data-user-id="${userId}"]`);
      await row.waitFor({ timeout: 5000 });
      expect(await row.textContent()).toContain("InGame");
      await page.fill("#reason", "griefing");
      await row.locator('button[data-act="kick"]').click();
      expect(await c.closed).toEqual({ code: 1008, reason: "Kicked by an operator: griefing" });

      const again = await TestClient.connect(guarded.url);
      expect(await login(again, "Troublemaker", "password")).toBe("ok");
      await page.selectOption("#until", "0");
      await page.fill("#reason", "cheating");
      await row.locator('button[data-act="ban"]').click();
      expect((await again.closed).reason).toBe("Banned for good: cheating");
      const third = await TestClient.connect(guarded.url);
      expect(await login(third, "Troublemaker", "password")).toBe("Banned for good: cheating");
      await third.close();
      // The page shows the ban and both actions in its audit log.
      await page.waitForFunction(`document.querySelector('#found tr[data-user-id="${userId}"]')?.textContent.includes("cheating (for good)")`, undefined, { timeout: 5000 });
      await page.waitForFunction(`document.querySelectorAll("#audit tr").length >= 2`, undefined, { timeout: 5000 });
      const actions = await page.locator("#audit tr td:nth-child(3)").allTextContents();
      expect(actions.slice(0, 2)).toEqual(["ban", "kick"]);
      await page.close();
    } finally {
      await guarded.stop();
    }
  }, 30_000);
});
