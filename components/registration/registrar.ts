import * as pulumi from "@pulumi/pulumi";
import { isKnown } from "./known";
import type { K8sObject } from "../manifests/types";
import { buildEntry, Entry, PlannedObject, PlannedRead, ReadEntry, ReadTarget } from "../plan/types";
import type { IngressAddress } from "../outputs/ingress";
import type { PodAddress } from "../outputs/pods";
import { registerObject } from "./objects";
import { withExternal } from "./dependsOn";
import { readGatewayService, readReadyPods } from "./reads";

/**
 * Turns planned objects and reads into resources: the one place resources are
 * created. Each is registered under its planned key, parented to the component
 * that owns it, and waits for the resources its planned keys name (which must
 * be registered before it) and for `external`, resources outside the plan.
 */
export class Registrar {
    private readonly byKey: Map<string, pulumi.Resource>;

    constructor(inherited: ReadonlyMap<string, pulumi.Resource> = new Map()) {
        this.byKey = new Map(inherited);
    }

    /** Every resource registered here (and inherited), by planned key. */
    get resources(): ReadonlyMap<string, pulumi.Resource> {
        return this.byKey;
    }

    private waits(key: string, keys: readonly string[]): pulumi.Resource[] {
        return keys.map((k) => {
            const r = this.byKey.get(k);
            if (!r) throw new Error(`${key} waits for ${k}, which is not registered (yet): the plan is out of order`);
            return r;
        });
    }

    private add<R extends pulumi.Resource>(key: string, r: R): R {
        if (this.byKey.has(key)) throw new Error(`${key} is planned twice`);
        this.byKey.set(key, r);
        return r;
    }

    /**
     * Registers entries whose settings may still be Outputs: the type and waits are known now, the objects once `input` resolves.
     * Each also waits for `external` (a component's own `dependsOn`, in any form Pulumi takes it).
     */
    entries<S>(
        entries: readonly Entry<S>[],
        input: pulumi.Input<S>,
        parent: pulumi.Resource,
        external?: pulumi.ResourceOptions["dependsOn"],
    ): void {
        for (const e of entries) {
            const object: pulumi.Input<K8sObject> = isKnown(input)
                ? buildEntry(e, input)
                : pulumi.output(input).apply((s) => buildEntry(e, s as S));
            this.add(
                e.key,
                registerObject(e.key, e.type, object, {
                    parent,
                    dependsOn: withExternal(this.waits(e.key, e.dependsOn), external),
                }),
            );
        }
    }

    /** Registers planned objects, all known. */
    objects(objects: readonly PlannedObject[], parent: pulumi.Resource): void {
        for (const o of objects) {
            const type = { apiVersion: o.object.apiVersion, kind: o.object.kind, ...(o.patch ? { patch: true } : {}) };
            this.add(
                o.key,
                registerObject(o.key, type, o.object, { parent, dependsOn: this.waits(o.key, o.dependsOn) }),
            );
        }
    }

    gatewayService(
        read: Pick<PlannedRead, "key" | "dependsOn">,
        target: pulumi.Input<ReadTarget>,
        parent: pulumi.Resource,
    ): pulumi.Output<IngressAddress> {
        return readGatewayService(read.key, target, this.waits(read.key, read.dependsOn), { parent });
    }

    readyPods(
        read: Pick<PlannedRead, "key" | "dependsOn">,
        target: pulumi.Input<ReadTarget>,
        parent: pulumi.Resource,
    ): pulumi.Output<PodAddress[]> {
        const after = this.waits(read.key, read.dependsOn) as pulumi.CustomResource[];
        return readReadyPods(read.key, target, after, { parent });
    }

    /** The read of a part, its target built from settings that may still be Outputs. */
    readOf<S>(read: ReadEntry<S>, input: pulumi.Input<S>): pulumi.Input<ReadTarget> {
        return isKnown(input) ? read.target(input) : pulumi.output(input).apply((s) => read.target(s as S));
    }
}
