// Smoke flow against a live server, entirely through the client generated from the OpenAPI
// document: typed paths, typed bodies, typed errors; no hand-written fetch.
//
//   BASE_URL  e.g. http://127.0.0.1:18181
//   API_KEY   an org API key (`ak-…`), sent as `Authorization: Bearer <key>` on /v1; /api/v1 is
//             driven with an `alm_test_…` key the flow makes for itself
//
// Exits 1 with the failing step and why; on success prints one summary line.
import { createHash, randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import { conforms, Mismatch } from "./conformance.js";
import type { components, paths } from "./generated/openapi.js";

type Schemas = components["schemas"];
type Exactly<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

function expect(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Mismatch(message);
}

function need(name: string): string {
  const v = process.env[name];
  if (!v) {
    console.error(`smoke: set ${name} (BASE_URL=http://host:port, API_KEY=ak-…)`);
    process.exit(2);
  }
  return v;
}

const baseUrl = need("BASE_URL").replace(/\/+$/, "");
const apiKey = need("API_KEY");

const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

/** The body of a response with exactly `status`, else a Mismatch naming what came back. */
function body<T>(r: { data?: T; error?: unknown; response: Response }, status: number): T {
  const got = r.response.status;
  if (got !== status || r.data === undefined) {
    const detail = r.error !== undefined ? JSON.stringify(r.error) : "(no error body)";
    throw new Mismatch(`${r.response.url}: expected HTTP ${status}, got ${got} ${detail}`);
  }
  return r.data;
}

const passed: string[] = [];
let project!: Schemas["v1.Project"]; // set by the first step
let created = false;
async function step(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
    passed.push(name);
  } catch (e) {
    const why =
      e instanceof Mismatch
        ? e.message
        : e instanceof Error && e.cause instanceof Error // fetch() failing: say why, not where
          ? `${e.message}: ${e.cause.message} (is the server up at ${baseUrl}?)`
          : e instanceof Error
            ? e.stack ?? e.message
            : String(e);
    console.error(`smoke: FAILED step ${passed.length + 1} (${name}): ${why}`);
    console.error(`smoke: passed before it: ${passed.join(", ") || "none"}`);
    if (created && !passed.includes("delete")) {
      // Best effort, so that failed runs do not pile up projects on the server.
      await client.DELETE("/v1/projects/{project_id}", { params: { path: { project_id: project.id } } }).catch(() => {});
    }
    process.exit(1);
  }
}

const started = Date.now();
const name = `client-smoke ${new Date().toISOString()} ${randomUUID().slice(0, 8)}`;
const description = "made by tests/client smoke";
const fileText = `hello from the generated client, ${randomUUID()}\n`;
const fileBytes = new TextEncoder().encode(fileText);
const fileSha = createHash("sha256").update(fileBytes).digest("hex");

await step("create", async () => {
  const r = await client.POST("/v1/projects", { body: { name, description } });
  const p = body(r, 201);
  project = p;
  created = true;
  conforms(p, "v1.Project");
  expect(p.name === name, `name is ${JSON.stringify(p.name)}, sent ${JSON.stringify(name)}`);
  expect(p.description === description, `description is ${JSON.stringify(p.description)}`);
  expect(p.slug.length > 0, "empty slug");
  expect(p.status === "active", `a new project's status is ${p.status}, not active`);
  expect(["private", "shared"].includes(p.visibility), `visibility ${p.visibility} is neither private nor shared`);
});

await step("list", async () => {
  const r = await client.GET("/v1/projects", { params: { query: { limit: 200 } } });
  const list = body(r, 200);
  conforms(list, "v1.Project", { array: true });
  const found = list.find((p) => p.id === project.id);
  expect(found, `GET /v1/projects (${list.length} items) lacks ${project.id}`);
  expect(found.name === name, `listed name is ${found.name}`);
});

