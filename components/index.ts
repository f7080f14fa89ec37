/**
 * istio-sticky: Pulumi components for sticky sessions on Kubernetes through Istio.
 *
 * The public API: the four components with their args and outputs, the enums,
 * and the pure functions that validate settings, plan a stack and render it.
 */
export { StickySessions, StickySessionsArgs } from "./StickySessions";
export { IstioMesh, IstioMeshArgs } from "./IstioMesh";
export { StickyApp, StickyAppArgs } from "./StickyApp";
export { GatewayTls, GatewayTlsArgs } from "./GatewayTls";
export {
    AppArgs,
    AffinityArgs,
    CookieArgs,
    CookieAttributeArgs,
    MatchArgs,
    DirectArgs,
    AutoscalingArgs,
    MeshArgs,
    GatewayArgs,
    MeshValuesArgs,
    TlsArgs,
    AcmeArgs,
    ExistingServiceArgs,
} from "./args";
export {
    AffinityMode,
    AppProtocol,
    HashAlgorithm,
    DirectContext,
    Dataplane,
    GatewayServiceType,
    ExternalTrafficPolicy,
    IngressApi,
    TlsIssuer,
} from "./settings/enums";
export { parseStackConfig, parseStack, SettingsError, StackSettings, Checked } from "./settings/validate";
export { AppSettings, MeshSettings, TlsSettings } from "./settings/schema";
export { buildPlan, Plan, PlanOptions } from "./plan/stack";
export { PlannedObject, PlannedRead, PlannedComponent, ComponentType, ReadKind } from "./plan/types";
export { planDocuments, planYaml, toYaml } from "./plan/render";
export { K8sObject } from "./manifests/types";
export { AppEndpoint } from "./outputs/endpoints";
export { IngressAddress, NodePorts } from "./outputs/ingress";
export { PodAddress } from "./outputs/pods";
export { demoAppSource } from "./registration/demoAppScript";
