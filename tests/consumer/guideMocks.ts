/**
 * Pulumi's mocks exactly as its unit-testing guide writes them (docs/iac/guides/testing/unit:
 * every resource's state is its inputs), for the consumer's programs in the scratch project. What
 * was registered is read off the mock monitor, which the mocks themselves do not report.
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registration {
    type: string;
    name: string;
    parent: string;
    custom: boolean;
    inputs: Record<string, any>;
}

/** Sets the guide's mocks and returns the list every registration is added to. */
export function useGuideMocks(): Registration[] {
    const registered: Registration[] = [];
    const byName = new Map<string, Registration>();
    pulumi.runtime.setMocks(
        {
            newResource: function (args: pulumi.runtime.MockResourceArgs): { id: string; state: any } {
                const r = byName.get(`${args.type}::${args.name}`);
                if (r) r.inputs = args.inputs;
                return {
                    id: args.inputs.name + "_id",
                    state: args.inputs,
                };
            },
            call: function (args: pulumi.runtime.MockCallArgs) {
                return args.inputs;
            },
        },
        "project",
        "stack",
        false, // Sets the flag `dryRun`, which indicates if pulumi is running in preview mode.
    );
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        const parent: string = req.getParent() ?? "";
        const r = {
            type: req.getType(),
            name: req.getName(),
            parent: parent.slice(parent.lastIndexOf("::") + 2),
            custom: req.getCustom(),
            inputs: {},
        };
        registered.push(r);
        byName.set(`${r.type}::${r.name}`, r);
        return register(req, callback);
    };
    return registered;
}

/** Waits until no registration has arrived for a few turns of the event loop (at most about 10 s). */
export async function settled(registered: readonly Registration[]): Promise<void> {
    let last = -1;
    for (let i = 0, stable = 0; i < 2000 && stable < 10; i++) {
        await new Promise((r) => setTimeout(r, 5));
        stable = registered.length === last ? stable + 1 : 0;
        last = registered.length;
    }
}
