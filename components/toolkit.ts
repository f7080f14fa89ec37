/**
 * `istio-sticky/plan`: what tools that check or drive a stack's plan read besides the main entry
 * (`istio-sticky`): the well-known names the objects use, the helpers that say what an app's
 * settings mean, the render's document types, and what the stack exports for verify. The mesh lab
 * (lab/) reaches the package through these two entry points only.
 */
export { isHashMode, isPersistentMode } from "./settings/enums";
export { DEFAULT_CERT_MANAGER_VERSION, podPort, serviceName } from "./settings/schema";
export { APPS_KEY, MESH_KEY, TLS_KEY } from "./settings/validate";
export { gatewayApiVersionFor, istioLine, ISTIO_LINES } from "./settings/versions";
export { ISTIO_IMAGE_HUB } from "./settings/artifacts";
export { ORIGINAL_DST_HEADER, POD_HEADER } from "./settings/wellKnown";
export { PERSISTENT_SESSION_ENV } from "./policy/affinity";
export { HELM_RELEASE_API_VERSION } from "./manifests/types";
export { DEMO_APP_IMAGE } from "./manifests/demoApp";
export { CERT_MANAGER_TYPE, HELM_RELEASE_TYPE, MANIFEST_FILE_TYPE } from "./plan/types";
export { directHeaders } from "./outputs/endpoints";
export { verifyArgsFor } from "./outputs/verifyArgs";
