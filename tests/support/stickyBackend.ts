/** A sticky ingress on 127.0.0.1: three demo apps that count sessions by x-user, behind nginx hashing on that header. */
import { startDemoApp, RunningApp } from "./demoApp";
import { startNginx } from "./proxies";

export interface StickyBackend {
    /** The proxy's URL, ending in "/". */
    url: string;
    /** The same without the "/": a base URL, as $INGRESS holds it. */
    base: string;
    pods: RunningApp[];
    stop(): Promise<void>;
}

export async function startStickyBackend(podPrefix = "pod"): Promise<StickyBackend> {
    const pods = await Promise.all(
        [1, 2, 3].map((i) =>
            startDemoApp({ POD_NAME: `${podPrefix}-${i}`, SESSION_SOURCE: "header", SESSION_KEY: "x-user" }),
        ),
    );
    const proxy = await startNginx(
        pods.map((p) => Number(new URL(p.url).port)),
        "hash $http_x_user consistent;",
    );
    return {
        url: proxy.url,
        base: proxy.url.replace(/\/$/, ""),
        pods,
        stop: async () => {
            await proxy.stop();
            await Promise.all(pods.map((p) => p.stop()));
        },
    };
}