await step("get", async () => {
  const r = await client.GET("/v1/projects/{project_id}", { params: { path: { project_id: project.id } } });
  const p = body(r, 200);
  conforms(p, "v1.Project");
  expect(p.id === project.id, `got id ${p.id}, asked for ${project.id}`);
  expect(p.slug === project.slug, `slug ${p.slug} ≠ ${project.slug}`);
  expect(r.response.headers.get("ETag"), "no ETag header (the spec documents one)");
});

let workspaceRef = "";
await step("workspace", async () => {
  const r = await client.GET("/v1/projects/{project_id}/workspace", {
    params: { path: { project_id: project.id } },
  });
  const w = body(r, 200);
  conforms(w, "v1.Workspace");
  expect(w.project_id === project.id, `workspace of ${w.project_id}, not ${project.id}`);
  expect(w.workspace_ref.length > 0, "empty workspace_ref");
  expect(["active", "idle"].includes(w.status), `status ${w.status} is neither active nor idle`);
  workspaceRef = w.workspace_ref;
});

await step("upload", async () => {
  const r = await client.PUT("/v1/projects/{project_id}/workspace/file", {
    params: { path: { project_id: project.id }, query: { path: "/hello.txt" } },
    headers: { "Content-Type": "application/octet-stream" },
    // A binary body is typed `string`; openapi-fetch would JSON-encode it without this.
    body: fileText,
    bodySerializer: (text) => text,
  });
  const w = body(r, 201);
  conforms(w, "v1.FileWritten");
  expect(w.path === "/hello.txt", `written path ${w.path}`);
  expect(w.size === fileBytes.length, `size ${w.size}, sent ${fileBytes.length} bytes`);
  expect(w.sha256 === fileSha, `sha256 ${w.sha256}, expected ${fileSha}`);
  expect(w.revision.length > 0, "empty revision");
});

await step("list-files", async () => {
  const r = await client.GET("/v1/projects/{project_id}/workspace/files", {
    params: { path: { project_id: project.id }, query: { path: "/" } },
  });
  const l = body(r, 200);
  conforms(l, "v1.FileList");
  expect(l.workspace_ref === workspaceRef, `workspace_ref ${l.workspace_ref} ≠ ${workspaceRef}`);
  const f = l.items.find((i) => i.name === "hello.txt");
  expect(f, `"/" lists ${JSON.stringify(l.items.map((i) => i.name))}, no hello.txt`);
  expect(f.type === "file" && f.size === fileBytes.length, `hello.txt listed as ${JSON.stringify(f)}`);
});

await step("read-file", async () => {
  const r = await client.GET("/v1/projects/{project_id}/workspace/file", {
    params: { path: { project_id: project.id }, query: { path: "/hello.txt" } },
    parseAs: "text",
  });
  const text: string = body(r, 200);
  expect(text === fileText, `read back ${JSON.stringify(text)}, wrote ${JSON.stringify(fileText)}`);
  const etag = r.response.headers.get("ETag") ?? "";
  expect(etag.includes(fileSha), `ETag ${etag} is not the SHA-256 ${fileSha}`);
});

