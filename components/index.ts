/** istio-sticky: Pulumi components for sticky sessions on Kubernetes through Istio. */
export { IstioMesh, IstioMeshArgs, IstioGatewayArgs } from "./IstioMesh";
export { StickyApp, StickyAppArgs, AppArgs, AffinityArgs, CookieArgs, DirectArgs, AutoscalingArgs } from "./StickyApp";
export { StickySessions, StickySessionsArgs, StickySessionsMeshArgs, AppEndpoint, validateStack } from "./StickySessions";
export * from "./settings";
export { buildPlan, Plan, AppPlan, SHARED_GATEWAY_NAME } from "./plan";
export { planDocuments, toYaml, helmReleaseDocument } from "./render";
export { buildAppObjects, serviceHost, AppObjects, AppObjectSet } from "./objects/app";
export { buildRoutes } from "./objects/routes";
export { podsFromEndpoints, directCurl, PodAddress } from "./objects/pods";
export { podAddressRegex } from "./policy/direct";
export { buildMeshReleases, MeshReleases } from "./istio/releases";
export { DEFAULT_ISTIO_VERSION, ISTIO_CHART_REPO } from "./istio/versions";
export { IngressAddress } from "./objects/ingress";
export { K8sObject, HelmReleaseSpec } from "./objects/types";
export { describeAffinity, stickinessProbe, loadBalancerFor, serviceLabelsFor } from "./policy/affinity";
