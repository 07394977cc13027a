// config.json next to the page says where the API is and how people sign in: {"api": "", "auth": "local"} on the
// local server; on AWS the deployment writes the API's URL and the Cognito hosted UI's domain and client.
let loaded = { api: "", auth: "local" };

export async function loadConfig() {
  try {
    const reply = await fetch("config.json", { cache: "no-store" });
    if (reply.ok) loaded = { ...loaded, ...(await reply.json()) };
  } catch {
    /* the defaults: the local server */
  }
  loaded.api = (loaded.api || "").replace(/\/$/, "");
  return loaded;
}

export function config() {
  return loaded;
}