await step("alumia", async () => {
  // /api/v1 is driven with an Alumia key of the same person, made through /api/v1 itself.
  const minted = body(
    await client.POST("/api/v1/api-keys", { body: { name: "client smoke", env: "test" } }),
    201,
  );
  conforms(minted, "alumia.CreatedApiKeyResponse");
  const almKey = minted.data.key;
  expect(/^alm_test_[0-9a-f]{48}$/.test(almKey), `an alm_test_ key, got ${almKey.slice(0, 12)}…`);
  expect(minted.data.prefix === almKey.slice(0, 12), `prefix ${minted.data.prefix}`);
  const alumia = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${almKey}` } });

  const listed = body(await alumia.GET("/api/v1/projects", { params: { query: { limit: 200 } } }), 200);
  conforms(listed, "alumia.ProjectList");
  expect(Array.isArray(listed.data.items), "data.items is not a list (the real Alumia shape)");
  expect(listed.data.items.some((p) => p.id === project.id), `the project is not in data.items`);
  expect(listed.data.hasMore === (listed.data.nextCursor !== null), "hasMore and nextCursor disagree");

  const got = body(await alumia.GET("/api/v1/projects/{id}", { params: { path: { id: project.id } } }), 200);
  conforms(got, "alumia.ProjectDetailsResponse");
  expect(got.success === true, "success is not true");
  expect(got.data.id === project.id && got.data.name === name, `envelope holds ${got.data.id} ${got.data.name}`);
  expect(got.data.slug === project.slug, `slug ${got.data.slug} ≠ ${project.slug}`);
  expect(Array.isArray(got.data.sharedWorkspaces) && typeof got.data.spend === "number", "no spend/sharedWorkspaces");

  const patch: Schemas["alumia.UpdateProject"] = {
    description: "patched by the smoke",
    tags: ["smoke"],
    emoji: "🧪",
    metadata: { source: "client smoke" },
  };
  const upd = await alumia.PATCH("/api/v1/projects/{id}", { params: { path: { id: project.id } }, body: patch });
  const u = body(upd, 200);
  conforms(u, "alumia.ProjectResponse");
  expect(u.success === true, "success is not true");
  expect(u.data.id === project.id, `patched ${u.data.id}`);
  expect(u.data.description === patch.description, `description ${JSON.stringify(u.data.description)}`);
  expect(JSON.stringify(u.data.tags) === '["smoke"]', `tags ${JSON.stringify(u.data.tags)}`);
  expect(u.data.emoji === patch.emoji, `emoji ${JSON.stringify(u.data.emoji)}`);
  expect(u.data.metadata["source"] === "client smoke", `metadata ${JSON.stringify(u.data.metadata)}`);

  // The same project through /v1 shows the change.
  const v1 = body(await client.GET("/v1/projects/{project_id}", { params: { path: { project_id: project.id } } }), 200);
  expect(v1.description === patch.description, `/v1 still shows description ${JSON.stringify(v1.description)}`);

  const keys = body(await alumia.GET("/api/v1/api-keys"), 200);
  conforms(keys, "alumia.ApiKeyList");
  expect(keys.data.items.some((k) => k.id === minted.data.id), "the new key is not listed");
  const revoked = await alumia.DELETE("/api/v1/api-keys/{id}", { params: { path: { id: minted.data.id } } });
  expect(revoked.response.status === 200, `revoking the alm_ key: HTTP ${revoked.response.status}`);
  const after = await alumia.GET("/api/v1/projects/{id}", { params: { path: { id: project.id } } });
  expect(after.response.status === 401, `the revoked alm_ key still works: HTTP ${after.response.status}`);
});

await step("not-found", async () => {
  const missing = randomUUID();
  const r = await client.GET("/v1/projects/{project_id}", { params: { path: { project_id: missing } } });
  expect(r.data === undefined, `GET of random ${missing} returned a project`);
  expect(r.response.status === 404, `GET of random ${missing}: HTTP ${r.response.status}, not 404`);
  const err = r.error;
  // Compile-time: the generated types give this error exactly the error schema (not any/unknown).
  const typed: Exactly<typeof err, Schemas["v1.Error"]> = true;
  expect(typed, "unreachable");
  conforms(err, "v1.Error");
  expect(err.code === "projects.not_found", `error code ${JSON.stringify(err.code)}`);
  const traceHeader = r.response.headers.get("X-Trace-Id");
  expect(traceHeader === err.trace_id, `trace_id ${err.trace_id} ≠ X-Trace-Id ${traceHeader}`);
});

await step("delete", async () => {
  const r = await client.DELETE("/v1/projects/{project_id}", { params: { path: { project_id: project.id } } });
  expect(r.response.status === 204, `DELETE: HTTP ${r.response.status} ${JSON.stringify(r.error)}`);
  const after = await client.GET("/v1/projects/{project_id}", { params: { path: { project_id: project.id } } });
  expect(after.response.status === 404, `GET after DELETE: HTTP ${after.response.status}, not 404`);
});

console.log(
  `smoke: ${passed.length}/${passed.length} steps passed (${passed.join(", ")}) against ${baseUrl} in ${Date.now() - started} ms`,
);
