/**
 * The args each component takes, as a table over the validation schema (schema.ts): which settings
 * it takes, in what order, which plain (their value decides which resources exist) and which as a
 * pulumi.Input, and the fields of the component alone. `npm run -s args` (cli/args.ts) writes the
 * args interfaces of components/args.ts from it and from the schema; nothing reads it at run time.
 */
import { z } from "zod";
import { appSchema, meshSchema, tlsSchema } from "./schema";

/**
 * How a component takes a field: `plain`, the value itself; `input`, a pulumi.Input of it; `inputs`,
 * a pulumi.Input of a list or map whose items are Inputs too; `items`, a plain list whose items are
 * typed as Inputs though they must be known (the component refuses an Output among them by its path).
 *
 * `items` exists for Pulumi's Go SDK generator: for a plain list of plain objects it names the items'
 * Args struct without generating it, so the Go SDK does not compile (pulumi/pulumi
 * pkg/codegen/go/gen.go, populateDetailsForTypes: a plain object property marks its type as an input,
 * a plain list's items do not; the same class as pulumi/pulumi#9427). Items typed as Inputs are not
 * plain in the schema, and Go gets `[]AppInput`.
 */
export type Take = "plain" | "input" | "inputs" | "items";

export interface ArgField {
    take: Take;
    /** The field's description here, when it differs from the schema's (or for a field of the component alone). */
    description?: string;
    /** The type of a field of the component alone (its optionality included); a schema field takes the schema's. */
    type?: z.ZodType;
    /** Required here though the schema has a default. */
    required?: true;
}

export interface ComponentArgs {
    /** The interface's name. */
    name: string;
    /** The schema whose fields the component takes (any field of `fields` not in it has a `type`). */
    from?: z.ZodType;
    /** The fields in the interface's order. */
    fields: Record<string, ArgField>;
}

/** A schema field taken as a pulumi.Input, described as in the schema. */
const asInput: ArgField = { take: "input" };

export const COMPONENT_ARGS: readonly ComponentArgs[] = [
    {
        name: "StickySessionsArgs",
        fields: {
            mesh: {
                take: "plain",
                type: meshSchema.optional(),
                description: "Istio: installed by this component (default) or already in the cluster.",
            },
            tls: {
                take: "plain",
                type: tlsSchema.optional(),
                description: "HTTPS on the gateway with a certificate from cert-manager. @default off",
            },
            apps: {
                take: "items",
                type: z.array(appSchema),
                description: "One or more apps, all behind one shared gateway.",
            },
        },
    },
    {
        name: "IstioMeshArgs",
        from: meshSchema,
        fields: {
            version: asInput,
            chartRepository: {
                take: "input",
                description:
                    'Where the charts come from: an https:// Helm repository or an oci:// registry such as oci://ghcr.io/istio/release/charts. @default "https://blob.istio.io/istio-release/charts"',
            },
            hub: asInput,
            gatewayApiCrdsRepository: asInput,
            revision: asInput,
            dataplane: {
                take: "plain",
                description:
                    'Sidecars, or ambient (istio-cni and ztunnel too); plain, since it decides which releases exist. @default "sidecar"',
            },
            gateway: {
                take: "plain",
                description:
                    "The gateway; plain, since gateway.api decides whether the Gateway API's CRDs are installed.",
            },
            values: {
                take: "input",
                description: "Extra Helm values per chart, merged over the ones this component sets.",
            },
            persistentSessions: {
                take: "input",
                type: z.boolean().optional(),
                description:
                    "Turn on Envoy's stateful-session filter in istiod (persistent affinity modes need it). @default false",
            },
        },
    },
    {
        name: "StickyAppArgs",
        from: appSchema,
        fields: {
            name: asInput,
            namespace: asInput,
            replicas: asInput,
            path: asInput,
            image: {
                take: "input",
                description:
                    "Your own image instead of the demo app (whether one is given decides if the demo script is shipped).",
            },
            port: asInput,
            target: asInput,
            affinity: { take: "input", description: "@default round robin" },
            match: { take: "input", description: "Route only requests with these exact header values here." },
            direct: { take: "plain", description: "Direct routing to a chosen pod; it decides which resources exist." },
            autoscaling: {
                take: "plain",
                description:
                    "A HorizontalPodAutoscaler and a PodDisruptionBudget instead of a fixed replica count; it decides which resources exist.",
            },
            strictMtls: { take: "input", description: "@default true" },
            stripPath: asInput,
            service: {
                take: "plain",
                description:
                    "An existing Service to make sticky instead of deploying a workload: it decides which resources exist.\n" +
                    "Its namespace is then not created (createNamespace defaults to false); enrolNamespace labels it for sidecar injection.",
            },
            gateway: {
                take: "input",
                type: z.string().optional(),
                description:
                    '"namespace/name" of an Istio Gateway to bind to; when absent the app gets a Gateway of its own.',
            },
            gatewaySelector: {
                take: "inputs",
                type: z.record(z.string(), z.string()).optional(),
                description: "Labels of the ingress gateway pods. @default the mesh's, or Istio's default gateway's",
            },
            gatewayNamespace: {
                take: "input",
                type: z.string().optional(),
                description: 'Namespace of the ingress gateway pods. @default the mesh\'s, or "istio-ingress"',
            },
            hosts: {
                take: "inputs",
                description:
                    'Hosts the app is served on: those of its own Gateway and its VirtualService. @default ["*"]',
            },
            createNamespace: {
                take: "plain",
                type: z.boolean().optional(),
                description:
                    "Create (and label for injection) the app's namespace. @default true, false for an existing Service",
            },
            route: {
                take: "plain",
                type: z.boolean().optional(),
                description: "Create the app's gateway VirtualService. @default true",
            },
            revision: {
                take: "input",
                type: z.string().optional(),
                description: "Istio revision whose sidecar to inject.",
            },
            meshPersistentSessions: {
                take: "input",
                type: z.boolean().optional(),
                description:
                    "Whether the Istio this app runs on has persistent sessions on: an IstioMesh's `persistentSessions` output.\n" +
                    "Programs in other languages pass it (their `dependsOn` reaches the app as a reference, not the mesh);\n" +
                    "a persistent mode without it is reported in `meshRequirements`. @default the IstioMesh among `dependsOn` (TypeScript), else false",
            },
            quiet: {
                take: "plain",
                type: z.boolean().optional(),
                description: "Do not log settings warnings. @default false",
            },
        },
    },
    {
        name: "GatewayTlsArgs",
        from: tlsSchema,
        fields: {
            hosts: { take: "inputs", required: true, description: "The certificate's names." },
            installCertManager: {
                take: "plain",
                description: "Install cert-manager (CRDs included); it decides which resources exist. @default true",
            },
            certManagerVersion: asInput,
            chartRepository: asInput,
            issuer: asInput,
            acme: asInput,
            gatewayNamespace: {
                take: "input",
                type: z.string(),
                description: "The gateway's namespace: the Certificate and its Secret go there.",
            },
        },
    },
];
