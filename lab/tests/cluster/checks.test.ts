/** The harness's own checks, on objects made here: they must see a missing field, a changed value and a leftover. */
import { strict as assert } from "assert";
import { missingFields } from "../../cluster/checks";
import { plannedSteps } from "../../cluster/pulumi";
import { projectCopy } from "../../cluster/project";
import * as fs from "fs";
import * as path from "path";

describe("the cluster harness's checks", () => {
    it("takes a live object that contains the rendered one, defaults added, and names what differs or is missing", () => {
        const rendered = {
            spec: { type: "ClusterIP", ports: [{ port: 80, appProtocol: "http" }], selector: { app: "a" } },
        };
        const live = {
            spec: {
                type: "ClusterIP",
                clusterIP: "10.96.0.10",
                ports: [{ port: 80, appProtocol: "http", protocol: "TCP" }],
                selector: { app: "a" },
            },
        };
        assert.deepEqual(missingFields(rendered, live), []);
        assert.deepEqual(missingFields(rendered, { spec: { ...live.spec, ports: [{ port: 80 }] } }), [
            'spec.ports[0].appProtocol: want "http", have undefined',
        ]);
        assert.deepEqual(missingFields(rendered, { spec: { ...live.spec, selector: undefined } }), [
            "spec.selector: missing",
        ]);
    });

    it("reads the operations of a preview by resource name", () => {
        const json = JSON.stringify({
            steps: [
                {
                    op: "same",
                    urn: "urn:pulumi:cluster::istio-sticky::istio-sticky:index:StickySessions$kubernetes:core/v1:Namespace::sticky-ns-sticky",
                },
                {
                    op: "create",
                    urn: "urn:pulumi:cluster::istio-sticky::istio-sticky:index:StickySessions$istio-sticky:index:StickyApp$kubernetes:apps/v1:Deployment::sticky-carts-deployment",
                },
            ],
        });
        assert.deepEqual(plannedSteps(json), [
            { op: "same", name: "sticky-ns-sticky", type: "kubernetes:core/v1:Namespace" },
            { op: "create", name: "sticky-carts-deployment", type: "kubernetes:apps/v1:Deployment" },
        ]);
    });

    it("copies the program with its state in the copy, never in the repository", () => {
        const p = projectCopy();
        try {
            const yaml = fs.readFileSync(path.join(p.dir, "Pulumi.yaml"), "utf8");
            assert.match(yaml, new RegExp(`url: file://${p.state}`));
            assert.ok(
                fs.existsSync(path.join(p.dir, "components", "index.ts")) &&
                    fs.existsSync(path.join(p.dir, "dist", "app", "server.js")),
            );
            p.writeStack("cluster", { "istio-sticky:apps": [{ name: "a" }] });
            assert.match(
                fs.readFileSync(path.join(p.dir, "stacks", "Pulumi.cluster.yaml"), "utf8"),
                /^config:\n  istio-sticky:apps:\n    - name: a\n/,
            );
        } finally {
            p.remove();
        }
        assert.ok(!fs.existsSync(p.dir));
    });
});
