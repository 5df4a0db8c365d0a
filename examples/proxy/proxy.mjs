// A minimal backend proxy for a browser intake form: the browser talks to this server on your
// own origin; only this server knows the spasm-triage API key. Node 20+, no dependencies.
//
//   SPASM_TRIAGE_URL=https://triage.internal SPASM_TRIAGE_KEY=... node proxy.mjs
//
// It forwards only what a form needs (POST /v1/triage, GET /v1/vocabulary), caps the body,
// passes Accept-Language through, and never logs bodies (they are health data).
import http from "node:http";

const upstream = process.env.SPASM_TRIAGE_URL ?? "http://127.0.0.1:8080";
const key = process.env.SPASM_TRIAGE_KEY ?? "";
const port = Number(process.env.PORT ?? 3000);
const allowed = new Set(["POST /v1/triage", "GET /v1/vocabulary"]);
const maxBody = 64 * 1024;

http
  .createServer(async (req, res) => {
    if (!allowed.has(`${req.method} ${req.url}`)) {
      res.writeHead(404, { "content-type": "application/problem+json" });
      res.end(JSON.stringify({ title: "Not found", status: 404 }));
      return;
    }
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > maxBody) {
        res.writeHead(413, { "content-type": "application/problem+json" });
        res.end(JSON.stringify({ title: "Body too large", status: 413 }));
        return;
      }
      chunks.push(chunk);
    }
    const headers = { "x-api-key": key };
    if (req.headers["content-type"]) headers["content-type"] = req.headers["content-type"];
    if (req.headers["accept-language"]) headers["accept-language"] = req.headers["accept-language"];
    try {
      const reply = await fetch(upstream + req.url, {
        method: req.method,
        headers,
        body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
      });
      const out = {};
      for (const name of ["content-type", "content-language", "cache-control", "deprecation", "sunset", "link", "x-request-id"]) {
        const value = reply.headers.get(name);
        if (value) out[name] = value;
      }
      res.writeHead(reply.status, out);
      res.end(Buffer.from(await reply.arrayBuffer()));
    } catch {
      res.writeHead(502, { "content-type": "application/problem+json" });
      res.end(JSON.stringify({ title: "Triage service unreachable", status: 502 }));
    }
  })
  .listen(port, "127.0.0.1", () => console.log(`proxy on http://127.0.0.1:${port} -> ${upstream}`));
