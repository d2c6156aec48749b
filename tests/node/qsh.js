// Canonical requests and qsh as npm atlassian-jwt computes them, for Junction to compare with.
// Reads a JSON array of {method, url, base} on stdin (url: path and query, as sent; base: the
// base URL whose path is not part of the canonical path); writes [{canonical, qsh}] to stdout.
const jwt = require("atlassian-jwt");

let input = "";
process.stdin.on("data", d => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map(r => {
    const req = jwt.fromMethodAndUrl(r.method, r.url);
    return {
      canonical: jwt.createCanonicalRequest(req, false, r.base),
      qsh: jwt.createQueryStringHash(req, false, r.base)
    };
  });
  process.stdout.write(JSON.stringify(out));
});
