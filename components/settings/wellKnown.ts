/**
 * Names fixed by Envoy and by the demo app, which settings are checked against
 * (a user's header or cookie must not collide with them).
 */

/** The header Envoy reads the chosen pod from, on an ORIGINAL_DST cluster. */
export const ORIGINAL_DST_HEADER = "x-envoy-original-dst-host";

/**
 * The response header that names the pod that answered (its address, from Envoy's
 * %UPSTREAM_REMOTE_ADDRESS%), on the routes of existing Services: verify tells pods apart by it.
 */
export const POD_HEADER = "x-istio-sticky-pod";

/** The demo app's own session cookie in persistentCookie mode (the routing cookie names the pod, not the client). */
export const DEMO_SESSION_COOKIE = "demo-session";
