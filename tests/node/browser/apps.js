// A person in a real browser (Debian's chromium, driven by playwright-core) using an unmodified
// ACE app inside Junction: its panel and page, AP.resize, AP.request before and after granting
// and after revoking, AP.navigator.go, AP.flag, a stranger's message, then axe-core on the pages
// and screenshots at desktop and phone sizes. Prints one JSON object of what it saw; the Rust
// test (tests/api/browser.rs) judges it.
//
// Usage: node apps.js '{"base": …, "user": …, "password": …, "admin": [user, password],
//   "chromium": …, "artifacts": …, "tour": [[name, path, "uma" | "admin" | "nobody"], …]}'
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const cfg = JSON.parse(process.argv[2]);
const seen = { warnings: [], axe: {}, screenshots: [] };
let current = null; // the page in use, to say where a failure happened
const SIZES = [["desktop", 1280, 900], ["phone", 390, 844]];

async function signIn(context, who) {
  const [user, password] = who || [cfg.user, cfg.password];
  const page = await context.newPage();
  page.on("console", m => { if (m.type() === "warning") seen.warnings.push(m.text()); });
  await page.goto(`${cfg.base}/login`);
  if (user === null) return page;
  await page.fill("#username", user);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  return page;
}

const panel = page => page.frameLocator(".app-panel iframe");

async function clickResult(frame, button) {
  await frame.locator("#result").evaluate(el => { el.textContent = ""; });
  await frame.locator(button).click();
  await frame.locator("#result").filter({ hasText: /\S/ }).waitFor();
  return frame.locator("#result").textContent();
}

const loadResult = (page, frame) => clickResult(frame, "#load");

async function shoot(page, name) {
  for (const [size, width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    const file = path.join(cfg.artifacts, `${name}-${size}.png`);
    await page.screenshot({ path: file, fullPage: true });
    seen.screenshots.push(file);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function main() {
  fs.mkdirSync(cfg.artifacts, { recursive: true });
  const browser = await chromium.launch({ executablePath: cfg.chromium, args: ["--no-sandbox"] });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context);
    current = page;
    const repo = `${cfg.base}/projects/PRJ/repos/code`;
    await page.goto(repo);

    // The panel: ACE's authenticate() accepted the frame's token, and AP.resize sized it.
    seen.greeting = await panel(page).locator("#greeting").textContent();
    await page.waitForFunction(() => document.querySelector(".app-panel iframe").style.height === "321px");
    seen.panelHeight = await page.locator(".app-panel iframe").evaluate(f => f.getBoundingClientRect().height);
    await shoot(page, "repository-with-app-panel");

    // A frame of another origin inside the app posts as if it were the app: ignored, said so.
    const warned = page.waitForEvent("console", m => m.text().includes("Junction ignored a message"));
    await panel(page).locator("#stranger").click();
    await warned;
    seen.heightAfterStranger = await page.locator(".app-panel iframe").evaluate(f => f.style.height);

    // AP.flag: shown by the host, as text.
    await panel(page).locator("#flag").click();
    await page.locator(".app-flag").waitFor();
    seen.flag = await page.locator(".app-flag").innerText();
    seen.flagHasMarkup = (await page.locator(".app-flag b").count()) > 0;

    // AP.context, a context token ACE's checkValidToken() accepts, AP.cookie.
    seen.context = await clickResult(panel(page), "#context");
    seen.token = await clickResult(panel(page), "#token");
    seen.cookie = await clickResult(panel(page), "#cookie");

    // AP.dialog: a module of the same app in a modal; closing it tells the opener.
    await panel(page).locator("#dialog").click();
    const dialogFrame = page.frameLocator("dialog.app-dialog iframe");
    seen.dialogGreeting = await dialogFrame.locator("#greeting").textContent();
    await shoot(page, "app-dialog");
    await dialogFrame.locator("#close").click();
    await page.locator("dialog.app-dialog").waitFor({ state: "detached" });
    await panel(page).locator("#result").filter({ hasText: /closed/ }).waitFor();
    seen.dialogClosed = await panel(page).locator("#result").textContent();

    // AP.request before the person granted access: refused, and the host asks them.
    seen.beforeGrant = await loadResult(page, panel(page));
    await page.locator("#app-access-ask").waitFor();
    await shoot(page, "access-asked");
    await Promise.all([page.waitForNavigation(), page.click("#app-access-review")]);
    seen.grantPage = page.url().replace(cfg.base, "");
    await shoot(page, "grant-access");
    await Promise.all([page.waitForNavigation(), page.click("button[value=grant]")]);
    seen.backAt = page.url().replace(cfg.base, "");
    seen.afterGrant = await loadResult(page, panel(page));

    // Revoked under Account → App authorizations: the next call is refused.
    await page.goto(`${cfg.base}/account/app-authorizations`);
    await shoot(page, "app-authorizations");
    await Promise.all([page.waitForNavigation(), page.click("#authorizations button.danger")]);
    await Promise.all([page.waitForNavigation(), page.click("main form button[type=submit]")]);
    await page.goto(repo);
    seen.afterRevoke = await loadResult(page, panel(page));
    await page.locator("#app-access-ask").waitFor();
    seen.askedAgain = true;
    await page.click("#app-access-later");
    await page.locator("#app-access-ask").waitFor({ state: "detached" });

    // AP.navigator.go moves the host page to the app's repository page.
    await Promise.all([page.waitForURL(/\/apps\/\d+\/ace-page$/), panel(page).locator("#go").click()]);
    seen.navigatedTo = page.url().replace(cfg.base, "");
    seen.pageGreeting = await page.frameLocator("iframe.app-frame").locator("#greeting").textContent();
    await shoot(page, "app-repository-page");

    // Every page, as whoever sees it: a screenshot at each size, and axe-core (in contexts of
    // their own: axe is injected, which Junction's Content-Security-Policy would rightly refuse).
    const people = { uma: [cfg.user, cfg.password], admin: cfg.admin, nobody: [null, null] };
    const audits = {};
    for (const [who, credentials] of Object.entries(people)) {
      const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
      audits[who] = await signIn(context, credentials);
    }
    for (const [name, url, who] of cfg.tour) {
      const auditPage = audits[who];
      current = auditPage;
      await auditPage.goto(`${cfg.base}${url}`);
      await shoot(auditPage, `page-${name}`);
      await auditPage.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
      const result = await auditPage.evaluate(() => axe.run(document, { resultTypes: ["violations"] }));
      seen.axe[name] = result.violations
        .filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(" ")).join(", ")})`);
    }
  } finally {
    await browser.close();
  }
}

main().then(
  () => console.log(JSON.stringify(seen)),
  err => {
    const at = current ? current.url() : null;
    console.log(JSON.stringify(Object.assign(seen, { error: `${err && err.stack || err} (the page was at ${at})` })));
  }
);
