import { z } from "zod";
import { AffinityMode, GatewayServiceType, isHashMode } from "./enums";
import { appSchema, AppSettings, meshSchema, MeshSettings } from "./schema";
import { compareMinor, headerMatchesOverlap, parseVersion, pathsOverlap } from "./rules";
import { COOKIE_ATTRIBUTES_MINOR } from "../istio/versions";

/** The Pulumi config namespace of this project. */
export const CONFIG_NAMESPACE = "istio-sticky";
export const MESH_KEY = `${CONFIG_NAMESPACE}:mesh`;
export const APPS_KEY = `${CONFIG_NAMESPACE}:apps`;
const KNOWN_KEYS = [MESH_KEY, APPS_KEY];

/** Namespaces an app may not take: Istio's own, and the system ones. */
const RESERVED_NAMESPACES = ["istio-system", "kube-system", "kube-public", "kube-node-lease"];

/** Every problem found in the settings, each naming its field. */
export class SettingsError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`invalid settings:\n  - ${problems.join("\n  - ")}`);
        this.name = "SettingsError";
    }
}

export interface StackSettings {
    mesh: MeshSettings;
    apps: AppSettings[];
}

export interface Checked<T> {
    value: T;
    /** Things that are allowed but probably not what the user wants. */
    warnings: string[];
}

export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
    return path.reduce<string>(
        (out, seg) => (typeof seg === "number" ? `${out}[${seg}]` : out ? `${out}.${String(seg)}` : String(seg)),
        prefix,
    );
}

function issuesToProblems(prefix: string, error: z.ZodError): string[] {
    return error.issues.map((issue) => `${fieldPath(prefix, issue.path)}: ${issue.message}`);
}

function parseWith<S extends z.ZodType>(schema: S, raw: unknown, prefix: string, problems: string[]): z.output<S> | undefined {
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    problems.push(...issuesToProblems(prefix, result.error));
    return undefined;
}

/** Pulumi hands structured config values over as JSON text; files hand over objects. */
function decodeConfigValue(key: string, value: unknown, problems: string[]): unknown {
    if (typeof value !== "string") return value;
    try {
        return JSON.parse(value);
    } catch {
        problems.push(`${key}: must be a structured value (a YAML map or list), got the text ${JSON.stringify(value)}`);
        return undefined;
    }
}

/**
 * Validates a stack's whole config map (keys like "istio-sticky:apps"), as
 * `pulumi.runtime.allConfig()` or a `Pulumi.<stack>.yaml` gives it.
 * Keys of other namespaces (kubernetes:context, …) are left alone.
 */
export function parseStackConfig(config: Readonly<Record<string, unknown>>): Checked<StackSettings> {
    const problems: string[] = [];
    for (const key of Object.keys(config)) {
        if (key.startsWith(`${CONFIG_NAMESPACE}:`) && !KNOWN_KEYS.includes(key)) {
            problems.push(`${key}: unknown config key (allowed: ${KNOWN_KEYS.join(", ")})`);
        }
    }
    const rawMesh = decodeConfigValue(MESH_KEY, config[MESH_KEY] ?? {}, problems);
    const rawApps = decodeConfigValue(APPS_KEY, config[APPS_KEY], problems);
    if (rawApps === undefined && !(APPS_KEY in config)) {
        problems.push(`${APPS_KEY}: is required (a list of apps, each with at least a name)`);
    }
    const mesh = parseWith(meshSchema, rawMesh, MESH_KEY, problems);
    const apps =
        rawApps === undefined
            ? undefined
            : parseWith(z.array(appSchema, { error: "must be a list of apps" }).min(1, { message: "must list at least one app" }), rawApps, APPS_KEY, problems);
    if (mesh && apps) {
        const checked = checkStack({ mesh, apps }, { mesh: MESH_KEY, apps: APPS_KEY });
        problems.push(...checked.problems);
        if (problems.length === 0) return { value: { mesh, apps }, warnings: checked.warnings };
    }
    throw new SettingsError(problems);
}

/** Validates one mesh's settings (component args). */
export function parseMesh(raw: unknown, where: string): MeshSettings {
    const problems: string[] = [];
    const mesh = parseWith(meshSchema, raw ?? {}, where, problems);
    if (!mesh) throw new SettingsError(problems);
    return mesh;
}

