// Who is signed in. On AWS: the Cognito hosted UI (authorization code with PKCE), the ID token kept for the
// tab's life only (sessionStorage). Locally: a picker that asks the local server to mint a token.
import { config } from "./config.js";

const KEY = "loyalty-console-session";

export function claimsOf(token) {
  const part = token.split(".")[1] || "";
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

export function session() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (!saved || saved.exp * 1000 <= Date.now()) return null;
    return saved;
  } catch {
    return null;
  }
}

function keep(token) {
  const claims = claimsOf(token);
  const saved = { token, sub: claims.sub, email: claims.email || null, groups: claims["cognito:groups"] || [],
    partnerId: claims.partner_id || null, exp: claims.exp };
  sessionStorage.setItem(KEY, JSON.stringify(saved));
  return saved;
}

// What the signed-in person may see: staff pages, admin pages, or (a partner) its own partner page only.
export function roles() {
  const me = session();
  const groups = me?.groups || [];
  const admin = groups.includes("admin");
  const partner = !admin && groups.includes("partner") && Boolean(me?.partnerId);
  return { admin, staff: admin || groups.includes("staff"), partner, partnerId: partner ? me.partnerId : null };
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

export async function signInLocally(sub, groups, extra = {}) {
  const reply = await fetch(`${config().api}/local/tokens`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sub, groups, ...extra }),
  });
  if (!reply.ok) throw new Error((await reply.json().catch(() => ({}))).detail || `HTTP ${reply.status}`);
  return keep((await reply.json()).token);
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// Where the hosted UI sends people back: the console client's one callback URL (config.json), whatever address
// the console was opened at (/ or /index.html).
function redirectUri() {
  return config().cognito?.redirect_uri || `${location.origin}${location.pathname}`;
}

export async function signInWithCognito() {
  const { cognito } = config();
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  sessionStorage.setItem(`${KEY}-pkce`, JSON.stringify({ verifier, state }));
  const query = new URLSearchParams({
    response_type: "code", client_id: cognito.client_id, redirect_uri: redirectUri(), scope: "openid email profile",
    code_challenge_method: "S256", code_challenge: challenge, state,
  });
  location.assign(`${cognito.domain}/oauth2/authorize?${query}`);
}

// Back from the hosted UI with ?code=…&state=…: trade the code for tokens, once.
export async function finishCognitoSignIn() {
  const query = new URLSearchParams(location.search);
  const code = query.get("code");
  if (!code) return null;
  const saved = JSON.parse(sessionStorage.getItem(`${KEY}-pkce`) || "null");
  sessionStorage.removeItem(`${KEY}-pkce`);
  history.replaceState(null, "", redirectUri() + location.hash);
  if (!saved || saved.state !== query.get("state")) throw new Error("The sign-in did not come from this page.");
  const { cognito } = config();
  const reply = await fetch(`${cognito.domain}/oauth2/token`, {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: cognito.client_id, code,
      redirect_uri: redirectUri(), code_verifier: saved.verifier }),
  });
  if (!reply.ok) throw new Error(`Sign-in failed (HTTP ${reply.status}).`);
  return keep((await reply.json()).id_token);
}

export function cognitoSignOutUrl() {
  const { cognito } = config();
  return `${cognito.domain}/logout?${new URLSearchParams({ client_id: cognito.client_id, logout_uri: redirectUri() })}`;
}
