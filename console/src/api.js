// The public API with the signed-in user's own token; refusals come back as ApiError carrying the problem+json.
import { session, signOut } from "./auth.js";
import { config } from "./config.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(method, path, { body, headers = {} } = {}) {
  const sent = { ...headers };
  const token = session()?.token;
  if (token) sent.Authorization = `Bearer ${token}`;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  let reply;
  try {
    reply = await fetch(`${config().api}${path}`, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, { title: "Network error", detail: String(error.message || error) });
  }
  const type = reply.headers.get("content-type") || "";
  const data = type.includes("json") ? await reply.json().catch(() => null) : await reply.text();
  if (reply.status === 401) {
    signOut();
    location.hash = "#/signin";
  }
  if (!reply.ok) throw new ApiError(reply.status, typeof data === "object" && data ? data : { title: `HTTP ${reply.status}`, detail: String(data || "") });
  return data;
}

// A file the API answers (a CSV export): fetched with the bearer token (a plain link cannot carry it), as a Blob
// and the name its Content-Disposition gives.
export async function apiFile(path) {
  const token = session()?.token;
  let reply;
  try {
    reply = await fetch(`${config().api}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  } catch (error) {
    throw new ApiError(0, { title: "Network error", detail: String(error.message || error) });
  }
  if (reply.status === 401) {
    signOut();
    location.hash = "#/signin";
  }
  if (!reply.ok) throw new ApiError(reply.status, await reply.json().catch(() => ({ title: `HTTP ${reply.status}` })));
  return { blob: await reply.blob(), disposition: reply.headers.get("content-disposition") || "" };
}