/** Validates one app's settings (component args). */
export function parseApp(raw: unknown, where: string): Checked<AppSettings> {
    const problems: string[] = [];
    const app = parseWith(appSchema, raw, where, problems);
    if (!app) throw new SettingsError(problems);
    const checked = checkApp(app, where, undefined);
    if (checked.problems.length) throw new SettingsError(checked.problems);
    return { value: app, warnings: checked.warnings };
}

interface Findings {
    problems: string[];
    warnings: string[];
}

function checkApp(app: AppSettings, where: string, mesh: MeshSettings | undefined, meshWhere = "mesh"): Findings {
    const problems: string[] = [];
    const warnings: string[] = [];
    const a = app.affinity;
    if (RESERVED_NAMESPACES.includes(app.namespace)) {
        problems.push(`${where}.namespace: "${app.namespace}" is reserved; give the app a namespace of its own`);
    }
    if (mesh && app.namespace === mesh.gateway.namespace) {
        problems.push(`${where}.namespace: "${app.namespace}" is the gateway's namespace (${meshWhere}.gateway.namespace); give the app a namespace of its own`);
    }
    if (a.mode === AffinityMode.Cookie && a.cookie && a.cookie.ttl === undefined) {
        warnings.push(
            `${where}.affinity.cookie.ttl is not set: Envoy only hashes a "${a.cookie.name}" cookie the client already has, ` +
                `so new clients are not sticky until the app sets it (set a ttl, "0s" for a session cookie, to have Envoy set it)`,
        );
    }
    if (mesh && a.cookie && a.cookie.attributes.length > 0) {
        const v = parseVersion(mesh.version);
        if (v && compareMinor(v, COOKIE_ATTRIBUTES_MINOR.major, COOKIE_ATTRIBUTES_MINOR.minor) < 0) {
            problems.push(
                `${where}.affinity.cookie.attributes: need Istio ${COOKIE_ATTRIBUTES_MINOR.major}.${COOKIE_ATTRIBUTES_MINOR.minor} or newer (${meshWhere}.version is ${mesh.version})`,
            );
        }
    }
    if (app.autoscaling && isHashMode(a.mode)) {
        warnings.push(
            `${where}.autoscaling: with hash mode "${a.mode}" each scale event moves about 1/N of the sessions to other pods; ` +
                `mode persistentCookie or persistentHeader keeps them`,
        );
    }
    if (app.autoscaling?.minReplicas === 1) {
        warnings.push(`${where}.autoscaling.minReplicas is 1: the PodDisruptionBudget (minAvailable 1) then blocks node drains while a single pod runs; use 2 or more`);
    }
    if (mesh && a.mode === AffinityMode.SourceIp && mesh.gateway.serviceType !== GatewayServiceType.ClusterIP) {
        warnings.push(
            `${where}.affinity.mode "sourceIp": behind a ${mesh.gateway.serviceType} Service the gateway may see a node or load-balancer address ` +
                `instead of the client's; set ${meshWhere}.values.gateway.service.externalTrafficPolicy to "Local" to keep client addresses`,
        );
    }
    return { problems, warnings };
}

/** Checks that look at the apps together and at the mesh they run on. */
export function checkStack(stack: StackSettings, where: { mesh: string; apps: string }): Findings {
    const problems: string[] = [];
    const warnings: string[] = [];
    stack.apps.forEach((app, i) => {
        const at = `${where.apps}[${i}]`;
        const own = checkApp(app, at, stack.mesh, where.mesh);
        problems.push(...own.problems);
        warnings.push(...own.warnings);
        for (let j = 0; j < i; j++) {
            const other = stack.apps[j];
            if (other.name === app.name) {
                problems.push(`${at}.name: "${app.name}" is already used by ${where.apps}[${j}]`);
            }
            if (other.path === app.path) {
                if (!other.match && !app.match) {
                    problems.push(
                        `${at}.path: "${app.path}" is already used by ${where.apps}[${j}]; give one of them a match to route by header, or a path of its own`,
                    );
                } else if (other.match && app.match && headerMatchesOverlap(other.match.headers, app.match.headers)) {
                    problems.push(
                        `${at}.match: overlaps ${where.apps}[${j}].match on path "${app.path}": a request with headers ` +
                            `${JSON.stringify({ ...other.match.headers, ...app.match.headers })} would match both`,
                    );
                }
            } else if (pathsOverlap(other.path, app.path)) {
                problems.push(
                    `${at}.path: "${app.path}" overlaps ${where.apps}[${j}].path "${other.path}" on the shared gateway; give each app a prefix of its own`,
                );
            }
        }
    });
    return { problems, warnings };
}
