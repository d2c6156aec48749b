// An ordinary Bitbucket Connect app built on atlassian-connect-express, written as a vendor
// writes one: ACE serves /installed and verifies re-installs itself, stores each tenant in its
// Sequelize store (PostgreSQL here, DB_URL), verifies /uninstalled with authenticateInstall(),
// and calls the host with addon.httpClient. Nothing in it knows about Junction.
//
// The /probe routes exist only so the test can look inside: what ACE stored, which lifecycle
// events and webhooks it accepted, and what a REST call through addon.httpClient answered.
const http = require("http");
const express = require("express");
const bodyParser = require("body-parser");
const ace = require("atlassian-connect-express");

const app = express();
app.use(bodyParser.json());
app.use(bodyParser.urlencoded({ extended: false }));
const server = http.createServer(app);

server.listen(0, "127.0.0.1", () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  process.env.AC_LOCAL_BASE_URL = base;
  const addon = ace(app);
  app.use(addon.middleware());
  const events = [];

  app.get("/atlassian-connect.json", (req, res) => res.json(addon.descriptor));
  addon.on("host_settings_saved", clientKey => events.push({ event: "installed", clientKey }));
  // ACE mounts the descriptor's webhook URL itself and emits only what its JWT check accepted.
  const webhooks = [];
  addon.on("*", (subscribed, body, req) =>
    webhooks.push({ subscribed, event: body.event, data: body.data, clientKey: req.context.clientKey })
  );
  app.post("/uninstalled", addon.authenticateInstall(), async (req, res) => {
    await addon.settings.del("clientInfo", req.body.clientKey);
    events.push({ event: "uninstalled", clientKey: req.body.clientKey });
    res.sendStatus(204);
  });
  // A web panel and a repository page as vendors write them: ACE's authenticate() checks the
  // iframe's JWT (signature, expiry, qsh of this very GET) before the page renders, and the page
  // loads the host's AP script from hostScriptUrl (AC_HOST_SCRIPT_URL: Junction's).
  const page = (req, res, extra) =>
    res.send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ACE</title>
<script src="${res.locals.hostScriptUrl}"></script></head><body>
<p id="greeting">panel for ${req.query.repo} in ${req.context.clientKey} as ${req.context.userAccountId}</p>
<button id="load">Load repository</button> <button id="go">Open the ACE page</button>
<button id="flag">Flag</button> <button id="stranger">Stranger</button>
<button id="context">Context</button> <button id="token">Token</button> <button id="cookie">Cookie</button>
<button id="dialog">Dialog</button> <button id="close">Close</button>
<pre id="result"></pre>${extra}
<script>
document.getElementById("load").onclick = () => AP.request("/2.0/repositories/prj/code")
  .then(r => { document.getElementById("result").textContent = "repo " + JSON.parse(r.body).full_name; },
        e => { document.getElementById("result").textContent = "refused " + (e.xhr ? e.xhr.status : e.message); });
document.getElementById("go").onclick = () => AP.navigator.go("addonmodule", { moduleKey: "ace-page" });
const say = text => { document.getElementById("result").textContent = text; };
document.getElementById("context").onclick = () => AP.context.getContext(c => say("context " + c.repository.full_name));
// A fresh context token, checked by ACE's own checkValidToken() on the app's backend.
document.getElementById("token").onclick = () => AP.context.getToken(t =>
  fetch("/verify", { headers: { Authorization: "JWT " + t } }).then(r => r.text()).then(say));
document.getElementById("cookie").onclick = () => {
  AP.cookie.save("flavour", "v1", 1);
  AP.cookie.read("flavour", v => say("cookie " + v));
};
document.getElementById("dialog").onclick = () => AP.dialog.create({ key: "ace-page", height: "300px" });
document.getElementById("close").onclick = () => AP.dialog.close({ done: true });
AP.events.on("dialog.close", d => say("closed " + JSON.stringify(d)));
document.getElementById("flag").onclick = () => AP.flag.create({ title: "Saved", body: "<b>not html</b>", type: "success" });
// A frame of another origin inside the app's page posts to Junction's page as if it were the app.
document.getElementById("stranger").onclick = () => {
  const f = document.createElement("iframe");
  f.src = location.origin.replace("127.0.0.1", "localhost") + "/stranger?c=" + encodeURIComponent(new URLSearchParams(location.search).get("xdm_c"));
  document.body.append(f);
};
</script></body></html>`);
  app.get("/panel", addon.authenticate(), (req, res) =>
    page(req, res, `<script>window.addEventListener("load", () => AP.resize("100%", "321px"));</script>`)
  );
  app.get("/page", addon.authenticate(), (req, res) => page(req, res, ""));
  app.get("/verify", addon.checkValidToken(), (req, res) => res.send(`verified ${req.context.userAccountId}`));
  app.get("/stranger", (req, res) =>
    res.send(`<script>window.parent.parent.postMessage({ junctionAp: 1, channel: ${JSON.stringify(String(req.query.c || ""))},
      method: "resize", args: [null, "777px"] }, "*");</script>`)
  );
  app.get("/done", (req, res) => res.send(`installed as ${req.query.client_key}`));

  app.get("/probe/events", (req, res) => res.json(events));
  app.get("/probe/webhooks", (req, res) => res.json(webhooks));
  app.get("/probe/stored", async (req, res) =>
    res.json((await addon.settings.get("clientInfo", req.query.clientKey)) || null)
  );
  app.get("/probe/call", (req, res) => {
    const client = addon.httpClient({ clientKey: req.query.clientKey });
    client.get({ url: req.query.path, json: true }, (err, response, body) =>
      res.json({ error: err ? String(err) : null, status: response && response.statusCode, body })
    );
  });

  console.log(`ready ${base}`);
});
