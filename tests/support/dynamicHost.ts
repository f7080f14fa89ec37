/**
 * Pulumi's Node.js dynamic-provider host, run as the engine runs it: its own process
 * (`@pulumi/pulumi/cmd/dynamic-provider`, the engine's address as its argument), started in
 * the project folder, printing the port of its ResourceProvider gRPC service. Requests carry
 * a resource's inputs with its serialized provider (`__provider`) and secrets unwrapped, as
 * the engine sends them to a provider that does not accept secrets.
 */
import { spawn, ChildProcess } from "child_process";
import { createRequire } from "module";
import * as readline from "readline";
import { PROJECT_DIR } from "../../cli/stackFiles";

// The gRPC runtime and stubs @pulumi/pulumi ships, so message classes are the stubs' own.
const fromPulumi = createRequire(require.resolve("@pulumi/pulumi/package.json"));
const grpc = fromPulumi("@grpc/grpc-js");
const struct = fromPulumi("google-protobuf/google/protobuf/struct_pb");
const rpc = fromPulumi("@pulumi/pulumi/proto/provider_grpc_pb");
const messages = fromPulumi("@pulumi/pulumi/proto/provider_pb");
const HOST = fromPulumi.resolve("@pulumi/pulumi/cmd/dynamic-provider");

/** The marker Pulumi wraps a secret value in (rpc.specialSigKey / specialSecretSig). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A value as the engine hands it to a provider that does not accept secrets: every secret unwrapped. */
export function withoutSecrets(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(withoutSecrets);
    if (v !== null && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (SECRET_SIG in o) return withoutSecrets(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, withoutSecrets(x)]));
    }
    return v;
}

export interface DynamicHost {
    create(
        type: string,
        name: string,
        inputs: Record<string, unknown>,
    ): Promise<{ id: string; outs: Record<string, any> }>;
    read(type: string, name: string, id: string, state: Record<string, unknown>): Promise<Record<string, any>>;
    /** What the host wrote to stderr. */
    stderr(): string;
    close(): void;
}

/** Starts the host with `env` over this process's environment; bounded by `timeoutMs` to come up. */
export async function startDynamicHost(
    env: Record<string, string | undefined>,
    timeoutMs = 20_000,
): Promise<DynamicHost> {
    const child: ChildProcess = spawn(process.execPath, [HOST, "127.0.0.1:1"], {
        cwd: PROJECT_DIR,
        env: { ...process.env, PULUMI_NODEJS_PROJECT: "istio-sticky", ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let errors = "";
    child.stderr!.on("data", (d) => (errors += d));
    const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
            () => reject(new Error(`the dynamic-provider host did not start within ${timeoutMs} ms: ${errors}`)),
            timeoutMs,
        );
        readline.createInterface({ input: child.stdout! }).once("line", (l) => {
            clearTimeout(timer);
            resolve(Number(l.trim()));
        });
        child.once("exit", (code) => reject(new Error(`the dynamic-provider host exited (${code}): ${errors}`)));
    });
    const client = new rpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = <R>(method: string, request: unknown): Promise<R> =>
        new Promise((resolve, reject) =>
            client[method](request, { deadline: Date.now() + 30_000 }, (e: Error | null, r: R) =>
                e ? reject(new Error((e as any).details ?? e.message)) : resolve(r),
            ),
        );
    const configure = new messages.ConfigureRequest();
    configure.setArgs(struct.Struct.fromJavaScript({}));
    await call("configure", configure);
    const urn = (type: string, name: string) => `urn:pulumi:test::istio-sticky::${type}::${name}`;
    return {
        async create(type, name, inputs) {
            const req = new messages.CreateRequest();
            req.setUrn(urn(type, name));
            req.setProperties(struct.Struct.fromJavaScript(withoutSecrets(inputs)));
            const res: any = await call("create", req);
            return { id: res.getId(), outs: res.getProperties().toJavaScript() };
        },
        async read(type, name, id, state) {
            const req = new messages.ReadRequest();
            req.setId(id);
            req.setUrn(urn(type, name));
            req.setProperties(struct.Struct.fromJavaScript(withoutSecrets(state)));
            const res: any = await call("read", req);
            return res.getProperties().toJavaScript();
        },
        stderr: () => errors,
        close() {
            client.close();
            child.kill();
        },
    };
}
